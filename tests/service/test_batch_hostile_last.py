"""The last hostile batch cases of issue 24: output names the file system refuses, refused manifests that
left an empty --out folder, and a row giving both bars and seconds."""

from __future__ import annotations

import errno

import pytest

from genseq.core.atomic import name_limit
from genseq.core.errors import GenseqError
from genseq.service.jobs import failure_reason
from genseq.service.manifest import plan_batch
from genseq.service.scheduler import run_batch
from tests.conftest import run_cli

QUICK = "{bars: 1, wav: false, png: false}"


def manifest_of(tmp_path, *rows: str):
    manifest = tmp_path / "m.yaml"
    manifest.write_text("".join(f"- {row}\n" for row in rows))
    return manifest


# --- 3. names the file system refuses ------------------------------------------------------------

@pytest.mark.parametrize("output", ["a" * 255, "a" * 225, "d" * 251 + ".mp4", "deep/" + "b" * 240 + ".mov"])
def test_an_output_name_too_long_for_the_file_system_fails_its_row_saying_why(tmp_path, output):
    kind = "dance" if output.endswith((".mp4", ".mov")) else "music"
    manifest = manifest_of(tmp_path, f"{{kind: music, output: fine, parameters: {QUICK}}}",
                           f"{{kind: {kind}, output: {output}, parameters: {{num_outputs: 2}}}}")
    plan = plan_batch(manifest, tmp_path / "root")
    assert [job.output for job in plan.jobs] == ["fine"]
    reason = plan.rejected[0].reason
    assert plan.rejected[0].row == 2 and reason.startswith(f"{output}: output name is too long for the file system"), reason
    assert f"at most {name_limit(tmp_path)} bytes" in reason and "shorten" in reason and "\n" not in reason, reason


def test_a_folder_name_too_long_is_named(tmp_path):
    output = "x" * 300 + "/songs"
    plan = plan_batch(manifest_of(tmp_path, f"{{kind: music, output: {output}}}"), tmp_path / "root")
    assert plan.rejected[0].reason.startswith(f"{output}: folder name 'xxx"), plan.rejected[0].reason
    assert "300 bytes" in plan.rejected[0].reason


def test_the_longest_name_allowed_still_runs(assets, tmp_path, monkeypatch):
    """224 bytes: the record's temporary file beside the folder, ..NAME.genseq-job.XXXXXXXX.tmp.json, makes 255."""
    monkeypatch.setenv("GENSEQ_ASSETS", str(assets))
    name = "m" * (name_limit(tmp_path) - 31)
    report = run_batch(manifest_of(tmp_path, f"{{kind: music, output: {name}, parameters: {QUICK}}}"),
                       tmp_path / "root", workers=1)
    assert report.count("done") == 1, report.table()
    assert (tmp_path / "root" / name / "sample_000.mid").exists()


def test_a_name_refused_while_running_says_which_and_why():
    name = "/out/" + "n" * 300 + ".mid"
    reason = failure_reason(OSError(errno.ENAMETOOLONG, "File name too long", name))
    assert reason.startswith(f"{name}: file name too long for the file system (304 bytes in one name"), reason
    assert failure_reason(ValueError("other")) == "ValueError: other"


# --- 4. a refused manifest leaves no --out folder ------------------------------------------------

@pytest.mark.parametrize("text", ["jobs: [unclosed\n", "just a string\n"], ids=["broken-yaml", "not-a-list"])
def test_a_refused_manifest_creates_no_output_folder(tmp_path, capsys, text):
    manifest = tmp_path / "m.yaml"
    manifest.write_text(text)
    root = tmp_path / "deep" / "root"
    code, _, err = run_cli(["batch", manifest, "--out", root], capsys)
    assert code == 2 and err.count("genseq: error:") == 1 and str(manifest) in err, err
    assert not (tmp_path / "deep").exists()
    with pytest.raises(GenseqError):
        run_batch(manifest, root, workers=1)
    assert not (tmp_path / "deep").exists()


def test_a_manifest_of_rejected_rows_only_creates_no_output_folder(tmp_path, capsys):
    manifest = manifest_of(tmp_path, "{kind: music, output: a, parameters: {bars: 0}}", "{kind: opera, output: b}")
    code, out, _ = run_cli(["batch", manifest, "--out", tmp_path / "root"], capsys)
    assert code == 1 and "2 failed" in out, out
    assert not (tmp_path / "root").exists()


# --- 5. bars with seconds ------------------------------------------------------------------------

def test_a_row_giving_bars_and_seconds_fails_naming_both(tmp_path):
    manifest = manifest_of(tmp_path, "{kind: music, output: a, parameters: {bars: 4, seconds: 10}}",
                           "{kind: music, output: b, parameters: {seconds: 10}}", "{kind: music, output: c, parameters: {bars: 4}}")
    plan = plan_batch(manifest, tmp_path / "root")
    assert [job.output for job in plan.jobs] == ["b", "c"]
    assert plan.rejected[0].reason == "seconds: --bars and --seconds both set the length; give one of them"
