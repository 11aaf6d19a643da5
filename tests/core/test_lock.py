"""The run-folder lock: a second training into one folder is refused at once; kill -9 frees it."""

import subprocess
import sys
import threading

import pytest

from genseq.core.errors import GenseqError
from genseq.core.lock import LOCK_NAME, is_locked, locks_run_folder, run_lock
from tests.conftest import REPO

HOLDER = """
import sys, time
from genseq.core.lock import run_lock
with run_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def other_process(tmp_path):
    """Another process holding tmp_path/run's lock (killed with -9 at the end)."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "run")], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    yield holder
    holder.kill()
    holder.wait()


def test_a_second_process_is_refused_and_kill_9_frees_the_folder(tmp_path, other_process):
    run = tmp_path / "run"
    assert is_locked(run)
    with pytest.raises(GenseqError, match="in use by another training") as info:
        with run_lock(run):
            pass
    assert str(run) in str(info.value) and "\n" not in str(info.value)
    other_process.kill()
    other_process.wait()
    assert not is_locked(run)
    with run_lock(run):
        assert is_locked(run)


def test_reentrant_in_one_thread_refused_in_another(tmp_path):
    run = tmp_path / "run"
    errors = []

    def other():
        try:
            with run_lock(run):
                pass
        except GenseqError as exc:
            errors.append(str(exc))

    with run_lock(run), run_lock(run):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert errors and "another training in this process" in errors[0]
    with run_lock(run):  # released after both levels
        pass


def test_a_refused_run_leaves_no_new_folder(tmp_path):
    @locks_run_folder("run_dir")
    def train(spec, run_dir):
        raise GenseqError("model.hidden_size: too big")

    with pytest.raises(GenseqError):
        train(None, run_dir=tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()
    (tmp_path / "kept").mkdir()
    with pytest.raises(GenseqError):
        train(None, tmp_path / "kept")
    assert (tmp_path / "kept").is_dir()  # a folder the user made stays (its lock file goes with the lock)
    assert [p.name for p in (tmp_path / "kept").iterdir()] == []
