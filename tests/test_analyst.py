"""An analyst's first hour: a report that fits the terminal, verdicts that agree with their intervals, a
bottom line, counts that say what they count, breakdowns without clutter, a truthful progress display."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import pytest

import cohortlab
from cohortlab.codes import Status, Verdict
from cohortlab.report import format as fmt
from cohortlab.report.render.text import render_text
from tests.test_cli import cli

ROOT = Path(__file__).resolve().parents[1]
ONBOARDING = ROOT / "experiments" / "onboarding-v2.yaml"
ORCHESTRATED = ROOT / "experiments" / "orchestrated-journey.yaml"


@pytest.fixture(scope="module")
def reports():
    """Both demo experiments at 100, 200 and 2,000 replicates (the journey broken down by channel)."""
    return {(path.stem, replicates): cohortlab.compare(path, replicates=replicates,
                                                       breakdown=["channel"] if path is ORCHESTRATED else None)
            for path in (ONBOARDING, ORCHESTRATED) for replicates in (100, 200, 2000)}


def _excludes_zero(interval: tuple[float, float]) -> bool:
    return interval[0] > 0 or interval[1] < 0


def _agree(report) -> int:
    """Assert that every result's verdict is better or worse exactly when both intervals shown (the delta's and
    the relative delta's, at its CI level) exclude 0; return how many results were checked."""
    checked = 0
    for result in report.results:
        if result.status is not Status.OK:
            continue
        decided = result.verdict in (Verdict.BETTER, Verdict.WORSE)
        shown = _excludes_zero(result.ci_adjusted) and _excludes_zero(result.ci_relative_adjusted)
        assert shown == decided, (result.label, result.segment, result.ci_adjusted, result.ci_relative_adjusted)
        assert (result.p_adjusted < 0.05) == decided or result.delta == 0
        checked += 1
    return checked


def test_every_verdict_agrees_with_its_intervals_at_every_replicate_count(reports):
    """At 100, 200 and 2,000 replicates, overall and in every segment."""
    assert sum(_agree(report) for report in reports.values()) > 100


@pytest.fixture(scope="module")
def corrected(tmp_path_factory):
    """The demo project with each correction, to compare under Holm, Benjamini–Hochberg and none."""
    import shutil

    projects = {}
    for correction in ("holm", "bh", "none"):
        root = tmp_path_factory.mktemp(correction)
        shutil.copytree(ROOT / "experiments", root / "experiments")
        (root / "configs").mkdir()
        config = (ROOT / "configs" / "cohortlab.yaml").read_text(encoding="utf-8")
        assert "  correction: holm\n" in config
        (root / "configs" / "cohortlab.yaml").write_text(config.replace("  correction: holm\n",
                                                                          f"  correction: {correction}\n"))
        projects[correction] = root
    return projects


@pytest.mark.parametrize("correction", ["holm", "bh", "none"])
@pytest.mark.parametrize("ci, interval", [("bootstrap", "percentile"), ("bootstrap", "bca"), ("analytic", None)])
def test_verdicts_agree_with_their_intervals_for_every_method_and_correction(corrected, correction, ci, interval):
    checked = 0
    for name in ("onboarding-v2", "orchestrated-journey"):
        report = cohortlab.compare(corrected[correction] / "experiments" / f"{name}.yaml", replicates=200, ci=ci,
                                   interval=interval, breakdown=["segment"])
        assert report.settings.correction == correction
        checked += _agree(report)
    assert checked > 40


def test_clear_verdicts_do_not_move_with_the_replicate_count(reports):
    """Where 2,000 replicates give a clear answer (adjusted p below 0.005 or above 0.2), 100 and 200 give the same
    (no p-value floor of 1/B for Holm to multiply: on main before this change, 100 replicates made every
    orchestrated-journey metric inconclusive, p 0.020, adjusted 0.119), or the report warns (W305) that its
    replicates do not resolve that comparison's level."""
    compared, moved = 0, []
    for name in ("onboarding-v2", "orchestrated-journey"):
        reference = {(result.key, result.segment): result for result in reports[name, 2000].results}
        for replicates in (100, 200):
            report = reports[name, replicates]
            warned = " ".join(warning.message for warning in report.warnings if warning.code == "W305")
            for result in report.results:
                settled = reference[result.key, result.segment]
                if settled.status is Status.OK and (settled.p_adjusted < 0.005 or settled.p_adjusted > 0.2):
                    compared += 1
                    if result.verdict != settled.verdict:
                        moved.append((name, replicates, result.label, result.segment))
                        assert f"{result.label} ({result.segment})" in warned or (
                            result.segment is None and result.label in warned), moved[-1]
    assert compared > 60 and len(moved) <= 2, moved
    overall = {result.key: result for result in reports["orchestrated-journey", 100].overall}
    assert overall["cost_per:opportunity"].verdict is Verdict.BETTER
    assert overall["conversion:qualified:opportunity:90"].p_value < 1e-6


def test_the_interval_shown_is_at_the_holm_level_of_its_step(reports):
    """The most significant of m comparisons is decided at 1 − α/m: its interval is at that level."""
    report = reports["onboarding-v2", 2000]
    family = [result for result in report.results if result.status is Status.OK]
    first = min(family, key=lambda result: result.p_value)
    assert first.confidence_adjusted == pytest.approx(1 - 0.05 / len(family))
    # and its unadjusted 95% interval is narrower, inside the adjusted one
    assert first.ci_adjusted[0] < first.ci[0] and first.ci[1] < first.ci_adjusted[1]


def test_too_few_replicates_for_the_adjusted_level_are_warned(reports):
    """Retention's verdict (adjusted level 1 − 0.05/7) rests on the extrapolated tail with 200 replicates but not
    with 2,000; the warning names it and the replicate count that resolves it: ⌈2·5/(0.05/7)⌉ − 1 = 1,400."""
    warned = [warning for warning in reports["onboarding-v2", 200].warnings if warning.code == "W305"]
    assert len(warned) == 1 and "Retention (3m)" in warned[0].message
    assert "--replicates 1400 or more" in warned[0].message
    assert not [warning for warning in reports["onboarding-v2", 2000].warnings if warning.code == "W305"]


def _numbers(result) -> list[str]:
    """The figures a reader needs from a result, as the report formats them."""
    if result.status is not Status.OK:
        return []
    return [fmt.value(result.baseline, result.unit), fmt.value(result.treatment, result.unit),
            fmt.value(result.delta, result.unit, signed=True),
            *(fmt.value(bound, result.unit, signed=True) for bound in result.ci_adjusted),
            fmt.relative(result.delta_relative), fmt.p_value(result.p_adjusted),
            # the breakdown table leaves out the relative delta's interval
            *(fmt.relative(bound) for bound in result.ci_relative_adjusted if result.segment is None)]


@pytest.mark.parametrize("width", [80, 100, 160])
@pytest.mark.parametrize("name", ["onboarding-v2", "orchestrated-journey"])
def test_the_report_fits_the_terminal(reports, name, width):
    """No line wider than the terminal, nothing cut with an ellipsis, and every figure of every metric (overall
    and per segment) whole on some line."""
    report = reports[name, 200]
    buffer = io.StringIO()
    render_text(report, buffer, False, width)
    text = buffer.getvalue()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "…" not in text
    tokens = {token for line in lines for token in re.split(r"[\s\[\],]+|(?<=\d),(?= )", line)}
    for result in report.results:
        for figure in _numbers(result):
            assert any(figure in line for line in lines), (width, result.label, result.segment, figure)
    assert tokens  # the split found words


def test_the_layout_narrows_with_the_width(reports):
    """One line per metric where it fits (220 columns), three lines per metric at 100, one block per metric at 80."""
    report = reports["onboarding-v2", 200]
    texts = {}
    for width in (80, 100, 220):
        buffer = io.StringIO()
        render_text(report, buffer, False, width)
        texts[width] = buffer.getvalue()
    assert re.search(r"★ LTV \(modeled, 36m\) +463 · 230 customers +353 · 230 +\$63,920 +\$56,516", texts[220])
    assert re.search(r"★ LTV \(modeled, 36m\) +\$63,920", texts[100])       # baseline beside the label …
    assert re.search(r"463 · 230 customers +\$56,516", texts[100])           # … treatment under it
    assert "\neff. 353 · 230 " in texts[100]
    assert "\n  baseline $63,920 · treatment $56,516\n" in texts[80]


def test_the_bottom_line_says_what_changed_how_sure_and_whether_it_could_be_seen(reports):
    report = reports["onboarding-v2", 2000]
    primary = report.primary_result
    line = report.bottom_line
    assert line.startswith(f"LTV (modeled, 36m), the primary metric, is {fmt.relative(-primary.delta_relative, False)}"
                           " lower in the treatment cohort ($56,516 vs $63,920; −$7,404): ○ inconclusive")
    assert f"its {fmt.level(primary.confidence_adjusted)} interval" in line
    assert (f"Underpowered: these cohorts detect a change of {fmt.relative(primary.mde_relative, False)} or more with "
            "80% power, not the 10% the experiment declares") in line
    assert primary.mde_relative > 0.10
    journey = reports["orchestrated-journey", 2000]
    assert journey.bottom_line.startswith("CAC, the primary metric, is ")
    # broken down by channel, 35 comparisons: CAC's Holm step needs more than its p of about 0.01
    cac = journey.primary_result
    assert cac.verdict is Verdict.INCONCLUSIVE and cac.p_value < 0.05 < cac.p_adjusted
    assert (f"○ inconclusive, its {fmt.level(cac.confidence_adjusted)} interval "
            f"{fmt.interval(cac.ci_relative_adjusted, None)} includes 0.") in journey.bottom_line
    assert journey.bottom_line.endswith(
        f"These cohorts detect a change of {fmt.relative(journey.primary_result.mde_relative, False)} or more with "
        "80% power.")  # no mde declared for CAC
    text = journey.text(width=100)
    assert "Bottom line: CAC, the primary metric" in text
    assert str(journey) == text and max(len(line) for line in text.splitlines()) <= 100


def test_counts_say_what_they_count(reports):
    report = reports["onboarding-v2", 200]
    assert report.result("ltv:earned:12").n_unit == "customers"
    assert report.result("cac").n_unit == "accounts"
    assert report.result("cac").n == {"treatment": 1579, "baseline": 3136}
    assert report.result("ltv:earned:12").n == {"treatment": 230, "baseline": 463}
    text = report.text(width=160)
    assert "463 · 230 customers" in text and "3,136 · 1,579 accounts" in text
    narrow = report.text(width=80)
    effective = report.result("cac").effective_n
    assert f"n 3,136 · 1,579 accounts (effective {effective['baseline']:,.0f} · 1,579)" in narrow


def test_breakdowns_say_not_applicable_once_and_give_reasons(reports):
    """Paid CAC in channels no paid channel reaches: out of the table and out of the p-value family, said once;
    an unavailable segment result shows its reason."""
    report = reports["orchestrated-journey", 200]
    paid = [result for result in report.breakdown if result.key == "cac:paid"]
    not_applicable = [result.segment for result in paid if result.status is Status.UNAVAILABLE]
    assert set(not_applicable) == {"channel=content", "channel=events", "channel=outbound", "channel=partner"}
    assert all(math.isnan(result.p_adjusted) for result in paid if result.status is Status.UNAVAILABLE)
    text = report.text(width=160)
    assert text.count("not applicable") == 1
    assert ("CAC (paid) in channel=content, events, outbound, partner: not applicable: no paid channel's cost "
            "reaches these accounts") in " ".join(text.split())
    assert "$0.00 [$0.00, $0.00]" not in text
    retention = next(result for result in report.breakdown
                     if result.key == "retention:3" and result.segment == "channel=outbound")
    assert retention.status is Status.UNAVAILABLE
    assert f"Retention (3m) in channel=outbound – unavailable: {retention.reason}" in " ".join(text.split())


def test_progress_names_the_stages_and_counts_the_real_replicates():
    seen = []
    cohortlab.compare(ONBOARDING, replicates=150, breakdown=["persona"],
                      progress=lambda stage, done, total: seen.append((stage, done, total)))
    stages = list(dict.fromkeys(stage for stage, _, _ in seen))
    assert stages[:4] == ["loading data", "selecting cohorts", "matching", "bootstrap replicates"]
    main = [(done, total) for stage, done, total in seen if stage == "bootstrap replicates"]
    assert main[0] == (0, 150) and main[-1] == (150, 150)
    segments = [stage for stage in stages[4:]]
    assert segments and all(stage.startswith("persona=") and stage.endswith(": bootstrap replicates")
                            for stage in segments)


def test_breakdown_on_the_command_line():
    code, out, err = cli("compare", str(ONBOARDING), "--replicates", "100", "--breakdown", "segment",
                         "--format", "json")
    assert code == 0, err
    import json

    segments = {result["segment"] for result in json.loads(out)["results"]}
    assert segments == {None, "segment=Enterprise", "segment=Mid-Market", "segment=SMB"}
    code, out, err = cli("compare", str(ONBOARDING), "--replicates", "100", "--breakdown", "segmnt")
    assert code == 2
    assert "--breakdown segmnt: the accounts table has no column 'segmnt'" in err
    assert "did you mean 'segment'?" in err


def test_force_color_is_honoured_when_piped(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    code, out, err = cli("compare", str(ONBOARDING), "--replicates", "100")
    assert code == 0, err
    assert "\x1b[" in out
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, err = cli("compare", str(ONBOARDING), "--replicates", "100")
    assert "\x1b[" not in out


def test_the_readme_shows_the_report_as_it_is(reports):
    """README's quickstart holds the demo report at 100 columns: its bottom line and metrics, line for line."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme[readme.index("```\nBottom line:") + 4:]
    shown = shown[:shown.index("```")].splitlines()
    text = reports["onboarding-v2", 2000].text(width=100).splitlines()
    assert all(line == line.rstrip() for line in text)  # no padding to paste
    blank = shown.index("")
    for part in (shown[:blank], shown[blank + 1:]):  # the bottom line; the metrics
        start = text.index(part[0])
        assert text[start:start + len(part)] == part
    assert len(shown) > 40
