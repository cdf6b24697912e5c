"""The command line: exit codes, messages without tracebacks, formats, determinism."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cohortlab.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def cli(*args: str):
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_missing_file_exits_2_without_traceback():
    code, out, err = cli("compare", "experiments/nope.yaml")
    assert code == 2
    assert "error: file not found: experiments/nope.yaml" in err
    assert "Traceback" not in out + err


def test_bad_yaml_names_file_line_and_column(tmp_path):
    path = tmp_path / "experiments" / "bad.yaml"
    path.parent.mkdir()
    path.write_text("name: bad\nmetrics: [cac\n")
    code, out, err = cli("compare", str(path))
    assert code == 2
    assert f"error: {path}:3:1: CL001 invalid YAML" in err
    assert "Traceback" not in out + err


def test_unknown_metric_suggests_a_name(tmp_path):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "cohortlab.yaml").write_text("source: {kind: demo, seed: 7}\n")
    path = tmp_path / "experiments" / "typo.yaml"
    path.parent.mkdir()
    path.write_text(
        "name: typo\n"
        "treatment: {entered: {from: 2025-01-01, to: 2025-02-01}}\n"
        "baseline: {entered: {from: 2024-01-01, to: 2024-02-01}}\n"
        "metrics:\n"
        "  - cca\n"
    )
    code, out, err = cli("compare", str(path))
    assert code == 2
    assert f"{path}:5:5: CL101 unknown metric 'cca'" in err
    assert "hint: did you mean 'cac'?" in err


def test_no_config_found(tmp_path):
    path = tmp_path / "lonely.yaml"
    path.write_text("name: lonely\ntreatment: {entered: {from: 2025-01-01, to: 2025-02-01}}\n"
                    "baseline: {entered: {from: 2024-01-01, to: 2024-02-01}}\nmetrics: [cac]\n")
    code, _, err = cli("compare", str(path))
    assert code == 2 and "no configs/cohortlab.yaml found" in err


def test_debug_shows_the_traceback():
    result = runner.invoke(app, ["compare", "experiments/nope.yaml", "--debug"])
    assert result.exit_code != 0
    assert result.exception is not None and type(result.exception).__name__ == "InputError"


def test_bad_data_exits_2(tmp_path):
    import pandas as pd

    data = tmp_path / "data"
    data.mkdir()
    pd.DataFrame({"account_id": ["a", "a"], "created_at": pd.to_datetime(["2025-01-01"] * 2)}).to_parquet(
        data / "accounts.parquet")
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "cohortlab.yaml").write_text("source: {kind: files, path: ../data}\n")
    (tmp_path / "experiments").mkdir()
    path = tmp_path / "experiments" / "x.yaml"
    path.write_text("name: x\ntreatment: {entered: {from: 2025-01-01, to: 2025-02-01}}\n"
                    "baseline: {entered: {from: 2024-01-01, to: 2024-02-01}}\nmetrics: [cac]\n")
    code, out, err = cli("compare", str(path))
    assert code == 2
    assert "table 'accounts'" in err and "duplicated ids" in err and "Traceback" not in out + err


def test_json_report_contract(tmp_path):
    out = tmp_path / "report.json"
    code, _, err = cli("compare", str(ROOT / "experiments" / "onboarding-v2.yaml"), "--format", "json",
                       "--output", str(out), "--replicates", "200")
    assert code == 0, err
    report = json.loads(out.read_text())
    assert report["schema_version"] == 1
    assert set(report) >= {"experiment", "as_of", "settings", "cohorts", "matching", "results", "warnings",
                           "bottom_line"}
    assert report["bottom_line"].startswith("LTV (modeled, 36m), the primary metric, is ")
    assert report["settings"] == {"confidence": 0.95, "ci": "bootstrap", "replicates": 200, "seed": 7,
                                  "correction": "holm", "interval": "percentile"}
    assert report["experiment"]["name"] == "onboarding-v2"
    for result in report["results"]:
        assert set(result) >= {"metric", "params", "label", "segment", "direction", "baseline", "treatment", "delta",
                               "ci", "delta_relative", "ci_relative", "p_value", "p_adjusted", "verdict", "n",
                               "method", "interval", "standard_error", "mde", "mde_relative", "details",
                               "n_unit", "confidence_adjusted", "ci_adjusted", "ci_relative_adjusted"}
        assert result["ci"][0] <= result["delta"] <= result["ci"][1]
        assert result["ci_adjusted"][0] <= result["ci"][0] and result["ci"][1] <= result["ci_adjusted"][1]
        assert (result["method"], result["interval"]) == ("bootstrap", "percentile")
    assert report["matching"]["balance"][0].keys() >= {"covariate", "smd_before", "smd_after", "variance_ratio"}


def test_analytic_intervals_say_where_the_bootstrap_stands_in(tmp_path):
    out = tmp_path / "report.json"
    code, _, err = cli("compare", str(ROOT / "experiments" / "onboarding-v2.yaml"), "--format", "json",
                       "--output", str(out), "--replicates", "200", "--ci", "analytic")
    assert code == 0, err
    report = json.loads(out.read_text())
    methods = {result["metric"] + ":" + str(result["params"].get("basis", "")): (result["method"], result["interval"])
               for result in report["results"]}
    assert methods == {"ltv:modeled": ("bootstrap", "percentile"), "ltv:earned": ("analytic", "normal"),
                       "ltv_cac:": ("bootstrap", "percentile"), "payback:": ("bootstrap", "percentile"),
                       "retention:": ("analytic", "normal"), "nrr:": ("analytic", "normal"),
                       "cac:": ("analytic", "normal")}
    code, text, err = cli("compare", str(ROOT / "experiments" / "onboarding-v2.yaml"), "--replicates", "200",
                          "--ci", "analytic", "--interval", "bca")
    assert code == 0, err
    assert ("intervals at the level each verdict is read at, Holm-adjusted (CI level; 95% family-wise over 7 "
            "comparisons) · analytic († bootstrap BCa, 200 replicates, seed 7)") in " ".join(text.split())
    assert "LTV:CAC †" in text and "† no analytic form: the bootstrap's interval" in text


def test_markdown_report():
    code, out, err = cli("compare", str(ROOT / "experiments" / "orchestrated-journey.yaml"), "--format",
                         "markdown", "--replicates", "200")
    assert code == 0, err
    assert out.startswith("### orchestrated-journey — Orchestrated nurture journey")
    assert out.index("**Bottom line:** CAC, the primary metric") < out.index("| cohort |")  # it opens the report
    assert "| metric | n baseline · treatment | effective n | baseline | treatment |" in out
    # cost per opportunity, counted in accounts; the matched baseline's effective size below its 3,422
    assert re.search(r"\| 3,422 · 1,763 accounts \| 2,\d\d\d · 1,763 \| \$2,861 \| \$2,383 \|", out)
    assert "| covariate | SMD before | SMD after | variance ratio | eCDF max |\n" in out  # no empty last column
    assert "\x1b[" not in out


def test_same_seed_gives_byte_identical_json(tmp_path):
    """Two separate processes, default settings (2,000 replicates): the same bytes."""
    outputs = []
    for run in range(2):
        target = tmp_path / f"run{run}.json"
        subprocess.run([sys.executable, "-m", "cohortlab", "compare", str(ROOT / "experiments" / "onboarding-v2.yaml"),
                        "--format", "json", "--output", str(target)], check=True, cwd=tmp_path,
                       env={**os.environ, "NO_COLOR": "1"}, capture_output=True)
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["settings"]["replicates"] == 2000


def test_several_experiments_in_one_json_array():
    code, out, err = cli("compare", str(ROOT / "experiments" / "onboarding-v2.yaml"),
                         str(ROOT / "experiments" / "orchestrated-journey.yaml"), "--format", "json",
                         "--replicates", "100")
    assert code == 0, err
    reports = json.loads(out)
    assert [report["experiment"]["name"] for report in reports] == ["onboarding-v2", "orchestrated-journey"]


def test_weights_file_holds_each_accounts_matching_weight(tmp_path):
    import pandas as pd

    target = tmp_path / "weights.csv"
    code, out, err = cli("compare", str(ROOT / "experiments" / "onboarding-v2.yaml"), "--format", "json",
                         "--replicates", "100", "--weights", str(target))
    assert code == 0, err
    report = json.loads(out)
    frame = pd.read_csv(target)
    assert list(frame.columns) == ["experiment", "account_id", "cohort", "weight", "subclass"]
    cohorts = frame.groupby("cohort").size()
    assert cohorts["treatment"] == report["cohorts"]["treatment"]["accounts"]
    assert cohorts["baseline"] == report["cohorts"]["baseline"]["accounts"]
    assert frame["account_id"].is_unique
    # exact matching, recomputed from the file: in each stratum a baseline account weighs N_T / N_B
    counts = frame.pivot_table(index="subclass", columns="cohort", values="account_id", aggfunc="count", fill_value=0)
    baseline = frame[frame["cohort"] == "baseline"].join(counts, on="subclass")
    expected = (baseline["treatment"] / baseline["baseline"]).to_numpy()
    assert baseline["weight"].to_numpy() == pytest.approx(expected)
    assert frame.loc[frame["cohort"] == "baseline", "weight"].sum() == pytest.approx(
        report["cohorts"]["treatment"]["accounts"] - report["cohorts"]["treatment"]["dropped_unmatched"])


def test_weights_file_needs_a_known_suffix(tmp_path):
    code, out, err = cli("compare", str(ROOT / "experiments" / "onboarding-v2.yaml"), "--weights",
                         str(tmp_path / "weights.txt"))
    assert code == 2
    assert "must end in .csv or .parquet" in err
