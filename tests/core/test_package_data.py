"""A non-editable install finds the bundled configs and models as package data."""

import subprocess
import sys
import zipfile

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                             "-w", str(out), str(REPO)], capture_output=True, text=True, cwd=build, timeout=300)
    if result.returncode != 0 and "No module named" in result.stderr:
        pytest.skip(f"cannot build a wheel here: {result.stderr.strip().splitlines()[-1]}")
    assert result.returncode == 0, result.stderr
    return next(out.glob("genseq-*.whl"))


def test_wheel_carries_configs_and_models(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ["genseq/configs/music-melody.yaml", "genseq/configs/dance.yaml", "genseq/assets/music-melody.pt",
                 "genseq/assets/music-pianoroll.pt", "genseq/assets/dance.pt", "flows/generate.py"]:
        assert name in names


def test_installed_copy_reads_its_own_package_data(wheel, tmp_path):
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)  # what pip puts in site-packages
    code = ("from genseq.core.paths import configs_dir, assets_dir; from genseq.music.generate import default_checkpoint; "
            "print(configs_dir()); print(assets_dir()); print(default_checkpoint('melody'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                            env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.returncode == 0, result.stderr
    configs, assets, melody = result.stdout.split()
    assert configs == str(target / "genseq" / "configs") and assets == str(target / "genseq" / "assets")
    assert melody == str(target / "genseq" / "assets" / "music-melody.pt")
