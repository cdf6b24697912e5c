"""Rules on a config or an experiment on its own: no metric registry, no data.

Each returns every problem it finds. `load_config` and `load_experiment` raise the first
of the problems that stop a comparison (:func:`config_problems`, :func:`experiment_problems`);
`cohortlab validate` reports them all, with the warnings that need today's date or only
suspect a problem, through its rules (:mod:`cohortlab.validate.rules`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cohortlab.codes import Check
from cohortlab.spec.models import Config, Experiment
from cohortlab.spec.problems import Problem
from cohortlab.spec.where import And, Comparison, Expr, InList, WhereSyntaxError, parse_where

COHORTS = ("treatment", "baseline")


def config_problems(config: Config) -> list[Problem]:
    journey = config.journey
    problems = []
    seen: set[str] = set()
    for index, stage in enumerate(journey.stages):
        if stage in seen:
            problems.append(Problem(Check.JOURNEY, f"journey stage '{stage}' is listed twice",
                                    ("journey", "stages", index)))
        seen.add(stage)
    if journey.won not in seen:
        problems.append(Problem(Check.JOURNEY, f"won stage '{journey.won}' is not one of the journey stages",
                                ("journey", "won"), f"the stages are: {', '.join(journey.stages)}"))
    return problems


def experiment_problems(experiment: Experiment, misplaced_keys: Sequence[Problem] = ()) -> list[Problem]:
    """What stops a comparison before any data is read: windows, overlap of the cohorts, `primary`, `mde` and
    `match`, in that order. ``misplaced_keys``: `match` keys of another method, which the loader finds
    (``parse_model``), listed first among the `match` problems."""
    return [*window_order_problems(experiment), *overlap_problems(experiment), *primary_problems(experiment),
            *mde_problems(experiment), *misplaced_keys, *experiment.match.problems()]


def primary_problems(experiment: Experiment) -> list[Problem]:
    """`primary` names a metric the experiment does not list (CL109)."""
    listed = _listed(experiment)
    if experiment.primary is None or experiment.primary in listed:
        return []
    return [Problem(Check.PRIMARY_NOT_LISTED, f"primary metric '{experiment.primary}' is not among the "
                    "experiment's metrics", ("primary",), f"the metrics are: {', '.join(listed)}")]


def mde_problems(experiment: Experiment) -> list[Problem]:
    """`mde` keys that name no listed metric (CL108), and effects that are not between 0 and 1 (CL209)."""
    listed = _listed(experiment)
    problems = []
    for name, effect in experiment.mde.items():
        if name not in listed:
            problems.append(Problem(Check.UNKNOWN_MDE_METRIC, f"mde names '{name}', which is not among the "
                                    "experiment's metrics", ("mde", name), f"the metrics are: {', '.join(listed)}",
                                    key=True))
        if not 0 < effect <= 1:
            problems.append(Problem(Check.BAD_MDE, f"mde for '{name}' is {effect:g}; it is a relative effect "
                                    "between 0 and 1", ("mde", name), "0.05 means a 5% change"))
    return problems


def _listed(experiment: Experiment) -> list[str]:
    return list(dict.fromkeys(request.metric for request in experiment.metrics))


def window_order_problems(experiment: Experiment) -> list[Problem]:
    """Entry windows that end before they start (CL203)."""
    problems = []
    for name in COHORTS:
        window = getattr(experiment, name).entered
        if window.end < window.start:
            problems.append(Problem(Check.WINDOW_ORDER, f"{name} entry window ends ({window.end}) before it "
                                    f"starts ({window.start})", (name, "entered", "to")))
    return problems


def future_window_problems(experiment: Experiment, today: dt.date) -> list[Problem]:
    """Entry windows that end after ``today``: a baseline is history (CL204); a treatment is still filling (CL205)."""
    problems = []
    for name in COHORTS:
        window = getattr(experiment, name).entered
        if window.end <= today:
            continue
        path = (name, "entered", "to")
        if name == "baseline":
            problems.append(Problem(Check.BASELINE_IN_FUTURE, f"baseline entry window ends {window.end}, after "
                                    f"today ({today}); a baseline is history", path))
        else:
            problems.append(Problem(Check.TREATMENT_OPEN, f"treatment entry window ends {window.end}, after today "
                                    f"({today}); accounts entering later are not in the cohort yet", path))
    return problems


def overlap_problems(experiment: Experiment) -> list[Problem]:
    """Treatment and baseline that select the same accounts: overlapping windows with the same filter, or none on
    one side (CL206)."""
    shared = _shared_entry(experiment)
    if shared is None:
        return []
    span, where = shared
    if where[0] == where[1]:
        same = "neither has a where filter" if where[0] is None else "their where filters are the same"
    elif None in where:  # the unfiltered cohort holds every account of the other one in the shared span
        same = f"the {COHORTS[where.index(None)]} has no where filter"
    else:
        return []
    return [Problem(Check.COHORTS_OVERLAP, f"treatment and baseline select the same accounts: {span} and {same}",
                    ("baseline", "entered"), "give the cohorts disjoint entry windows or filters")]


def possible_overlap_problems(experiment: Experiment) -> list[Problem]:
    """Treatment and baseline that may share accounts: overlapping windows with different filters that do not
    provably exclude each other (CL207, a warning)."""
    shared = _shared_entry(experiment)
    if shared is None:
        return []
    span, where = shared
    if where[0] == where[1] or None in where:
        return []  # the same accounts for certain: CL206
    try:
        expressions = [parse_where(text) for text in where]
    except WhereSyntaxError:
        return []  # reported with the references
    if disjoint(*expressions):
        return []
    return [Problem(Check.COHORTS_MAY_OVERLAP, f"treatment and baseline may share accounts: {span} and their "
                    "filters do not exclude each other", ("baseline", "entered"),
                    "make them exclusive, e.g. onboarding_flow = 'guided_v2' vs onboarding_flow = 'classic'")]


def _shared_entry(experiment: Experiment) -> tuple[str, tuple[str | None, str | None]] | None:
    """The entry days both cohorts' windows include, in words, and the cohorts' filters; None if there are none."""
    treatment, baseline = experiment.treatment, experiment.baseline
    start = max(treatment.entered.start, baseline.entered.start)
    end = min(treatment.entered.end, baseline.entered.end)
    if start > end:
        return None
    return f"both windows include {start} to {end}", (treatment.where, baseline.where)


def disjoint(first: Expr, second: Expr) -> bool:
    """Whether two filters provably select no common row: on some column, one allows only values the other
    excludes (``=``/``IN`` against ``=``/``IN``/``!=``/``NOT IN``), looking at top-level ``AND`` terms only."""
    allowed = [_allowed_values(first), _allowed_values(second)]
    excluded = [_excluded_values(first), _excluded_values(second)]
    for column in allowed[0].keys() & allowed[1].keys():
        if not allowed[0][column] & allowed[1][column]:
            return True
    for one, other in ((0, 1), (1, 0)):
        for column, values in allowed[one].items():
            if values <= excluded[other].get(column, set()):
                return True
    return False


def _terms(expression: Expr) -> tuple[Expr, ...]:
    return expression.operands if isinstance(expression, And) else (expression,)


def _allowed_values(expression: Expr) -> dict[str, set]:
    found: dict[str, set] = {}
    for term in _terms(expression):
        if isinstance(term, Comparison) and term.op == "=":
            values = {term.value.value}
        elif isinstance(term, InList) and not term.negated:
            values = {literal.value for literal in term.values}
        else:
            continue
        name = term.column.name
        found[name] = found[name] & values if name in found else values
    return found


def _excluded_values(expression: Expr) -> dict[str, set]:
    found: dict[str, set] = {}
    for term in _terms(expression):
        if isinstance(term, Comparison) and term.op == "!=":
            found.setdefault(term.column.name, set()).add(term.value.value)
        elif isinstance(term, InList) and term.negated:
            found.setdefault(term.column.name, set()).update(literal.value for literal in term.values)
    return found
