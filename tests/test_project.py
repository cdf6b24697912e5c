"""Structural promises of the project: import directions, packaged examples, CI and README in sync."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cohortlab"

# a layer may import itself and anything below it, never a layer beside or above it (STYLE.md: imports point
# downward only): cli → validate / report → engine → metrics / match → data / stats → spec / codes
LAYERS = [("cli",), ("validate", "report"), ("engine",), ("metrics", "match"), ("data", "stats"), ("spec",)]
ALLOWED = {layer: {layer, *(name for lower in LAYERS[level + 1:] for name in lower)}
           for level, siblings in enumerate(LAYERS) for layer in siblings}
SHARED = {"errors", "codes", "outputs", "records"}  # leaf modules every layer may use


def _imports(path: Path, text: str | None = None) -> set[str]:
    """The layers and shared modules the module at ``path`` (its ``text``, by default the file's) imports:
    ``from cohortlab.x…``, ``import cohortlab.x…``, ``from cohortlab import x`` (x a module, not a name such as
    ``__version__``), and relative imports resolved against its package."""
    names = set()
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]  # ("cohortlab", "engine"), for a relative import
    for node in ast.walk(ast.parse(path.read_text() if text is None else text)):
        if isinstance(node, ast.ImportFrom):
            parts = tuple((node.module or "").split(".")) if node.level == 0 else \
                (*package[:len(package) - node.level + 1], *filter(None, (node.module or "").split(".")))
            if parts[:1] != ("cohortlab",):
                continue
            names.update([parts[1]] if len(parts) > 1 else
                         [alias.name for alias in node.names if (PACKAGE / alias.name).is_dir()
                          or (PACKAGE / f"{alias.name}.py").is_file()])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[1] for alias in node.names if alias.name.startswith("cohortlab."))
    return names


def test_the_shared_leaf_modules_import_only_each_other():
    for name in sorted(SHARED):
        forbidden = _imports(PACKAGE / f"{name}.py") - SHARED
        assert not forbidden, f"cohortlab/{name}.py imports {forbidden}"


def test_the_import_scan_sees_every_form():
    """The layering test would not hold if the scan missed a form of import (read as if in engine/)."""
    path = PACKAGE / "engine" / "probe.py"
    forms = {"from cohortlab.report.model import Report": {"report"}, "import cohortlab.cli.app": {"cli"},
             "from cohortlab import validate, __version__": {"validate"}, "from ..report import build": {"report"},
             "from . import analysis": {"engine"}, "from .. import cli": {"cli"}, "import numpy": set()}
    for line, layers in forms.items():
        assert _imports(path, line) == layers, line


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_imports_point_downward(layer):
    for path in (PACKAGE / layer).rglob("*.py"):
        forbidden = _imports(path) - ALLOWED[layer] - SHARED
        assert not forbidden, f"{path.relative_to(ROOT)} imports {forbidden}"


def test_stats_stays_free_of_io_and_presentation():
    for path in (PACKAGE / "stats").rglob("*.py"):
        source = path.read_text()
        for module in ("duckdb", "rich", "typer", "pandas"):
            assert f"import {module}" not in source, f"{path.name} imports {module}"


def test_packaged_examples_are_the_repository_examples():
    for kind in ("experiments", "configs"):
        for path in (ROOT / kind).glob("*.yaml"):
            assert (PACKAGE / "examples" / kind / path.name).read_text() == path.read_text(), path


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    command = 'python -m pip install ".[test]" && python -m pytest'
    assert command in readme
    assert command in (ROOT / ".ci" / "run").read_text()


def test_demo_command_writes_a_project_that_compares(tmp_path):
    from typer.testing import CliRunner

    from cohortlab.cli.app import app
    from cohortlab.report.build import compare

    result = CliRunner().invoke(app, ["demo", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert f"Next: cohortlab compare {tmp_path / 'demo' / 'experiments' / 'onboarding-v2.yaml'}" in result.output
    # the schemas the example files' headers point to are written too, and the project validates
    assert sorted(path.name for path in (tmp_path / "demo" / "schemas").iterdir()) == [
        "config.schema.json", "experiment.schema.json"]
    assert CliRunner().invoke(app, ["validate", "--strict", str(tmp_path / "demo")]).exit_code == 0
    written = compare(tmp_path / "demo" / "experiments" / "orchestrated-journey.yaml", replicates=200)
    embedded = compare(ROOT / "experiments" / "orchestrated-journey.yaml", replicates=200)
    # the Parquet project and the embedded demo are the same data: the same report numbers
    assert [r.delta for r in written.results] == pytest.approx([r.delta for r in embedded.results], rel=1e-12)


def test_help_does_not_import_the_heavy_stack():
    code = ("import sys; from cohortlab.cli.app import app; "
            "heavy = [m for m in ('pandas', 'duckdb', 'scipy', 'statsmodels', 'numpy') if m in sys.modules]; "
            "print(','.join(heavy))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert output == ""


def test_validate_does_not_import_the_statistics_stack():
    """`validate` without --check-data checks files, not data: no pandas, scipy or statsmodels (SPEC §10)."""
    code = ("import sys; from cohortlab.cli.app import app\n"
            "try:\n    app(['validate', '--strict', sys.argv[1]])\nexcept SystemExit as exit:\n    code = exit.code\n"
            "heavy = [m for m in ('pandas', 'scipy', 'statsmodels') if m in sys.modules]; "
            "print(code, ','.join(heavy))")
    output = subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, check=True)
    assert output.stdout.strip().splitlines()[-1] == "0"


def test_the_pre_commit_hook_runs_validate_on_experiment_and_config_files():
    import re

    import yaml

    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["entry"] == "cohortlab validate"
    pattern = re.compile(hook["files"])
    for path in ("configs/cohortlab.yaml", "experiments/onboarding-v2.yaml", "growth/experiments/a.yml",
                 "cohortlab.yaml"):
        assert pattern.search(path), path
    for path in (".github/workflows/ci.yml", "experiments/notes.md", "experiments/old/a.yaml"):
        assert not pattern.search(path), path


def test_the_python_api_names_of_the_readme():
    import cohortlab

    assert callable(cohortlab.compare)
    assert cohortlab.Report.__name__ == "Report" and issubclass(cohortlab.CohortlabError, Exception)
