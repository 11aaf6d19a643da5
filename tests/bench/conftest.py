"""The benchmark scripts under bench/ loaded as modules, so their tests call them as they run."""

import importlib.util
import sys
from types import ModuleType

from tests.conftest import REPO


def load_bench(name: str) -> ModuleType:
    """bench/<name>.py as the module bench_<name> (registered in sys.modules: its dataclasses look it up there)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
