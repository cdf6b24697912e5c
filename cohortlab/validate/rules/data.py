"""The data stage (CL3xx, with ``--check-data``): does the experiment fit the data?

The source must open and meet the contract (reported in the config). Each experiment's
entry windows are checked against the accounts' entry dates; when both lie inside the data,
the real comparison runs once (:mod:`cohortlab.validate.data`) and the other rules read its
analysis: cohort sizes, matching support, metrics that cannot be computed, detectable effects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cohortlab.codes import Check, Severity
from cohortlab.spec.problems import Problem
from cohortlab.spec.rules import COHORTS
from cohortlab.validate.rules.base import Rule, Stage, Subject

if TYPE_CHECKING:
    from cohortlab.engine import Analysis
    from cohortlab.validate.files import ExperimentFile, Source

MIN_SUPPORT = 0.90      # share of treatment accounts with a baseline account to match


class AnalysisRule(Rule):
    """A rule on the analysis of the data stage's comparison, when there is one (none when an entry window lies
    outside the data, CL302, or the comparison failed, CL301)."""

    def check(self, file: ExperimentFile) -> list[Problem]:
        return [] if file.analysis is None else self.check_analysis(file, file.analysis)

    def check_analysis(self, file: ExperimentFile, analysis: Analysis) -> list[Problem]:
        raise NotImplementedError


class DataUnreadable(Rule):
    """The data cannot be opened, or breaks the contract: `compare` would refuse it.

    Reported in the config when the source fails, and in an experiment when its comparison
    does. Anti-pattern: duplicate account ids, a negative amount, a table the config names that
    the source lacks. Best practice: data that meets the contract (`cohortlab docs data`).
    """

    code = Check.DATA_UNREADABLE
    name = "data-unreadable"
    severity = Severity.ERROR
    stage = Stage.DATA
    subjects = frozenset({Subject.SOURCE, Subject.EXPERIMENT})

    def check(self, file: Source | ExperimentFile) -> list[Problem]:
        if file.subject is Subject.EXPERIMENT:
            failure = file.comparison[1]
            return [] if failure is None else [Problem(self.code, failure.message, hint=failure.hint)]
        opened = file.opened
        if opened.unreadable is not None and file.check_data:  # without --check-data: the notice CL110
            return [Problem(self.code, f"--check-data cannot open the data: {opened.unreadable.message}",
                            ("source",), opened.unreadable.hint)]
        if opened.broken is not None:
            message = opened.broken.message
            return [Problem(self.code, message, ("tables",) if "tables." in message else ("source",),
                            opened.broken.hint)]
        return []


class WindowOutsideData(Rule):
    """An entry window outside the accounts' entry dates: the cohort would be empty.

    Anti-pattern: a baseline entered in 2019 on data that starts in 2023.
    Best practice: windows between the first account's entry and as_of.
    """

    code = Check.WINDOW_OUTSIDE_DATA
    name = "window-outside-data"
    severity = Severity.ERROR
    stage = Stage.DATA

    def check(self, file: ExperimentFile) -> list[Problem]:
        return self.mine(file.data_windows)


class CohortTooSmall(AnalysisRule):
    """A cohort smaller than ``defaults.min_cohort``.

    Anti-pattern: a treatment window of a week, with a narrow filter.
    Best practice: a wider entry window or filter, so that each cohort has at least min_cohort accounts.
    """

    code = Check.COHORT_TOO_SMALL
    name = "cohort-too-small"
    severity = Severity.ERROR
    stage = Stage.DATA

    def check_analysis(self, file: ExperimentFile, analysis: Analysis) -> list[Problem]:
        minimum = file.config.defaults.min_cohort
        problems = []
        for name in COHORTS:
            accounts = analysis.cohorts[name].accounts
            if accounts < minimum:
                problems.append(Problem(self.code, f"the {name} cohort has {accounts:,} accounts, fewer than "
                                        f"defaults.min_cohort ({minimum})", (name,),
                                        "widen the entry window or the where filter"))
        return problems


class LowSupport(AnalysisRule):
    """Under 90% of treatment accounts have a baseline account to match: the rest are dropped.

    Anti-pattern: exact matching on many fine columns, which leaves strata with no baseline.
    Best practice: match on fewer or coarser columns, or widen the caliper.
    """

    code = Check.LOW_SUPPORT
    name = "low-support"
    severity = Severity.WARNING
    stage = Stage.DATA

    def check_analysis(self, file: ExperimentFile, analysis: Analysis) -> list[Problem]:
        treatment = analysis.cohorts["treatment"]
        if not treatment.accounts or treatment.dropped_unmatched is None:
            return []
        supported = 1 - treatment.dropped_unmatched / treatment.accounts
        if supported >= MIN_SUPPORT:
            return []
        matched = treatment.accounts - treatment.dropped_unmatched
        return [Problem(self.code, f"only {supported:.0%} of treatment accounts ({matched:,} of "
                        f"{treatment.accounts:,}) have a baseline account to match", ("match", "method"),
                        "match on fewer or coarser columns, or widen the caliper")]


class Underpowered(AnalysisRule):
    """An `mde` below the effect the cohorts can detect with 80% power.

    Anti-pattern: ``mde: {ltv: 0.02}`` on cohorts that can only detect a 40% change.
    Best practice: longer entry windows, or an `mde` the cohorts can detect.
    """

    code = Check.UNDERPOWERED
    name = "underpowered"
    severity = Severity.WARNING
    stage = Stage.DATA

    def check_analysis(self, file: ExperimentFile, analysis: Analysis) -> list[Problem]:
        from cohortlab.validate.data import underpowered_problems

        return underpowered_problems(file.experiment, file.config, analysis.results, analysis.settings)


class MetricUnavailable(AnalysisRule):
    """A metric cannot be computed on these cohorts: its table absent or empty, too few customers, no cost data.

    Anti-pattern: ``{metric: retention, months: 24}`` on cohorts observed for a year.
    Best practice: metrics the data can answer; the report would show them as unavailable.
    """

    code = Check.METRIC_UNAVAILABLE
    name = "metric-unavailable"
    severity = Severity.WARNING
    stage = Stage.DATA

    def check_analysis(self, file: ExperimentFile, analysis: Analysis) -> list[Problem]:
        from cohortlab.validate.data import unavailable_problems

        return unavailable_problems(file.experiment, file.config, analysis.results)


class DetectableEffect(AnalysisRule):
    """The smallest effect each metric can detect with 80% power, for information.

    Anti-pattern: none; it tells what the cohorts can show before anyone waits for a verdict.
    Best practice: set `mde` per metric to the effect worth detecting, and check it is above this.
    """

    code = Check.DETECTABLE_EFFECT
    name = "detectable-effect"
    severity = Severity.NOTICE
    stage = Stage.DATA

    def check_analysis(self, file: ExperimentFile, analysis: Analysis) -> list[Problem]:
        from cohortlab.validate.data import detectable_problems

        return detectable_problems(file.experiment, file.config, analysis.results, analysis.settings)


class WindowPartlyOutside(Rule):
    """An entry window reaching before the data's first entry or past as_of: only the part inside counts.

    Anti-pattern: a treatment window to the end of the year, on data as of September.
    Best practice: windows inside the data, so that the cohort is what the window says.
    """

    code = Check.WINDOW_PARTLY_OUTSIDE
    name = "window-partly-outside"
    severity = Severity.WARNING
    stage = Stage.DATA

    def check(self, file: ExperimentFile) -> list[Problem]:
        return self.mine(file.data_windows)
