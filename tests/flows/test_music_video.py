"""The music video: the flow is served with the others, its form is MusicVideoOptions (a song, or
empty for a new melody), a missing song is one clean error, and (slow) a real dance to a short song
is one H.264 + AAC MP4 whose sound starts with the first frame and lasts as long as the song."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

from genseq.core.errors import GenseqError
from genseq.core.ffmpeg import ffmpeg_exe
from genseq.core.options import GenerateDanceOptions, MusicVideoOptions
from genseq.core.paths import assets_dir
from tests.conftest import write_tune

# assets_dir() / name, not bundled_checkpoint(name): that one raises when the file is missing, so the skip could not happen
needs_dance_model = pytest.mark.skipif(not (assets_dir() / "dance.pt").is_file(), reason="the bundled dance model is absent")


def test_the_flow_is_served_with_a_song_or_a_new_melody():
    from flows.music_video import music_video_flow
    from flows.serve import DESCRIPTIONS, FLOWS

    assert music_video_flow in FLOWS["dance"] and "music-video" in DESCRIPTIONS
    assert music_video_flow.name == "music-video"
    assert MusicVideoOptions().song is None and MusicVideoOptions().style == "figure"


def test_a_missing_song_is_one_clean_error(tmp_path):
    from genseq.compose.dance_to_music import generate_and_render_to_music

    with pytest.raises(GenseqError, match="no such file"):
        generate_and_render_to_music(GenerateDanceOptions(out=str(tmp_path / "v.mp4"), music=str(tmp_path / "song.wav")))
    assert not (tmp_path / "v.mp4").exists()


def streams(path) -> dict:
    text = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    video = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:v", "-f", "null", "-"],
                           capture_output=True, text=True).stderr
    audio = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a", "-ac", "1", "-ar", "44100",
                            "-f", "s16le", "-"], capture_output=True).stdout
    first = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:a", "-af", "ashowinfo",
                            "-frames:a", "1", "-f", "null", "-"], capture_output=True, text=True).stderr
    return {"text": text, "frames": int(re.findall(r"frame=\s*(\d+)", video)[-1]), "audio_seconds": len(audio) / 2 / 44100,
            "audio_start": float(re.search(r"pts_time:\s*([-\d.]+)", first).group(1))}


@pytest.mark.slow
@needs_dance_model
def test_a_dance_to_a_short_song_is_one_music_video(tmp_path):
    from genseq.compose.dance_to_music import generate_and_render_to_music
    from genseq.music.beats import audio_seconds

    notes = [(60 + i % 7, i * 0.5, i * 0.5 + 0.4) for i in range(10)]  # five seconds of quarters at 120 qpm
    song = write_tune(tmp_path / "song.mid", notes)
    out = tmp_path / "video.mp4"
    written = generate_and_render_to_music(GenerateDanceOptions(out=str(out), music=str(song), size=96))
    assert written == [out, out.with_suffix(".png")]
    found = streams(out)
    assert "Video: h264" in found["text"] and "Audio: aac" in found["text"] and "yuv420p" in found["text"]
    from genseq.compose.dance_to_music import song_for_dance

    with song_for_dance(song) as (beats, wav):
        seconds = audio_seconds(wav)
    assert abs(found["frames"] / 30 - seconds) <= 1 / 30 + 1e-6
    assert abs(found["audio_seconds"] - seconds) <= 1 / 30 + 1e-6
    assert found["audio_start"] == pytest.approx(0.0, abs=1e-3)
    assert np.isfinite(beats.qpm)


@pytest.mark.slow
@needs_dance_model
def test_without_a_song_the_music_video_dances_to_a_new_melody(tmp_path):
    from genseq.compose.dance_to_music import make_music_video

    written = make_music_video(MusicVideoOptions(out=str(tmp_path)))
    names = {p.name for p in written}
    assert "music_video.mp4" in names and any(n.endswith(".mid") for n in names) and any(n.endswith(".wav") for n in names)
    found = streams(tmp_path / "music_video.mp4")
    assert "Audio: aac" in found["text"] and abs(found["frames"] / 30 - found["audio_seconds"]) <= 1 / 30 + 1e-6
