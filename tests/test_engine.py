"""The comparison engine as its own stage: behaviour held byte for byte, concurrency, and the import layering."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
DEMOS = ("onboarding-v2", "orchestrated-journey")


@pytest.mark.parametrize("ci", ["bootstrap", "analytic"])
@pytest.mark.parametrize("name", DEMOS)
def test_the_demo_reports_are_byte_identical_to_the_recorded_ones(name, ci, tmp_path):
    """The JSON reports of both demo experiments, with a breakdown by segment, as recorded before the engine
    became its own stage (tests/golden, written by the same command at commit d8f6c6c)."""
    output = tmp_path / f"{name}.{ci}.json"
    subprocess.run([sys.executable, "-m", "cohortlab", "compare", f"experiments/{name}.yaml", "--format", "json",
                    "--ci", ci, "--breakdown", "segment", "--output", str(output)],
                   cwd=REPO, check=True, capture_output=True)
    assert output.read_bytes() == (GOLDEN / f"{name}.{ci}.json").read_bytes()
