"""`cohortlab validate`, `schema` and `init`: stages, formats, exit codes, project context, the data stage."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from cohortlab.cli.app import app
from cohortlab.codes import Check, Severity
from cohortlab.validate.run import validate
from cohortlab.validate.schema import dumps, file_name, header, json_schemas

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

VALID = """\
name: {name}
treatment: {{where: "onboarding_flow = 'guided_v2'", entered: {{from: 2025-03-01, to: 2025-08-31}}}}
baseline: {{where: "onboarding_flow = 'classic'", entered: {{from: 2024-09-01, to: 2025-02-28}}}}
match: {{method: exact, on: [segment]}}
metrics: [cac, {{metric: retention, months: 3}}]
"""


def cli(*args: str, env: dict | None = None):
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def demo_project(tmp_path, monkeypatch):
    """A project on the embedded demo data, with one valid experiment; the current folder is its root."""
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "cohortlab.yaml").write_text("source: {kind: demo, seed: 2}\nas_of: 2026-09-30\n")
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "good.yaml").write_text(VALID.format(name="good"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(root: Path, name: str, text: str) -> Path:
    path = root / "experiments" / f"{name}.yaml"
    path.write_text(text)
    return path


def codes(result) -> list[tuple[str, int, int, str]]:
    return [(finding.file, finding.line, finding.col, str(finding.code)) for finding in result.findings]


# ------------------------------------------------------------------ examples and stages


def test_the_repository_examples_are_clean(monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, err = cli("validate", "--strict")
    assert (code, err) == (0, "")
    assert out == "3 files checked, no problems\n"


def test_a_schema_error_stops_before_references(demo_project):
    # the unknown key is a schema error; the unknown metric would be a reference error: only the first is shown
    write(demo_project, "two", VALID.format(name="two").replace("metrics: [cac", "colour: red\nmetrics: [cca"))
    result = validate([Path("experiments/two.yaml")])
    assert codes(result) == [("experiments/two.yaml", 5, 1, "CL004")]
    assert result.findings[0].path == "$.colour"


def test_every_problem_of_a_stage_at_once(demo_project):
    text = VALID.format(name="three").replace("guided_v2'", "guided_v2' AND employes > 5").replace(
        "on: [segment]", "on: [segmnt]").replace("metrics: [cac", "metrics: [cca")
    write(demo_project, "three", text)
    result = validate([Path("experiments/three.yaml")])
    line2 = text.splitlines()[1]
    assert codes(result) == [
        ("experiments/three.yaml", 2, line2.index("employes") + 1, "CL106"),
        ("experiments/three.yaml", 4, text.splitlines()[3].index("segmnt") + 1, "CL106"),
        ("experiments/three.yaml", 5, 11, "CL101"),
    ]
    hints = [finding.hint for finding in result.findings]
    assert hints == ["did you mean 'employees'?", "did you mean 'segment'?", "did you mean 'cac'?"]


def test_warnings_pass_unless_strict(demo_project):
    # baseline window overlaps the treatment's, filters not provably disjoint: a warning (CL207)
    text = VALID.format(name="overlap").replace("'classic'", "'classic' OR employees > 100").replace(
        "to: 2025-02-28", "to: 2025-03-31")
    write(demo_project, "overlap", text)
    code, out, _ = cli("validate", "experiments/overlap.yaml")
    assert code == 0
    assert "experiments/overlap.yaml:3:" in out and "CL207 warning: treatment and baseline may share accounts" in out
    assert cli("validate", "--strict", "experiments/overlap.yaml")[0] == 1


def test_disjoint_filters_in_overlapping_windows_are_fine(demo_project):
    text = VALID.format(name="split").replace("to: 2025-02-28", "to: 2025-03-31")
    write(demo_project, "split", text)
    assert validate([Path("experiments/split.yaml")]).findings == ()


def test_future_windows(demo_project):
    text = VALID.format(name="later").replace("to: 2025-08-31", "to: 2099-01-31")
    write(demo_project, "later", text)
    result = validate([Path("experiments/later.yaml")], today=dt.date(2026, 11, 22))
    [finding] = result.findings
    assert (finding.code, finding.severity, finding.path) == (Check.TREATMENT_OPEN, Severity.WARNING,
                                                              "$.treatment.entered.to")
    assert result.exit_code(strict=False) == 0 and result.exit_code(strict=True) == 1
    # a baseline is history: ending after today is an error
    assert [f.code for f in validate([Path("experiments/later.yaml")], today=dt.date(2025, 1, 1)).findings] == [
        Check.TREATMENT_OPEN, Check.BASELINE_IN_FUTURE]


# ------------------------------------------------------------------------- project context


def test_only_the_given_files_are_reported_but_names_are_checked_across_the_project(demo_project):
    write(demo_project, "broken", "name: broken\nmetrics: 5\n")          # not given: not reported
    write(demo_project, "copy", VALID.format(name="good"))               # same name as good.yaml
    result = validate([Path("experiments/good.yaml")])
    assert result.files == ("experiments/good.yaml",)
    [finding] = result.findings
    assert finding.code is Check.DUPLICATE_NAME
    assert "also used by experiments/copy.yaml" in finding.message


def test_a_folder_means_its_config_and_experiments(demo_project):
    result = validate([Path(".")])
    assert result.files == ("configs/cohortlab.yaml", "experiments/good.yaml")
    assert result.findings == ()


def test_a_broken_config_is_reported_even_when_not_given(demo_project):
    (demo_project / "configs" / "cohortlab.yaml").write_text("source: {kind: demo}\njourney: {won: paid}\n")
    code, out, _ = cli("validate", "experiments/good.yaml")
    assert code == 1
    assert "configs/cohortlab.yaml:2:16: CL211 won stage 'paid' is not one of the journey stages" in out


def test_a_wrong_data_path_is_an_error_at_source_path_and_column_checks_are_skipped(demo_project):
    (demo_project / "configs" / "cohortlab.yaml").write_text("source: {kind: files, path: ../warehouse}\n")
    write(demo_project, "cols", VALID.format(name="cols").replace("onboarding_flow = 'guided_v2'", "nope = 1"))
    result = validate([Path("experiments/cols.yaml"), Path("configs/cohortlab.yaml")])
    # a config given brings its project's experiments along: good.yaml is checked too, with what needs no data
    assert [(f.file, f.line, f.col, f.code, f.severity) for f in result.findings] == [
        ("configs/cohortlab.yaml", 1, 29, Check.SOURCE_NOT_FOUND, Severity.ERROR),
        ("experiments/cols.yaml", 2, 20, Check.NO_COLUMNS, Severity.NOTICE),
        ("experiments/good.yaml", 2, 20, Check.NO_COLUMNS, Severity.NOTICE)]
    assert result.findings[0].message == "data folder not found: warehouse (source.path in configs/cohortlab.yaml)"
    assert result.findings[0].path == "$.source.path"
    assert result.exit_code(strict=False) == 1
    # the same from the command line, with or without the data stage
    for args in ([], ["--check-data"]):
        code, out, _ = cli("validate", *args, env={"GITHUB_ACTIONS": "false"})
        assert code == 1
        assert out.startswith("configs/cohortlab.yaml:1:29: CL112 data folder not found: warehouse (source.path in "
                              "configs/cohortlab.yaml)\n  hint: source.path is relative to the config file's folder; "
                              "correct it, or put the data there before running (see `cohortlab docs data`)\n")
    # a DuckDB file that is a folder, a files source that is a file
    (demo_project / "warehouse").mkdir()
    (demo_project / "configs" / "cohortlab.yaml").write_text("source:\n  kind: duckdb\n  path: ../warehouse\n")
    [finding] = validate([Path("configs/cohortlab.yaml")], config=Path("configs/cohortlab.yaml")).findings
    assert (finding.line, finding.col, finding.code) == (3, 9, Check.SOURCE_NOT_FOUND)
    assert finding.message == "not a DuckDB file: warehouse is a folder (source.path in configs/cohortlab.yaml)"
    (demo_project / "data.csv").write_text("a\n1\n")
    (demo_project / "configs" / "cohortlab.yaml").write_text("source: {kind: files, path: ../data.csv}\n")
    [finding] = validate([Path("configs/cohortlab.yaml")], config=Path("configs/cohortlab.yaml")).findings
    assert (finding.line, finding.col, finding.code) == (1, 29, Check.SOURCE_NOT_FOUND)
    # a folder that is there but holds no accounts table is read only with --check-data: a notice without it
    (demo_project / "configs" / "cohortlab.yaml").write_text("source: {kind: files, path: ../warehouse}\n")
    [finding] = validate([Path("configs/cohortlab.yaml")], config=Path("configs/cohortlab.yaml")).findings
    assert (finding.code, finding.severity) == (Check.NO_COLUMNS, Severity.NOTICE)


def test_a_config_given_checks_the_experiments_it_affects(demo_project):
    # dropping a stage from the journey breaks an experiment that was fine: changing the config must say so
    write(demo_project, "stage", VALID.format(name="stage").replace("metrics: [cac", "metrics: [{metric: cost_per, "
                                                                                    "stage: opportunity}"))
    (demo_project / "configs" / "cohortlab.yaml").write_text(
        "source: {kind: demo}\njourney: {stages: [lead, customer], won: customer}\n")
    result = validate([Path("configs/cohortlab.yaml")])
    assert result.files == ("configs/cohortlab.yaml", "experiments/good.yaml", "experiments/stage.yaml")
    assert [(f.file, f.code) for f in result.findings] == [("experiments/stage.yaml", Check.UNKNOWN_STAGE)]
    # --config chooses the experiments' config; a config found in a folder is still judged as a config
    (demo_project / "other.yaml").write_text("source: {kind: demo}\n")
    assert [(f.file, f.code) for f in validate([Path(".")], config=Path("other.yaml")).findings] == []


def test_names_are_compared_whatever_the_order_of_the_files(demo_project):
    (demo_project / "more").mkdir()
    for name in ("a", "b"):
        (demo_project / "more" / f"{name}.yaml").write_text(VALID.format(name="dup"))
    for order in (["more/a.yaml", "more/b.yaml"], ["more/b.yaml", "more/a.yaml"]):
        found = {(f.file, f.code) for f in validate([Path(path) for path in order]).findings}
        assert found >= {("more/a.yaml", Check.DUPLICATE_NAME), ("more/b.yaml", Check.DUPLICATE_NAME)}, order


def test_an_experiment_named_cohortlab_is_an_experiment_and_unreadable_files_are_findings(demo_project):
    write(demo_project, "cohortlab", VALID.format(name="cohortlab"))
    (demo_project / "experiments" / "latin.yaml").write_bytes(b"name: caf\xe9\n")
    result = validate([Path("experiments/cohortlab.yaml"), Path("experiments/latin.yaml")])
    [finding] = result.findings
    assert (finding.file, finding.code) == ("experiments/latin.yaml", Check.YAML_SYNTAX)
    assert finding.message.startswith("cannot read experiments/latin.yaml")


def test_check_data_on_a_config_whose_data_breaks_the_contract(project, monkeypatch):
    path = project({"accounts": [{"account_id": "a", "created_at": "2025-01-01", "arm": "t"},
                                 {"account_id": "a", "created_at": "2025-01-02", "arm": "b"}]},
                   _retention_experiment(0.5), POWER_CONFIG)
    monkeypatch.chdir(path.parent.parent)
    [finding] = validate([Path("configs/cohortlab.yaml")], check_data=True).findings
    assert (finding.file, finding.code, finding.path) == ("configs/cohortlab.yaml", Check.DATA_UNREADABLE, "$.source")
    assert "column 'account_id' has 1 duplicated ids" in finding.message


def test_paths_that_do_not_exist_and_experiments_without_config_exit_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("validate", "nope.yaml")
    assert (code, out) == (2, "")
    assert err == "error: file not found: nope.yaml\n"
    Path("lonely.yaml").write_text(VALID.format(name="lonely"))
    code, _, err = cli("validate", "lonely.yaml")
    assert code == 2 and "no configs/cohortlab.yaml found above lonely.yaml" in err


# ----------------------------------------------------------------------------- formats


@pytest.fixture
def findings_project(demo_project):
    write(demo_project, "bad", VALID.format(name="bad2").replace("to: 2025-08-31", "to: 2099-08-31"))
    return demo_project


# the bad experiment's findings: a name that is not its file's (line 1) and an open treatment window (line 2)
BAD_TO = VALID.format(name="bad").replace("to: 2025-08-31", "to: 2099-08-31").splitlines()[1].index("2099") + 1


def test_text_format(findings_project):
    code, out, _ = cli("validate", "experiments/bad.yaml", "experiments/good.yaml", env={"GITHUB_ACTIONS": "false"})
    assert code == 1
    assert out.splitlines() == [
        "experiments/bad.yaml:1:7: CL201 name 'bad2' differs from the file name 'bad.yaml'",
        "  hint: rename the file to bad2.yaml or set name: bad",
        f"experiments/bad.yaml:2:{BAD_TO}: CL205 warning: treatment entry window ends 2099-08-31, after today "
        f"({dt.date.today()}); accounts entering later are not in the cohort yet",
        "1 error, 1 warning in 2 files",
    ]


def test_json_format(findings_project):
    code, out, _ = cli("validate", "--format", "json", "experiments/bad.yaml", "experiments/good.yaml")
    document = json.loads(out)
    assert code == 1
    assert document["files"] == ["experiments/bad.yaml", "experiments/good.yaml"]
    assert document["summary"] == {"error": 1, "warning": 1, "notice": 0}
    first, second = document["findings"]
    assert first == {"file": "experiments/bad.yaml", "line": 1, "col": 7, "code": "CL201", "severity": "error",
                     "message": "name 'bad2' differs from the file name 'bad.yaml'", "path": "$.name",
                     "hint": "rename the file to bad2.yaml or set name: bad"}
    assert (second["line"], second["col"], second["code"], second["severity"], second["path"]) == (
        2, BAD_TO, "CL205", "warning", "$.treatment.entered.to")


def test_github_format_is_the_default_on_actions_and_writes_the_step_summary(findings_project, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier\n")
    code, out, _ = cli("validate", "experiments/bad.yaml",
                       env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == ("::error file=experiments/bad.yaml,line=1,col=7,title=CL201 $.name::name 'bad2' differs "
                        "from the file name 'bad.yaml' (hint: rename the file to bad2.yaml or set name: bad)")
    assert lines[1].startswith(f"::warning file=experiments/bad.yaml,line=2,col={BAD_TO},title=CL205 "
                               "$.treatment.entered.to::treatment entry window ends 2099-08-31")
    assert lines[2] == "1 error, 1 warning in 1 file"
    written = summary.read_text()
    assert written.startswith("earlier\n### cohortlab validate\n")
    assert ("| ❌ | `experiments/bad.yaml:1:7` | CL201 | name 'bad2' differs from the file name 'bad.yaml' — rename "
            "the file to bad2.yaml or set name: bad |") in written


def test_github_escapes_newlines_percent_and_property_separators():
    from cohortlab.validate.findings import Finding, Result
    from cohortlab.validate.formats import github

    import io

    stream = io.StringIO()
    github(Result(("a,b:c.yaml",), (Finding("a,b:c.yaml", 1, 2, Check.YAML_SYNTAX, "50% bad\nline"),)), stream, False)
    assert stream.getvalue().splitlines()[0] == "::error file=a%2Cb%3Ac.yaml,line=1,col=2,title=CL001 $::50%25 bad%0Aline"


def test_junit_format(findings_project):
    code, out, _ = cli("validate", "--format", "junit", "experiments/bad.yaml", "experiments/good.yaml")
    assert code == 1
    suites = ElementTree.fromstring(out)
    assert (suites.get("tests"), suites.get("failures")) == ("3", "2")
    bad, good = suites.findall("testsuite")
    assert [case.find("failure").get("type") for case in bad.findall("testcase")] == ["CL201", "CL205"]
    assert [case.get("name") for case in good.findall("testcase")] == ["valid"]
    assert good.find("testcase").find("failure") is None


# ------------------------------------------------------------------------ schema and init


def test_committed_schemas_are_current():
    for kind, schema in json_schemas().items():
        committed = (ROOT / "schemas" / file_name(kind)).read_text()
        assert committed == dumps(schema), f"schemas/{file_name(kind)} is stale: run `cohortlab schema --write schemas`"


def test_examples_start_with_their_schema_header():
    for kind, folder in (("config", "configs"), ("experiment", "experiments")):
        for path in (ROOT / folder).glob("*.yaml"):
            assert path.read_text().startswith(header(kind)), path


def test_schema_knows_every_metric_and_rejects_unknown_keys():
    experiment = json.loads(cli("schema", "experiment")[1])
    variants = experiment["properties"]["metrics"]["items"]["anyOf"]
    # by name alone only where the defaults are valid: cost_per needs a stage, time_to_value a milestone
    assert variants[0]["enum"] == ["cac", "ltv", "ltv_cac", "payback", "retention", "early_churn", "nrr", "grr"]
    assert [v["properties"]["metric"]["const"] for v in variants[1:]] == [
        "cac", "cost_per", "conversion", "velocity", "ltv", "ltv_cac", "payback", "retention", "early_churn", "nrr",
        "grr", "time_to_value"]
    conversion = next(v for v in variants[1:] if v["properties"]["metric"] == {"const": "conversion"})
    assert conversion["required"] == ["metric", "from", "to"]  # YAML's `from`, not the Python field's name
    ltv = next(v for v in variants[1:] if v["properties"]["metric"] == {"const": "ltv"})
    assert ltv["properties"]["months"]["anyOf"][0]["maximum"] == 240 and ltv["additionalProperties"] is False
    assert "file" not in experiment["properties"]
    both = json.loads(cli("schema")[1])
    assert sorted(both) == ["config", "experiment"]


def test_init_scaffolds_a_valid_project_and_never_overwrites(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("init", "proj")
    assert code == 0
    assert sorted(str(p.relative_to(tmp_path / "proj")) for p in (tmp_path / "proj").rglob("*") if p.is_file()) == [
        "configs/cohortlab.yaml", "experiments/onboarding-v2.yaml", "schemas/config.schema.json",
        "schemas/experiment.schema.json"]
    assert (tmp_path / "proj" / "experiments" / "onboarding-v2.yaml").read_text().startswith(header("experiment"))
    assert cli("validate", "--strict", "proj")[0] == 0
    code, _, err = cli("init", "proj")
    assert code == 2 and "already exists" in err


# ------------------------------------------------------------------------------ data stage


def _retention_tables(stayers: int, churners: int):
    """Two arms, each with ``stayers`` customers paying every month to as_of and ``churners`` paying one month."""
    accounts, stages, revenue = [], [], []
    months = [f"2025-{m:02d}-01" for m in range(6, 13)] + [f"2026-{m:02d}-01" for m in range(1, 4)]
    for arm in ("t", "b"):
        for index in range(stayers + churners):
            account = f"{arm}{index}"
            accounts.append({"account_id": account, "created_at": "2025-05-01", "arm": arm, "acquisition_cost": 10})
            stages += [{"account_id": account, "stage": "lead", "at": "2025-05-01"},
                       {"account_id": account, "stage": "customer", "at": "2025-06-01"}]
            paid = months if index < stayers else months[:1]
            revenue += [{"account_id": account, "month": month, "amount": 100.0} for month in paid]
    return {"accounts": accounts, "stages": stages, "revenue": revenue}


def _retention_experiment(mde: float) -> dict:
    return {"name": "power", "metrics": [{"metric": "retention", "months": 1}], "mde": {"retention": mde},
            "treatment": {"where": "arm = 't'", "entered": {"from": "2025-05-01", "to": "2025-05-31"}},
            "baseline": {"where": "arm = 'b'", "entered": {"from": "2025-05-01", "to": "2025-05-31"}}}


POWER_CONFIG = {"as_of": "2026-03-31", "journey": {"stages": ["lead", "customer"], "won": "customer"},
                "defaults": {"seed": 3}}


def test_detectable_effect_matches_the_normal_theory_for_a_proportion(project):
    # 400 customers an arm, 70% retained at month 1 in both: the relative difference has
    # SE = sqrt((1 - p) / p × (1/n + 1/n)) = 0.046291; 80% power at 95%: 2.801585 × SE = 0.12969
    path = project(_retention_tables(280, 120), _retention_experiment(0.10), POWER_CONFIG)
    result = validate([path], check_data=True)
    notice = next(f for f in result.findings if f.code is Check.DETECTABLE_EFFECT)
    effect = float(re.search(r"power is ([\d.]+)%", notice.message).group(1)) / 100
    assert effect == pytest.approx(0.12969, rel=0.10)
    assert "(400 treatment and 400 baseline customers, effectively 400 in the matched baseline)" in notice.message
    underpowered = next(f for f in result.findings if f.code is Check.UNDERPOWERED)
    assert underpowered.path == "$.mde.retention" and underpowered.severity is Severity.WARNING
    assert result.exit_code(strict=False) == 0


def test_a_sufficient_mde_raises_no_warning(project):
    path = project(_retention_tables(280, 120), _retention_experiment(0.25), POWER_CONFIG)
    assert [f.code for f in validate([path], check_data=True).findings] == [Check.DETECTABLE_EFFECT]


def test_data_stage_windows_sizes_and_support(project):
    tables = _retention_tables(20, 5)
    for row in tables["accounts"]:
        row["tier"] = "gold" if row["arm"] == "b" or row["account_id"] < "t2" else "lead"
    experiment = _retention_experiment(0.5)
    experiment["match"] = {"method": "exact", "on": ["tier"]}
    path = project(tables, experiment, {**POWER_CONFIG, "defaults": {"min_cohort": 30}})
    found = {(f.code, f.path): f for f in validate([path], check_data=True).findings}
    for cohort in ("treatment", "baseline"):
        assert found[Check.COHORT_TOO_SMALL, f"$.{cohort}"].message == (
            f"the {cohort} cohort has 25 accounts, fewer than defaults.min_cohort (30)")
    # t0, t1 and t10..t19 sort before "t2": 12 of 25 treatment accounts share a stratum with the baseline
    assert found[Check.LOW_SUPPORT, "$.match.method"].message.startswith("only 48% of treatment accounts (12 of 25)")

    experiment["treatment"]["entered"] = {"from": "2026-06-01", "to": "2026-06-30"}
    path = project(tables, experiment, POWER_CONFIG)
    [outside] = [f for f in validate([path], check_data=True).findings if f.code is Check.WINDOW_OUTSIDE_DATA]
    assert outside.message == ("the treatment entry window 2026-06-01 to 2026-06-30 is outside the data: accounts "
                               "entered from 2025-05-01 to as_of 2026-03-31")


def test_the_declared_demo_schema_is_what_the_generator_produces():
    import duckdb

    from cohortlab.data.demo import generate
    from cohortlab.data.demo_schema import DEMO_TABLES

    con = duckdb.connect()
    produced = {}
    for name, frame in generate(2, entrants=300).items():
        con.register(name, frame)
        produced[name] = {row[0]: row[1] for row in con.execute(f"DESCRIBE {name}").fetchall()}
    assert produced == DEMO_TABLES


def test_every_code_is_documented_with_its_severity():
    from cohortlab.validate.rules import SEVERITY

    table = (ROOT / "docs" / "ci.md").read_text()
    for code in Check:
        assert f"| {code} | {SEVERITY.get(code, Severity.ERROR)} |" in table, code


def test_editors_accept_the_examples_and_reject_what_validate_rejects():
    # the schemas as an editor uses them (JSON Schema 2020-12), on the YAML as an editor reads it
    import jsonschema
    import yaml

    schemas = json_schemas()
    for kind, folder in (("config", "configs"), ("experiment", "experiments")):
        validator = jsonschema.Draft202012Validator(schemas[kind], format_checker=jsonschema.FormatChecker())
        validator.check_schema(schemas[kind])
        for path in (ROOT / folder).glob("*.yaml"):
            document = yaml.load(path.read_text(), Loader=yaml.BaseLoader)  # every scalar as text, like an editor
            assert list(validator.iter_errors(_typed(document))) == [], path
    experiment = jsonschema.Draft202012Validator(schemas["experiment"])
    example = _typed(yaml.load((ROOT / "experiments" / "onboarding-v2.yaml").read_text(), Loader=yaml.BaseLoader))
    for broken in ({**example, "primray": "ltv"}, {**example, "metrics": ["cca"]},
                   {**example, "metrics": [{"metric": "ltv", "monhts": 3}]}, {**example, "mde": {"ltv": 2}}):
        assert list(experiment.iter_errors(broken)), broken


def _typed(value):
    """YAML scalars read as text, typed the way the YAML language server does (numbers, booleans)."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    if re.fullmatch(r"-?\d*\.\d+", value):
        return float(value)
    return {"true": True, "false": False, "null": None}.get(value, value)


@pytest.mark.parametrize("text, finding", [
    ("name: x\ntitle: !!bool maybe\n", (2, 8, "CL009")),            # a tag the value does not fit
    ("name: x\ntitle: !!timestamp abc\n", (2, 8, "CL009")),
    ("name: x\nx: " + "[" * 80 + "]" * 80 + "\n", (2, 54, "CL001")),  # the 51st level: 4 + 50
    ("name: x\ntitle: a\x07b\n", (2, 9, "CL001")),                  # a control character, at its position
])
def test_hostile_yaml_is_a_finding_not_a_crash(demo_project, text, finding):
    write(demo_project, "hostile", text)
    assert codes(validate([Path("experiments/hostile.yaml")]))[0][1:] == finding


def test_an_unwritable_step_summary_warns_without_changing_the_outcome(demo_project):
    code, out, err = cli("validate", env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(demo_project)})
    assert code == 0 and out == "2 files checked, no problems\n"
    assert err.startswith("warning: cannot append to GITHUB_STEP_SUMMARY")


def test_junit_stays_well_formed_with_control_characters_in_a_file(demo_project):
    write(demo_project, "ctl", VALID.format(name="ctl") + '"ke\\x01y": 1\n')
    code, out, _ = cli("validate", "--format", "junit", "experiments/ctl.yaml")
    assert code == 1
    [failure] = ElementTree.fromstring(out).iter("failure")
    assert failure.get("message") == "ke\ufffdy: unknown key 'ke\ufffdy'"


def test_an_unfiltered_cohort_overlapping_in_time_selects_the_same_accounts(demo_project):
    text = VALID.format(name="open").replace('where: "onboarding_flow = \'guided_v2\'", ', "").replace(
        "from: 2024-09-01", "from: 2025-04-01").replace("to: 2025-02-28", "to: 2025-05-31")
    write(demo_project, "open", text)
    [finding] = validate([Path("experiments/open.yaml")]).findings
    assert finding.code is Check.COHORTS_OVERLAP
    assert finding.message.endswith("both windows include 2025-04-01 to 2025-05-31 and the treatment has no where "
                                    "filter")
