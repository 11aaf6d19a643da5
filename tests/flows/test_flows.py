"""The Prefect flows run end to end against Prefect's temporary local server."""


import pytest

from tests.conftest import REPO, copy_nottingham, needs_nottingham


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    # cached task results go to a temporary folder, not the user's ~/.prefect/storage
    with temporary_settings({PREFECT_LOCAL_STORAGE_PATH: tmp_path_factory.mktemp("prefect-storage")}):
        with prefect_test_harness(server_startup_timeout=120):
            yield


@needs_nottingham
def test_music_pipeline_flow_completes(prefect_server, tmp_path):
    from flows.music_pipeline import MusicPipelineParams, music_pipeline

    data = copy_nottingham(tmp_path / "tunes", "valid", 6)
    params = MusicPipelineParams(data=[str(data)], work_dir=str(tmp_path / "work"), config=str(REPO / "configs" / "tiny.yaml"),
                                 representation="melody", epochs=1, bars=2, num_outputs=1)
    state = music_pipeline(params, return_state=True)
    assert state.is_completed()
    outputs = state.result()
    assert any(p.endswith(".mid") for p in outputs) and any(p.endswith(".wav") for p in outputs)
    assert (tmp_path / "work" / "run" / "best.pt").exists()


def test_extract_flow_transcribes_a_folder_of_recordings(prefect_server, tmp_path):
    from flows.extract import ExtractMusicParams, extract_music_flow
    from genseq.core.notes import load_sequences
    from genseq.music.render import fluidsynth_problem, synthesize, write_wav
    from tests.conftest import write_tune

    if fluidsynth_problem() is not None:
        pytest.skip(f"cannot render test audio: {fluidsynth_problem()}")
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    scale = [(60 + step, i * 0.5, i * 0.5 + 0.45) for i, step in enumerate([0, 2, 4, 5, 7, 9, 11, 12])]
    write_wav(synthesize(write_tune(tmp_path / "scale.mid", scale, tempo=120)), recordings / "scale.wav")
    (recordings / "notes.txt").write_text("not a recording, not picked up\n")
    out = tmp_path / "sung.npz"
    state = extract_music_flow(ExtractMusicParams(paths=[str(recordings)], out=str(out)), return_state=True)
    assert state.is_completed()
    (piece,) = load_sequences(out)
    assert piece.notes[:, 0].tolist() == [pitch for pitch, _, _ in scale]


def test_cache_keys_follow_genseq_source_code(tmp_path, monkeypatch):
    """Stage tasks key their cache on a digest of genseq's source: editing any module invalidates it."""
    import genseq
    from flows import tasks

    package = tmp_path / "genseq"
    (package / "music").mkdir(parents=True)
    (package / "__init__.py").write_text('__version__ = "0.1.0"\n')
    (package / "music" / "stages.py").write_text("STEPS = 1\n")
    monkeypatch.setattr(genseq, "__file__", str(package / "__init__.py"))
    monkeypatch.setattr(tasks, "genseq_source_digest", tasks.genseq_source_digest.__wrapped__)
    first = tasks.genseq_source_digest()
    assert tasks.genseq_source_digest() == first
    (package / "music" / "stages.py").write_text("STEPS = 2\n")
    assert tasks.genseq_source_digest() != first


def test_eval_samples_flow_compares_generated_with_real_pieces(prefect_server, tmp_path):
    """The served eval-samples flow: a table artifact per statistic and the same result as the library."""
    from flows.eval_samples import EvalSamplesParams, eval_samples_flow
    from genseq.music.sample_eval import evaluate_samples
    from tests.conftest import write_tune

    for folder, shift in (("real", 0), ("generated", 2)):
        (tmp_path / folder).mkdir()
        for index in range(3):
            notes = [(60 + shift + (i * (index + 1)) % 7, i * 0.5, i * 0.5 + 0.4) for i in range(32)]
            write_tune(tmp_path / folder / f"tune_{index}.mid", notes)
    params = EvalSamplesParams(generated=str(tmp_path / "generated"), reference=str(tmp_path / "real"), bars=4)
    state = eval_samples_flow(params, return_state=True)
    assert state.is_completed()
    result = state.result()
    expected = evaluate_samples(tmp_path / "generated", tmp_path / "real", 4)
    assert result["statistics"].keys() == expected["statistics"].keys() and result["real_pieces"] == 3
    assert result["worst_statistic"] == expected["worst_statistic"]
