"""Load a benchmark script (benchmarks/*.py) as a module, for the small versions of its studies."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_study(script: str, name: str) -> ModuleType:
    """benchmarks/``script`` as the module ``name`` (registered in sys.modules: its dataclasses look it up)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / script)
    study = importlib.util.module_from_spec(spec)
    sys.modules[name] = study
    spec.loader.exec_module(study)
    return study
