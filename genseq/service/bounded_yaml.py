"""YAML from untrusted manifests with bounded memory: the file's size is checked before it is read,
and the document's size with every alias expanded before anything is built from it, so a "billion
laughs" bomb (anchors of lists of aliases, each level multiplying the last) is refused in
milliseconds instead of growing until the machine runs out of memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from genseq.core.errors import GenseqError

MAX_MANIFEST_BYTES = 16 << 20  # a manifest of 100,000 rows is about 10 MB
MAX_NODES = 1_000_000  # YAML nodes with every alias expanded (a 10,000-row manifest has about 200,000)


def read_bounded_text(path: Path, limit: int = MAX_MANIFEST_BYTES) -> str:
    """A text file's contents (UTF-8, a BOM dropped), refused when it is larger than `limit` bytes."""
    size = path.stat().st_size
    if size > limit:
        raise GenseqError(f"manifest is {size:,} bytes, more than the {limit:,} a manifest may have", path)
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)  # (it may have grown since the stat)
    if len(data) > limit:
        raise GenseqError(f"manifest is more than the {limit:,} bytes a manifest may have", path)
    return data.decode("utf-8-sig", errors="replace")


def load_bounded_yaml(text: str, limit: int = MAX_NODES) -> Any:
    """yaml.safe_load, refusing (GenseqError) a document that has more than `limit` nodes once its aliases
    are expanded, or that contains itself. yaml.YAMLError for text that is not YAML."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # libyaml's parser when there is one (10x faster)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise GenseqError("YAML nested too deeply") from None
        if node is None:
            return None
        expanded_size(node, limit)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def expanded_size(root: yaml.Node, limit: int) -> int:
    """How many nodes the document has with every alias expanded (shared nodes counted once per use);
    GenseqError past `limit` or for a node that contains itself. Each node is measured once."""
    sizes: dict[int, int | None] = {}  # None: being measured (met again below itself: a cycle)

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            if sizes[key] is None:
                raise GenseqError("YAML alias refers to a node that contains it (a recursive structure)")
            return sizes[key]
        if depth > 500:
            raise GenseqError("YAML nested too deeply")
        sizes[key] = None
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        if total > limit:
            raise GenseqError(f"YAML has more than {limit:,} values once its aliases are expanded "
                              "(an alias bomb?); refused before building it")
        sizes[key] = total
        return total

    return size(root, 0)
