"""Audio transcription: every recording here is made by the test (a MIDI melody rendered with
fluidsynth, or numpy noise/silence), since librosa's example audio needs the internet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from genseq.core.errors import GenseqError
from genseq.music.midi import read_midi
from tests.conftest import write_tune

BPM = 100.0
BEAT = 60.0 / BPM
# (pitch, start beat, length in beats): 13 notes, with two pairs of repeated pitches (64 64, 67 67)
MELODY = [(60, 0, 1), (62, 1, 1), (64, 2, 0.5), (64, 2.5, 0.5), (65, 3, 1), (67, 4, 1.5), (65, 5.5, 0.5),
          (64, 6, 1), (62, 7, 1), (60, 8, 1), (67, 9, 0.5), (67, 9.5, 0.5), (72, 10, 2)]
TRUE_ONSETS = np.array([start * BEAT for _, start, _ in MELODY])


def fluidsynth_missing() -> str | None:
    from genseq.music.render import fluidsynth_problem

    return fluidsynth_problem()


@pytest.fixture(scope="module")
def melody_wav(tmp_path_factory) -> Path:
    problem = fluidsynth_missing()
    if problem is not None:
        pytest.skip(f"cannot render test audio: {problem}")
    from genseq.music.render import synthesize, write_wav

    folder = tmp_path_factory.mktemp("audio")
    notes = [(pitch, start * BEAT, (start + length) * BEAT) for pitch, start, length in MELODY]
    midi = write_tune(folder / "melody.mid", notes, tempo=BPM)
    return write_wav(synthesize(midi), folder / "melody.wav")


@pytest.fixture(scope="module")
def transcribed(melody_wav):
    from genseq.music.audio import transcribe_audio

    progress = []
    sequence = transcribe_audio(melody_wav, steps_per_quarter=4, on_progress=lambda done, total: progress.append((done, total)))
    return sequence, progress


def test_rendered_melody_is_recovered(transcribed):
    sequence, progress = transcribed
    pitches = sequence.notes[:, 0].tolist()
    assert pitches == [pitch for pitch, _, _ in MELODY]  # right pitches, right order, repeats kept apart
    assert sequence.name == "melody" and set(sequence.notes[:, 4].tolist()) == {0}
    assert sequence.steps_per_quarter == 4 and sequence.time_signatures == [(0, 4, 4)]
    assert np.all(sequence.notes[1:, 2] >= sequence.notes[:-1, 3])  # monophonic, no overlaps
    assert np.all((sequence.notes[:, 1] >= 1) & (sequence.notes[:, 1] <= 127))
    assert progress and progress[-1][0] == pytest.approx(progress[-1][1])


def test_tempo_is_estimated_not_fixed(transcribed):
    sequence, _ = transcribed
    # beat_track may lock onto half or double the tempo (its prior centres on 120 bpm); accept an
    # integer ratio, but here it should find the real one
    ratios = [BPM * r for r in (0.5, 1.0, 2.0)]
    assert any(abs(sequence.qpm - r) <= 0.05 * r for r in ratios), sequence.qpm
    assert sequence.qpm != 120.0


def test_onsets_land_at_real_times(transcribed, tmp_path):
    import pretty_midi

    from genseq.music.midi import write_midi

    sequence, _ = transcribed
    onsets = sequence.notes[:, 2] * sequence.seconds_per_step
    assert np.abs(onsets - TRUE_ONSETS).max() < 0.05
    # written as MIDI at the estimated tempo, the notes sound at their real times
    written = pretty_midi.PrettyMIDI(str(write_midi(sequence, tmp_path / "out.mid")))
    starts = np.array([note.start for note in written.instruments[0].notes])
    assert np.abs(starts - TRUE_ONSETS).max() < 0.05


def encode_as(wav: Path, suffix: str) -> Path:
    """The recording re-encoded as users bring it: mp3, ogg (Vorbis) and flac through libsndfile,
    m4a (AAC) through the ffmpeg that imageio-ffmpeg ships."""
    import subprocess

    import imageio_ffmpeg
    import soundfile

    target = wav.with_suffix(suffix)
    if suffix == ".m4a":
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(wav), "-c:a", "aac", "-b:a", "128k",
                        str(target)], check=True)
    else:
        samples, rate = soundfile.read(str(wav))
        formats = {".mp3": ("MP3", "MPEG_LAYER_III"), ".ogg": ("OGG", "VORBIS"), ".flac": ("FLAC", "PCM_16")}
        soundfile.write(str(target), samples, rate, format=formats[suffix][0], subtype=formats[suffix][1])
    return target


@pytest.mark.parametrize("suffix", [".mp3", ".ogg", ".flac", ".m4a"])
def test_compressed_recordings_are_transcribed(melody_wav, suffix):
    from genseq.music.audio import transcribe_audio

    sequence = transcribe_audio(encode_as(melody_wav, suffix))
    assert sequence.notes[:, 0].tolist() == [pitch for pitch, _, _ in MELODY]


def test_a_truncated_m4a_is_not_audio(tmp_path):
    """A file libsndfile cannot read and ffmpeg cannot decode either: one line, no traceback."""
    from genseq.music.audio import transcribe_audio

    broken = tmp_path / "clip.m4a"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    with pytest.raises(GenseqError, match="not a readable audio file") as caught:
        transcribe_audio(broken)
    assert str(broken) in str(caught.value) and "\n" not in str(caught.value)


def write_samples(path: Path, samples: np.ndarray, sample_rate: int = 22050) -> Path:
    import soundfile

    soundfile.write(str(path), samples.astype(np.float32), sample_rate)
    return path


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing", "no such file"),
        ("empty", "empty file"),
        ("not_audio", "not a readable audio file"),
        ("silent", "no sound: the file is silent"),
        ("noise", "no pitched notes found"),
    ],
)
def test_bad_input_gives_one_line_error(tmp_path, case, message):
    from genseq.music.audio import transcribe_audio

    path = tmp_path / f"{case}.wav"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "not_audio":
        path.write_text("this is a text file, not audio\n" * 20)
    elif case == "silent":
        write_samples(path, np.zeros(22050 * 2))
    elif case == "noise":
        write_samples(path, 0.3 * np.random.default_rng(0).standard_normal(22050 * 2))
    with pytest.raises(GenseqError) as caught:
        transcribe_audio(path)
    text = str(caught.value)
    assert str(path) in text and message in text and "\n" not in text


def test_too_long_recording_is_refused(tmp_path, monkeypatch):
    from genseq.music import audio

    monkeypatch.setattr(audio, "MAX_SECONDS", 1)
    t = np.arange(22050 * 3) / 22050
    path = write_samples(tmp_path / "long.wav", 0.5 * np.sin(2 * np.pi * 440 * t))
    with pytest.raises(GenseqError, match="too long") as caught:
        audio.transcribe_audio(path)
    assert str(path) in str(caught.value)


def test_sine_tones_blocks_and_velocity(tmp_path, monkeypatch):
    """Pitch tracking in blocks (forced small here) still finds each tone; louder -> higher velocity."""
    from genseq.music import audio

    monkeypatch.setattr(audio, "BLOCK_SECONDS", 0.7)
    sr = 22050
    parts = []
    for freq, amp in [(440.0, 0.6), (0, 0), (523.25, 0.1), (0, 0)]:
        t = np.arange(int(0.5 * sr)) / sr
        parts.append(amp * np.sin(2 * np.pi * freq * t) * np.minimum(1, np.minimum(t, 0.5 - t) / 0.01))
    path = write_samples(tmp_path / "tones.flac", np.concatenate(parts))
    sequence = audio.transcribe_audio(path)
    assert sequence.notes[:, 0].tolist() == [69, 72]
    assert sequence.notes[0, 1] > sequence.notes[1, 1]


def test_cli_extracts_a_recording_and_continues_it(tmp_path, capsys):
    """`genseq extract music song.wav --write-midi` and `genseq generate music --primer hum.wav`."""
    from genseq.music.render import fluidsynth_problem, synthesize, write_wav
    from tests.conftest import REPO, run_cli, write_tune

    if fluidsynth_problem() is not None:
        pytest.skip(f"fluidsynth unavailable: {fluidsynth_problem()}")
    tune = write_tune(tmp_path / "hum.mid", [(60 + p, i * 0.6, i * 0.6 + 0.5) for i, p in enumerate([0, 2, 4, 5, 7, 5, 4, 2])],
                      tempo=100.0)
    wav = write_wav(synthesize(tune), tmp_path / "hum.wav")
    code, _, err = run_cli(["extract", "music", wav, "--out", tmp_path / "set" / "hum.npz", "--write-midi"], capsys)
    assert code == 0, err
    transcribed = read_midi(tmp_path / "set" / "hum.mid", 4)
    assert transcribed.notes[:, 0].tolist() == [60, 62, 64, 65, 67, 65, 64, 62]
    run = tmp_path / "run"
    code, _, err = run_cli(["train", "music", "--data", tmp_path / "set", "--out", run, "--config", REPO / "configs" / "tiny.yaml",
                            "--representation", "melody", "--steps-per-quarter", "4"], capsys)
    assert code != 0 and "need at least 2 usable pieces" in err  # one recording is not a corpus
    code, _, err = run_cli(["generate", "music", "--primer", wav, "--bars", "2", "--out", tmp_path / "gen"], capsys)
    assert code == 0, err
    continuation = read_midi(tmp_path / "gen" / "sample_000.mid", 4)
    assert abs(continuation.qpm - transcribed.qpm) < 0.5  # the primer's tempo carries over


def test_glides_wobbles_and_slivers_join_their_note():
    from genseq.music.audio import _merge_fragments

    # rows: [start frame, end frame, pitch, velocity, attacked]
    glide = [[0, 40, 79, 80, True], [40, 48, 77, 80, True], [48, 90, 76, 80, False]]
    assert _merge_fragments(glide, max_frames=10) == [[0, 40, 79, 80, True], [40, 90, 76, 80, True]]
    wobble = [[0, 40, 76, 80, True], [40, 46, 77, 80, False], [46, 90, 76, 80, False]]
    assert _merge_fragments(wobble, max_frames=10) == [[0, 90, 76, 80, True]]
    sliver = [[0, 40, 84, 80, True], [40, 45, 84, 80, True], [45, 90, 83, 80, True]]
    assert _merge_fragments(sliver, max_frames=10) == [[0, 45, 84, 80, True], [45, 90, 83, 80, True]]
    # a short note with its own attack between attacked notes is a real note (a fast run)
    run = [[0, 40, 79, 80, True], [40, 48, 77, 80, True], [48, 90, 76, 80, True]]
    assert _merge_fragments([row[:] for row in run], max_frames=10) == run
