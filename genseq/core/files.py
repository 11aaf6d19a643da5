"""Finding input files: files named directly, or found under folders by suffix."""

from __future__ import annotations

from pathlib import Path

from genseq.core.errors import GenseqError


def find_files(paths: list[str | Path], suffixes: tuple[str, ...]) -> list[Path]:
    """Files named directly (whatever their suffix, so reading them says what is wrong) or found
    recursively, sorted, under the given folders by suffix (any case)."""
    suffixes = tuple(s.lower() for s in suffixes)
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in suffixes and p.is_file()))
        elif path.exists():
            files.append(path)
        elif path.is_symlink():
            raise GenseqError("symbolic link that leads nowhere (broken, or a loop)", path)
        else:
            raise GenseqError("no such file or folder", path)
    return files


def numbered(path: Path, index: int, count: int) -> Path:
    """The name of output `index` of `count` (_000, _001 ... before the suffix when there are several)."""
    return path if count == 1 else path.with_name(f"{path.stem}_{index:03d}{path.suffix}")
