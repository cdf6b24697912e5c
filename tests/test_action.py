"""The reusable GitHub Action (`action.yml`): its steps' scripts run with bash as a runner would run them.

A composite action's steps see their inputs only through ``${{ inputs.x }}`` expressions (no INPUT_*
variables), so the test substitutes them, evaluates each step's ``if:``, and runs each ``run:`` script with
the variables a runner sets (GITHUB_ACTIONS, GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, RUNNER_TEMP) in a demo
project written by `cohortlab demo`. actions/setup-python is the one step not run; installing is the
action's `install: none`, with `cohortlab` on the PATH running this checkout.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
BROKEN = """\
name: broken
treatment: {entered: {from: 2025-03-01, to: 2025-08-31}}
baseline: {entered: {from: 2024-09-01, to: 2025-02-28}}
metrics: [ltv_cca]
"""


def action() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def evaluate(expression: str, inputs: dict[str, str]):
    """The few expression forms the action uses: ``inputs.x``, string literals, ``!=``, ``==``, ``&&``, ``||``."""
    python = re.sub(r"inputs\.([A-Za-z0-9_-]+)", lambda match: repr(inputs[match[1]]), expression)
    python = python.replace("&&", " and ").replace("||", " or ")
    assert re.fullmatch(r"(\s|'[^']*'|!=|==|and|or|\(|\))*", python), f"unsupported expression {expression!r}"
    return eval(python)  # noqa: S307 - only quoted strings and comparisons remain, checked just above


def substitute(text: str, inputs: dict[str, str]) -> str:
    return EXPRESSION.sub(lambda match: str(evaluate(match[1], inputs)), text)


def run_action(project: Path, tmp_path: Path, **given: str) -> list[tuple[str, subprocess.CompletedProcess | None]]:
    """Run the action's steps in order, as a runner does: a failed step ends the run. Returns each step's name
    and its completed process (None for a step skipped by its ``if:`` or not run after a failure)."""
    definition = action()
    assert definition["runs"]["using"] == "composite"
    inputs = {name: str(spec.get("default", "")) for name, spec in definition["inputs"].items()}
    assert set(given) <= set(inputs), set(given) - set(inputs)
    inputs |= given
    shims = tmp_path / "bin"
    shims.mkdir(exist_ok=True)
    shim = shims / "cohortlab"
    shim.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m cohortlab "$@"\n')
    shim.chmod(0o755)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    base = {key: value for key, value in os.environ.items() if not key.startswith(("GITHUB_", "INPUT_"))}
    base |= {"PATH": f"{shims}{os.pathsep}{os.environ['PATH']}", "GITHUB_ACTIONS": "true", "CI": "true",
             "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "GITHUB_OUTPUT": str(tmp_path / "output"),
             "RUNNER_TEMP": str(runner_temp), "NO_COLOR": "1"}
    results, failed = [], False
    for step in definition["runs"]["steps"]:
        if "uses" in step:
            assert step["uses"].startswith("actions/setup-python@"), f"a step the test cannot run: {step['uses']}"
            results.append((step["name"], None))
            continue
        condition = step.get("if", "success()")
        wanted = not failed if condition == "success()" else (not failed and evaluate(condition, inputs))
        if not wanted:
            results.append((step["name"], None))
            continue
        assert step["shell"] == "bash"
        env = base | {name: substitute(str(value), inputs) for name, value in step.get("env", {}).items()}
        assert "${{" not in step["run"], "inputs reach the script through env, never pasted into it"
        script = tmp_path / "step.sh"
        script.write_text(step["run"])
        cwd = project / substitute(step.get("working-directory", "."), inputs)
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd, env=env,
                              capture_output=True, text=True)
        results.append((step["name"], done))
        failed = done.returncode != 0
    return results


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("action") / "project"
    subprocess.run([sys.executable, "-m", "cohortlab", "demo", str(root)], cwd=ROOT, check=True, capture_output=True)
    return root


def test_the_inputs_are_documented_and_the_defaults_install_from_pypi():
    definition = action()
    assert {"paths", "strict", "check-data", "compare", "compare-options", "working-directory", "python-version",
            "version", "install"} == set(definition["inputs"])
    assert all(spec["description"] for spec in definition["inputs"].values())
    install = next(step for step in definition["runs"]["steps"] if step.get("name") == "Install cohortlab")
    # what the install step would run, with pip replaced by echo
    for given, expected in (({}, "cohortlab"), ({"version": "0.1.0"}, "cohortlab==0.1.0"), ({"install": "."}, ".")):
        inputs = {name: str(spec.get("default", "")) for name, spec in definition["inputs"].items()} | given
        env = {"PATH": os.environ["PATH"]} | {name: substitute(str(value), inputs)
                                              for name, value in install["env"].items()}
        script = install["run"].replace("python -m pip install", "echo pip install").replace("cohortlab --version", "")
        done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True)
        assert done.stdout == f"pip install --disable-pip-version-check {expected}\n"


def test_a_broken_experiment_is_annotated_and_fails_the_step(demo_project, tmp_path):
    broken = demo_project / "experiments" / "broken.yaml"
    broken.write_text(BROKEN)
    try:
        results = run_action(demo_project, tmp_path, install="none", paths="experiments/broken.yaml",
                             compare="experiments/onboarding-v2.yaml", **{"check-data": "true"})
    finally:
        broken.unlink()
    steps = dict(results)
    assert [name for name, _ in results] == ["Set up Python", "Install cohortlab", "Validate experiment definitions",
                                             "Compare experiments"]
    assert steps["Install cohortlab"].stdout == "cohortlab 0.1.0\n"
    validate = steps["Validate experiment definitions"]
    assert validate.returncode == 1
    assert validate.stdout.splitlines() == [
        "::error file=experiments/broken.yaml,line=4,col=11,title=CL101 $.metrics[0]::unknown metric 'ltv_cca' "
        "(hint: did you mean 'ltv_cac'?)",
        "1 error in 1 file"]
    assert steps["Compare experiments"] is None  # not run after a failed validation
    summary = (tmp_path / "summary.md").read_text()
    assert "| ❌ | `experiments/broken.yaml:4:11` | CL101 | unknown metric 'ltv_cca' — did you mean 'ltv_cac'? |" \
        in summary
    assert not (tmp_path / "output").exists()


def test_a_clean_project_is_compared_into_the_step_summary(demo_project, tmp_path):
    results = run_action(demo_project, tmp_path, install="none", strict="true", paths="experiments/orchestrated-*.yaml",
                         compare="experiments/orchestrated-journey.yaml",
                         **{"check-data": "true", "compare-options": "--replicates 100"})
    steps = dict(results)
    validate = steps["Validate experiment definitions"]
    # the glob gave one file, and --check-data ran the data stage: the detectable effects are notices
    *annotations, last = validate.stdout.splitlines()
    assert validate.returncode == 0 and re.fullmatch(r"\d+ notices in 1 file", last), validate.stdout
    assert annotations and all(line.startswith("::notice file=experiments/orchestrated-journey.yaml,") and
                               ",title=CL307 " in line for line in annotations)
    compare = steps["Compare experiments"]
    assert compare.returncode == 0, compare.stderr
    expected = subprocess.run([sys.executable, "-m", "cohortlab", "compare", "experiments/orchestrated-journey.yaml",
                               "--format", "markdown", "--replicates", "100"], cwd=demo_project,
                              env=os.environ | {"PYTHONPATH": str(ROOT)}, capture_output=True, text=True, check=True)
    assert expected.stdout.startswith("### orchestrated-journey — Orchestrated nurture journey\n")
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith(f"### cohortlab validate\n\n{last}\n") and summary.endswith(expected.stdout)
    # the report's file is the step's output, for a following step to post as a PR comment
    [line] = (tmp_path / "output").read_text().splitlines()
    report = Path(line.removeprefix("report="))
    assert line.startswith("report=") and report.parent == tmp_path / "runner-temp"
    assert report.read_text() == expected.stdout
