"""The rules of `cohortlab validate`: one per code in one registry, each guarded so that a crash is a finding."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cohortlab.cli.app import app
from cohortlab.codes import Check, Severity
from cohortlab.errors import InputError
from cohortlab.spec.load import parse_model
from cohortlab.spec.models import Experiment
from cohortlab.spec.rules import experiment_problems
from cohortlab.spec.yamlio import load_yaml
from cohortlab.validate.rules import RULE, RULES, SEVERITY, Stage, Subject
from cohortlab.validate.run import validate

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "validate_corpus" / "experiments"
runner = CliRunner()


def found(result) -> list[tuple[int, int, str]]:
    return [(finding.line, finding.col, str(finding.code)) for finding in result.findings]


def crash(monkeypatch, code: Check, error: Exception) -> None:
    """Make the registered rule for ``code`` raise ``error`` when it checks a file."""
    def check(file):
        raise error

    monkeypatch.setattr(RULE[code], "check", check)


# ------------------------------------------------------------------------------- the registry


def test_every_code_has_exactly_one_rule_with_a_unique_name():
    assert sorted(rule.code for rule in RULES) == sorted(Check)
    names = [rule.name for rule in RULES]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) for name in names), names


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: f"{rule.code} {rule.name}")
def test_each_rule_declares_its_severity_stage_and_documentation(rule):
    assert isinstance(rule.severity, Severity) and isinstance(rule.stage, Stage)
    assert rule.subjects <= set(Subject)
    assert rule.description and rule.description.endswith(".")
    if rule.subjects:  # every rule but CL999, whose findings the runner makes
        assert "Anti-pattern:" in rule.__doc__ and "Best practice:" in rule.__doc__


def test_stages_follow_the_numbering_of_the_codes():
    stages = {"0": Stage.SCHEMA, "1": Stage.REFERENCES, "2": Stage.SEMANTICS, "3": Stage.DATA}
    for rule in RULES:
        if rule.code is not Check.INTERNAL:
            assert rule.stage is stages[rule.code.value[2]], rule.code


def test_the_severity_of_a_code_is_its_rules():
    assert SEVERITY == {rule.code: rule.severity for rule in RULES}
    assert SEVERITY[Check.COHORTS_MAY_OVERLAP] is Severity.WARNING and SEVERITY[Check.NO_COLUMNS] is Severity.NOTICE


def test_codes_stay_the_bottom_layer():
    tree = ast.parse((ROOT / "cohortlab" / "codes.py").read_text())
    imported = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    assert not [name for name in imported if name and name.startswith("cohortlab")]


def test_what_compare_stops_at_is_what_validate_calls_an_error():
    # `compare` raises the first of experiment_problems; validate's warnings must not be among them
    seen = set()
    for path in sorted(CORPUS.glob("*.yaml")):
        try:
            loaded = load_yaml(path)
        except Exception:
            continue
        experiment, _ = parse_model(Experiment, loaded, "experiment")
        if experiment is not None:
            seen.update(problem.code for problem in experiment_problems(experiment))
    assert seen and all(SEVERITY[code] is Severity.ERROR for code in seen), seen
    assert Check.COHORTS_OVERLAP in seen


# ------------------------------------------------------------------------------ guarded rules


def test_a_crashing_rule_is_one_internal_error_naming_it_and_the_other_rules_still_report(monkeypatch):
    monkeypatch.chdir(ROOT)
    path = Path("tests/validate_corpus/experiments/cohorts-may-overlap.yaml")
    assert found(validate([path])) == [(5, 50, "CL207"), (6, 17, "CL210")]
    crash(monkeypatch, Check.COHORTS_OVERLAP, ZeroDivisionError("division by zero"))
    result = validate([path])
    assert found(result) == [(1, 1, "CL999"), (5, 50, "CL207"), (6, 17, "CL210")]
    internal = result.findings[0]
    assert (internal.file, internal.severity) == (str(path), Severity.ERROR)
    assert internal.message == "internal error in rule CL206 cohorts-overlap: ZeroDivisionError: division by zero"
    assert internal.hint == "please report it, with the file"
    # on the command line: exit 1, the finding, no traceback
    cli = runner.invoke(app, ["validate", str(path)], env={"GITHUB_ACTIONS": "false"})
    assert cli.exit_code == 1 and "Traceback" not in cli.stdout + cli.stderr
    assert f"{path}:1:1: CL999 internal error in rule CL206 cohorts-overlap: ZeroDivisionError" in cli.stdout


def test_a_crash_stops_the_report_at_its_rules_stage_like_any_error(monkeypatch):
    monkeypatch.chdir(ROOT)
    crash(monkeypatch, Check.WHERE_SYNTAX, KeyError("treatment"))
    result = validate([Path("tests/validate_corpus/experiments/cohorts-may-overlap.yaml")])
    # a references rule crashed: the semantics findings (CL207, CL210) wait, as after any references error
    assert found(result) == [(1, 1, "CL999")]
    assert result.findings[0].message == "internal error in rule CL105 where-syntax: KeyError: 'treatment'"


def test_a_crash_in_a_pass_several_rules_share_is_reported_once(monkeypatch):
    import cohortlab.metrics.registry

    def resolve_metrics(*args):
        raise RuntimeError("registry broken")

    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(cohortlab.metrics.registry, "resolve_metrics", resolve_metrics)
    result = validate([Path("tests/validate_corpus/experiments/references-mixed.yaml")])
    # the metric rules (CL101–CL104, CL208) all read the crashed pass; the column rules still report
    assert found(result) == [(1, 1, "CL999"), (5, 55, "CL106"), (7, 38, "CL106")]
    assert result.findings[0].message == "internal error in rule CL101 unknown-metric: RuntimeError: registry broken"


@pytest.mark.parametrize("code, name", [(Check.JOURNEY, "journey"), (Check.SOURCE_NOT_FOUND, "source-not-found")])
def test_a_crashing_config_rule_is_an_error_in_the_config(tmp_path, monkeypatch, code, name):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "cohortlab.yaml").write_text("source: {kind: demo, seed: 2}\nas_of: 2026-09-30\n")
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "x.yaml").write_text(
        "name: x\ntreatment: {entered: {from: 2025-03-01, to: 2025-08-31}}\n"
        "baseline: {entered: {from: 2024-09-01, to: 2025-02-28}}\nmetrics: [cca]\n")
    monkeypatch.chdir(tmp_path)
    assert [str(f.code) for f in validate([Path("experiments/x.yaml")]).findings] == ["CL101"]
    crash(monkeypatch, code, ValueError("broken"))
    result = validate([Path("experiments/x.yaml")])
    # the config (or the source it names) has an error, so it is reported, and nothing is checked against it
    assert [(f.file, str(f.code), f.message) for f in result.findings] == [
        ("configs/cohortlab.yaml", "CL999", f"internal error in rule {code} {name}: ValueError: broken")]


def test_a_user_error_from_a_rule_still_ends_the_run(monkeypatch):
    monkeypatch.chdir(ROOT)
    crash(monkeypatch, Check.MATCH_SPEC, InputError("cannot read it"))
    with pytest.raises(InputError):
        validate([Path("tests/validate_corpus/experiments/cohorts-may-overlap.yaml")])
