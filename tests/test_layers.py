"""The layers point down only: core imports nothing else of genseq, model knows no domain and no
service, music and motion are siblings that never import each other (genseq/compose uses both),
nothing in genseq imports the flows or the CLI (which sit on top)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "genseq"

# subpackage -> what of genseq it must never import
FORBIDDEN = {
    "core": ("genseq.model", "genseq.music", "genseq.motion", "genseq.service", "genseq.cli", "flows"),
    "model": ("genseq.music", "genseq.motion", "genseq.service", "genseq.cli", "flows"),
    "music": ("genseq.motion", "genseq.compose", "genseq.live", "genseq.service", "genseq.cli", "flows"),
    "motion": ("genseq.music", "genseq.compose", "genseq.live", "genseq.service", "genseq.cli", "flows"),
    "compose": ("genseq.live", "genseq.service", "genseq.cli", "flows"),
    "live": ("genseq.service", "genseq.cli", "flows"),
    "service": ("genseq.cli", "flows"),
}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violations(subpackage: str, package: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted((package / subpackage).rglob("*.py")):
        for module in imported_modules(path):
            if any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN[subpackage]):
                found.append(f"{path.relative_to(package.parent)} imports {module}")
    return found


@pytest.mark.parametrize("subpackage", list(FORBIDDEN))
def test_layers_point_down(subpackage):
    assert violations(subpackage) == []


def test_the_check_sees_a_violation(tmp_path):
    """The test above can fail: a module of core that imports the model layer is caught."""
    fake = tmp_path / "genseq" / "core"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("def f():\n    from genseq.model.train import train\n")
    assert violations("core", tmp_path / "genseq") == ["genseq/core/bad.py imports genseq.model.train"]


def test_the_check_sees_a_sideways_import(tmp_path):
    """Motion importing music (the two domains are siblings) is caught, as music importing motion is."""
    for importer, imported in (("motion", "genseq.music.beats"), ("music", "genseq.motion.render")):
        fake = tmp_path / importer / "genseq" / importer
        fake.mkdir(parents=True)
        (fake / "sideways.py").write_text(f"import {imported}\n")
        assert violations(importer, tmp_path / importer / "genseq") == [f"genseq/{importer}/sideways.py imports {imported}"]


def test_no_genseq_file_over_450_lines():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 450}
    flows = PACKAGE.parent / "flows"
    long.update({str(p.relative_to(PACKAGE.parent)): n for p in flows.rglob("*.py")
                 if (n := len(p.read_text().splitlines())) > 450})
    assert long == {}


def test_every_subpackage_is_packaged():
    """pyproject lists the packages explicitly (configs/ and assets/ are mapped in as package data)."""
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"genseq"} | {f"genseq.{p.name}" for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert found <= listed
