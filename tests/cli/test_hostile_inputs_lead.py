"""Odd inputs from issue 11 that end as one clean line or a usable result (the lead's part)."""

import numpy as np
import pretty_midi

from genseq.core.motion import MotionClip, save_clip
from genseq.motion.skeleton import LANDMARKS
from tests.conftest import run_cli, write_tune


def one_error_line(err: str, *needles: str) -> bool:
    lines = err.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("genseq: error:") and all(n in lines[0] for n in needles)


def test_a_clip_of_nan_positions_is_refused_before_rendering(tmp_path, capsys):
    positions = np.full((20, 33, 3), np.nan, dtype=np.float32)
    save_clip(MotionClip(positions, np.ones((20, 33), bool), 30.0, list(LANDMARKS)), tmp_path / "nan.npz")
    code, _, err = run_cli(["render", "dance", tmp_path / "nan.npz", "--out", tmp_path / "nan.mp4"], capsys)
    assert code == 2 and one_error_line(err, "nan.npz", "no valid joint")
    assert not (tmp_path / "nan.mp4").exists()


def test_a_clip_with_no_valid_joint_is_refused(tmp_path, capsys):
    save_clip(MotionClip(np.zeros((20, 33, 3)), np.zeros((20, 33), bool), 30.0, list(LANDMARKS)), tmp_path / "none.npz")
    code, _, err = run_cli(["generate", "dance", "--primer", tmp_path / "none.npz", "--out", tmp_path / "d.mp4",
                            "--seconds", "1"], capsys)
    assert code == 2 and one_error_line(err, "none.npz", "no valid joint")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["none.npz"]


def test_a_broken_symlink_and_an_empty_folder_say_what_they_are(tmp_path, capsys):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    code, _, err = run_cli(["extract", "music", tmp_path / "loop", "--out", tmp_path / "d.npz"], capsys)
    assert code == 2 and one_error_line(err, "loop", "symbolic link")
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(["extract", "music", tmp_path / "empty", "--out", tmp_path / "d.npz"], capsys)
    assert code == 2 and one_error_line(err, "empty", "no MIDI files or recordings found")


def test_extract_says_the_file_it_wrote(tmp_path, capsys):
    write_tune(tmp_path / "t.mid", [(60 + i, i * 0.5, i * 0.5 + 0.5) for i in range(8)])
    code, _, err = run_cli(["extract", "music", tmp_path / "t.mid", "--out", tmp_path / "ro"], capsys)
    assert code == 0 and err.strip().endswith(f"wrote {tmp_path / 'ro.npz'}") and (tmp_path / "ro.npz").exists()


def test_a_primer_with_an_absurd_tempo_still_gives_a_usable_piece(tmp_path, capsys):
    import mido

    primer = tmp_path / "fast.mid"
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=1, time=0)])  # 1 µs a quarter note
    for index in range(8):
        track += [mido.Message("note_on", note=60 + index % 5, velocity=80, time=0),
                  mido.Message("note_off", note=60 + index % 5, velocity=0, time=480)]
    mido.MidiFile(tracks=[track], ticks_per_beat=480).save(primer)
    code, _, err = run_cli(["generate", "music", "--primer", primer, "--out", tmp_path / "gen", "--bars", "2",
                            "--no-wav", "--no-png"], capsys)
    assert code == 0, err
    length = pretty_midi.PrettyMIDI(str(tmp_path / "gen" / "sample_000.mid")).get_end_time()
    assert length > 0.01  # at most 1000 quarters a minute: two bars last at least 0.48 s when notes reach the end


def test_greedy_sampling_that_writes_only_silence_is_refused_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    import genseq.music.generate as generate

    monkeypatch.setattr(generate, "sample_steps", lambda *args, **kwargs: np.zeros((1, 40), dtype=np.int64))  # rests
    code, _, err = run_cli(["generate", "music", "--temperature", "0", "--out", tmp_path / "new" / "deep", "--bars", "2"],
                           capsys)
    assert code == 2 and one_error_line(err, "--temperature", "silent")
    assert not (tmp_path / "new").exists()


def test_the_same_data_written_another_way_resumes(tmp_path, capsys, monkeypatch):
    """Resuming compares the split and the pieces, not how the data path was written."""
    from tests.conftest import REPO, SCALE

    (tmp_path / "tunes").mkdir()
    for index in range(3):
        write_tune(tmp_path / "tunes" / f"t{index}.mid", [(p + index, a, b) for p, a, b in SCALE])
    monkeypatch.chdir(tmp_path)
    common = ["--out", tmp_path / "run", "--config", REPO / "configs" / "tiny.yaml", "--device", "cpu"]
    code, _, err = run_cli(["train", "music", "--data", "tunes", "--epochs", "1", *common], capsys)
    assert code == 0, err
    code, _, err = run_cli(["train", "music", "--data", tmp_path / "tunes", "--epochs", "2", *common], capsys)
    assert code == 0, err
