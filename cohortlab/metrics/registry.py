"""The one place metrics are registered, and the resolution of an experiment's metric list."""

from __future__ import annotations

from pydantic import ValidationError

from cohortlab.codes import Check
from cohortlab.metrics.acquisition import CAC, CostPer
from cohortlab.metrics.base import Metric
from cohortlab.metrics.funnel import Conversion, Velocity
from cohortlab.metrics.ltv import LTV
from cohortlab.metrics.nrr import GRR, NRR
from cohortlab.metrics.payback import LTVCAC, Payback
from cohortlab.metrics.retention import EarlyChurn, Retention
from cohortlab.metrics.ttv import TimeToValue
from cohortlab.spec.models import Economics, Experiment, Journey, MetricRequest
from cohortlab.spec.problems import Problem, did_you_mean, raise_first
from cohortlab.spec.yamlio import LoadedYaml

METRICS: tuple[type[Metric], ...] = (CAC, CostPer, Conversion, Velocity, LTV, LTVCAC, Payback, Retention,
                                     EarlyChurn, NRR, GRR, TimeToValue)
BY_NAME: dict[str, type[Metric]] = {metric.name: metric for metric in METRICS}


def resolve(request: MetricRequest, journey: Journey, economics: Economics = Economics()
            ) -> tuple[Metric | None, list[Problem]]:
    """The metric a request names with checked parameters (defaults from ``economics`` filled in), or None
    with its problems."""
    path = ("metrics", request.index)
    definition = BY_NAME.get(request.metric)
    if definition is None:
        hint = did_you_mean(request.metric, BY_NAME, f"the metrics are: {', '.join(BY_NAME)}")
        where = path + ("metric",) if request.mapping else path
        return None, [Problem(Check.UNKNOWN_METRIC, f"unknown metric '{request.metric}'", where, hint)]
    try:
        params = definition.Params.model_validate(request.params)
    except ValidationError as error:
        return None, [_parameter_problem(request, definition, item, path) for item in error.errors(include_url=False)]
    metric = definition(definition.with_defaults(params, economics, journey))
    problems = [Problem(problem.code, problem.message, path + problem.path, problem.hint, problem.key, problem.offset)
                for problem in metric.problems(journey)]
    return (None if problems else metric), problems


def _parameter_problem(request: MetricRequest, definition: type[Metric], item: dict, path: tuple) -> Problem:
    name = str(item["loc"][0]) if item["loc"] else ""
    if item["type"] == "extra_forbidden":
        names = [field.alias or name for name, field in definition.Params.model_fields.items()]
        hint = did_you_mean(name, names, f"its parameters are: {', '.join(names)}" if names
                            else f"{request.metric} takes no parameters")
        return Problem(Check.UNKNOWN_PARAMETER, f"metric '{request.metric}' has no parameter '{name}'",
                       path + (name,), hint, key=True)
    message = item["msg"].removeprefix("Value error, ")
    return Problem(Check.BAD_PARAMETER, f"metric '{request.metric}' parameter '{name}': {message}", path + (name,))


def resolve_metrics(experiment: Experiment, journey: Journey, economics: Economics = Economics()
                    ) -> tuple[list[Metric], list[Problem]]:
    """Every metric that resolves, and the problems of those that do not (or are listed twice)."""
    metrics, problems, seen = [], [], {}
    for request in experiment.metrics:
        metric, found = resolve(request, journey, economics)
        problems += found
        if metric is None:
            continue
        if metric.key in seen:
            problems.append(Problem(Check.METRIC_TWICE, f"metric '{metric.label}' is listed twice (first as item "
                                    f"{seen[metric.key] + 1})", ("metrics", request.index)))
            continue
        seen[metric.key] = request.index
        metrics.append(metric)
    return metrics, problems


def resolve_all(experiment: Experiment, journey: Journey, economics: Economics,
                loaded: LoadedYaml | None = None) -> list[Metric]:
    """The experiment's metrics; the first problem raises, positioned in ``loaded``."""
    metrics, problems = resolve_metrics(experiment, journey, economics)
    raise_first(problems, loaded)
    return metrics
