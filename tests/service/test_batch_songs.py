"""A folder of songs in one command: one music video per song (named after it), run and reported as
manifest rows are, with one set of parameters for every row; bad folders and parameters refused whole."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from genseq.core.errors import GenseqError
from genseq.core.ffmpeg import describe_media
from genseq.core.loudness import ffmpeg_loudness
from genseq.service.scheduler import run_batch
from genseq.service.songs import plan_songs, song_rows
from tests.conftest import run_cli
from tests.service.conftest import needs_dance


def write_song(path, seconds=4.0, rate=22050, level=0.05):
    clicks = np.zeros(int(rate * seconds), dtype=np.float32)
    clicks[:: rate // 2] = 0.9  # a click every half second: 120 beats a minute
    tone = level * np.sin(2 * np.pi * 220 * np.arange(len(clicks)) / rate)
    soundfile.write(path, np.convolve(clicks, np.hanning(200), "same") + tone, rate)
    return path


def test_one_row_per_song_named_after_it(tmp_path):
    for name in ("b.wav", "a.flac", "a.wav", "c.mid"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not a song")
    (tmp_path / ".hidden.wav").write_bytes(b"x")
    rows = song_rows(tmp_path, "size=vertical;theme=neon")
    assert [r["output"] for r in rows] == ["a-flac.mp4", "a-wav.mp4", "b.mp4", "c.mp4"]
    assert all(r["kind"] == "dance" and r["parameters"]["size"] == "vertical" and r["parameters"]["theme"] == "neon"
               for r in rows)
    assert rows[2]["parameters"]["music"] == str((tmp_path / "b.wav").resolve()) and [r["row"] for r in rows] == [1, 2, 3, 4]


def test_bad_folders_and_parameters_are_refused_whole(tmp_path):
    with pytest.raises(GenseqError, match="no such folder of songs"):
        song_rows(tmp_path / "missing")
    with pytest.raises(GenseqError, match="no songs here"):
        song_rows(tmp_path)
    write_song(tmp_path / "one.wav")
    with pytest.raises(GenseqError, match="music is its song"):
        song_rows(tmp_path, "music=other.wav")
    with pytest.raises(GenseqError, match="theme must be"):
        plan_songs(tmp_path, tmp_path / "out", "theme=plaid")
    with pytest.raises(GenseqError, match="expected key=value"):
        song_rows(tmp_path, "size")
    assert not (tmp_path / "out").exists()


def test_the_command_wants_a_manifest_or_songs(tmp_path, capsys):
    code, _, err = run_cli(["batch", "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and "give a manifest or --songs" in err
    code, _, err = run_cli(["batch", "--songs", str(tmp_path / "none"), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and err.strip().splitlines() == [f"genseq: error: {tmp_path / 'none'}: no such folder of songs"]


def planned(songs, root, parameters, assets):
    plan = plan_songs(songs, root, parameters)
    for job in plan.jobs:
        job.checkpoint = str(assets / "dance.pt")  # the tiny model of the service tests
    return plan


@pytest.mark.slow  # two dances on the tiny model and librosa's first beat tracking: about 20 s on 2 busy cores
@needs_dance
def test_a_music_video_per_song(assets, tmp_path):
    songs = tmp_path / "songs"
    songs.mkdir()
    write_song(songs / "first.wav")
    write_song(songs / "second.ogg", level=0.2)
    parameters = "size=96x160;seconds=2;whole_song=false;preview=false;cover=false"
    report = run_batch(planned(songs, tmp_path / "videos", parameters, assets), tmp_path / "videos", workers=1, runner="thread")
    assert [r.status for r in report.results] == ["done", "done"], report.table()
    for name in ("first", "second"):
        video = tmp_path / "videos" / f"{name}.mp4"
        info = describe_media(video)
        assert (info["width"], info["height"], info["audio_codec"], info["audio_rate"]) == (96, 160, "aac", 48000)
        loudness = ffmpeg_loudness(video)
        assert abs(loudness["lufs"] + 14) <= 1 and loudness["true_peak_dbtp"] <= -1, loudness
    again = run_batch(planned(songs, tmp_path / "videos", parameters, assets), tmp_path / "videos", workers=1, runner="thread")
    assert again.count("skipped") == 2  # complete videos of the same songs are not made again


def test_a_rows_background_picture_is_read_beside_the_manifest(tmp_path):
    from genseq.service.jobs import background_of
    from genseq.service.manifest import validate_row

    row = {"row": 1, "kind": "dance", "output": "a.mp4", "parameters": {"background": "walls/brick.jpg"}}
    assert background_of(validate_row(row, str(tmp_path))) == str(tmp_path / "walls" / "brick.jpg")
    row["parameters"]["background"] = "10,20,30"
    assert background_of(validate_row(row, str(tmp_path))) == "10,20,30"
