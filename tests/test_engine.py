"""The comparison engine as its own stage: behaviour held byte for byte, concurrency, and the import layering."""

from __future__ import annotations

import ast
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


RUNS = [  # (experiment, overrides): both demos, every interval method, a breakdown sharing the replicates,
          # propensity matching (re-run in every replicate)
    ("onboarding-v2", dict(replicates=300, seed=1, breakdown=["segment"])),
    ("orchestrated-journey", dict(replicates=300, seed=2)),
    ("onboarding-v2", dict(replicates=200, seed=3, interval="bca")),
    ("orchestrated-journey", dict(replicates=200, seed=4, ci="analytic", breakdown=["segment"])),
    ("methods/experiments/propensity-nearest", dict(replicates=100, seed=5)),
]


def _json(name: str, overrides: dict) -> str:
    from io import StringIO

    from cohortlab.report.build import compare
    from cohortlab.report.render.json import render_json

    path = GOLDEN / f"{name}.yaml" if name.startswith("methods/") else REPO / "experiments" / f"{name}.yaml"
    buffer = StringIO()
    render_json(compare(path, **overrides), buffer)
    return buffer.getvalue()


def test_comparisons_run_concurrently_in_threads_equal_those_run_one_after_the_other():
    """Nothing of one comparison's pass is kept where another's can reach it: five comparisons, twice each, on
    two threads give the reports they give one at a time, byte for byte."""
    from concurrent.futures import ThreadPoolExecutor

    alone = [_json(name, overrides) for name, overrides in RUNS]
    with ThreadPoolExecutor(max_workers=2) as pool:
        together = list(pool.map(lambda run: _json(*run), RUNS * 2))
    assert together == alone * 2
    assert len(set(alone)) == len(RUNS)  # different reports, so a mix-up would show


MUTABLE = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)


@pytest.mark.parametrize("package", ["engine", "metrics", "match", "stats", "data"])
def test_no_module_level_mutable_state(package):
    """The engine and what it runs keep no state between comparisons: no module-level dict, list or set, no
    instance made at import (a cache, a registry object), no ``global``. Constant tables are tuples, or
    dicts named in capitals that nothing writes to (a registry of classes)."""
    for path in sorted((REPO / "cohortlab" / package).rglob("*.py")):
        tree = ast.parse(path.read_text())
        assert not [node for node in ast.walk(tree) if isinstance(node, ast.Global)], path
        for node in tree.body:
            if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [target.id for target in targets if isinstance(target, ast.Name)]
            constant = all(name.isupper() or name == "__all__" for name in names)
            if isinstance(node.value, MUTABLE):
                assert constant, f"{path.name}: module-level {names} is mutable state"
                _never_written(tree, names, path)
            elif isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name) \
                    and node.value.func.id[:1].isupper() and node.value.func.id not in ("TypeVar", "Literal"):
                raise AssertionError(f"{path.name}: module-level {names} = {node.value.func.id}(…), an instance "
                                     "made at import")


def _never_written(tree: ast.Module, names: list[str], path: Path) -> None:
    """No ``NAME[...] = …``, ``NAME.update/append/…(…)`` or ``del NAME[...]`` anywhere in the module."""
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else \
            [node.target] if isinstance(node, ast.AugAssign) else []
        for target in targets:
            assert not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                        and target.value.id in names), f"{path.name}: {names} written to"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) and node.func.value.id in names:
            assert node.func.attr in ("get", "items", "keys", "values", "index", "count"), \
                f"{path.name}: {names}.{node.func.attr}(…) changes it"


@pytest.mark.parametrize("name", ["propensity-nearest", "propensity-odds", "cem"])
def test_the_other_matching_methods_reports_are_byte_identical_to_the_recorded_ones(name, tmp_path):
    """The demo's onboarding experiment matched by nearest-neighbour and odds-weighted propensity scores and by
    CEM (tests/golden/methods; their reports recorded before the engine stage and typed matching facts, at
    commit d8f6c6c, with 200 replicates)."""
    output = tmp_path / f"{name}.json"
    subprocess.run([sys.executable, "-m", "cohortlab", "compare", f"experiments/{name}.yaml", "--format", "json",
                    "--replicates", "200", "--output", str(output)],
                   cwd=GOLDEN / "methods", check=True, capture_output=True)
    assert output.read_bytes() == (GOLDEN / f"{name}.json").read_bytes()


def _analysis(name: str, **overrides):
    from cohortlab.engine import Overrides, analyze
    from cohortlab.spec.load import find_config, load_config, load_experiment

    path = REPO / "experiments" / f"{name}.yaml"
    experiment, loaded = load_experiment(path)
    config, _ = load_config(find_config(path))
    return analyze(experiment, config, loaded=loaded, overrides=Overrides(**overrides))


def test_each_result_keeps_a_summary_of_the_distribution_its_interval_is_read_from():
    """Bootstrap: the replicates' 2.5% and 97.5% quantiles are the percentile interval's ends and their SD the
    standard error; analytic: the normal's quantiles are delta ± z·SE, so its 2.5% and 97.5% ones are the 95%
    interval."""
    import numpy as np

    from cohortlab.codes import Inference, Status

    boot = _analysis("orchestrated-journey", replicates=400, seed=3)
    for result, summary in zip(boot.results, boot.distributions):
        assert result.status is Status.OK and summary.method is Inference.BOOTSTRAP
        assert summary.replicates + summary.undefined == 400
        np.testing.assert_allclose([summary.quantiles[0.025], summary.quantiles[0.975]], result.ci, rtol=1e-12)
        assert summary.quantiles[0.025] < summary.quantiles[0.25] < summary.quantiles[0.5] < summary.quantiles[0.75]
        assert summary.standard_error == pytest.approx(result.standard_error, rel=0.02)
    analytic = _analysis("orchestrated-journey", ci="analytic")
    normal = [(result, summary) for result, summary in zip(analytic.results, analytic.distributions)
              if result.method is Inference.ANALYTIC]
    assert len(normal) >= 3
    for result, summary in normal:
        np.testing.assert_allclose([summary.quantiles[0.025], summary.quantiles[0.975]], result.ci, rtol=1e-9)


def test_an_unavailable_result_says_which_kind_of_reason():
    """Paid CAC in a project with no channel marked paid: the kind is 'not configured', given by the metric
    next to its message (not read off the message's text); available results have no kind."""
    from cohortlab.codes import Status, Unavailability
    from cohortlab.engine.estimates import Job, prepare
    from cohortlab.engine.matching import match_panel
    from cohortlab.engine.selection import select
    from cohortlab.engine.settings import quiet
    from cohortlab.metrics.acquisition import CAC, CostParams
    from cohortlab.metrics.base import MetricContext
    from cohortlab.spec.load import find_config, load_config, load_experiment

    analysis = _analysis("orchestrated-journey", replicates=100)
    assert all(result.reason_code is None for result in analysis.results if result.status is Status.OK)

    path = REPO / "experiments" / "orchestrated-journey.yaml"
    experiment, loaded = load_experiment(path)
    config, _ = load_config(find_config(path))
    unpaid = config.model_copy(update={"attribution": config.attribution.model_copy(update={"paid_channels": []})})
    paid = CAC(CostParams(spend="paid"))
    selection = select(experiment, unpaid, [paid], None, loaded, None, quiet)
    matching = match_panel(experiment, selection.panel)
    job = Job([paid], selection.panel, matching, matching.weights())
    prepare(job, MetricContext(unpaid.economics, unpaid.journey, 30, selection.as_of, 0.95, unpaid.attribution))
    assert job.unavailable[paid.key].kind is Unavailability.NOT_CONFIGURED
    assert "attribution.paid_channels" in job.unavailable[paid.key].reason
