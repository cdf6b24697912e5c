"""The one place metrics are registered, and the resolution of an experiment's metric list."""

from __future__ import annotations

import difflib

from pydantic import ValidationError

from cohortlab.errors import SpecError
from cohortlab.metrics.acquisition import CAC, CostPer
from cohortlab.metrics.base import Metric
from cohortlab.metrics.ltv import LTV
from cohortlab.metrics.nrr import NRR
from cohortlab.metrics.retention import Retention
from cohortlab.spec.models import Experiment, Journey, MetricRequest
from cohortlab.spec.yamlio import LoadedYaml

METRICS: tuple[type[Metric], ...] = (CAC, CostPer, LTV, Retention, NRR)
BY_NAME: dict[str, type[Metric]] = {metric.name: metric for metric in METRICS}


def resolve(request: MetricRequest, journey: Journey, loaded: LoadedYaml | None = None) -> Metric:
    """The metric a request names, with checked parameters; errors point at the YAML."""
    path = ("metrics", request.index)

    def fail(message: str, where: tuple = (), key: bool = False, hint: str | None = None) -> SpecError:
        location = loaded.locate(path + where, key=key) if loaded else None
        return SpecError(message, location, hint)

    definition = BY_NAME.get(request.metric)
    if definition is None:
        close = difflib.get_close_matches(request.metric, BY_NAME, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"metrics are: {', '.join(BY_NAME)}"
        raise fail(f"unknown metric '{request.metric}'", ("metric",) if request.params else (), hint=hint)
    try:
        params = definition.Params.model_validate(request.params)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        name = str(first["loc"][0]) if first["loc"] else ""
        if first["type"] == "extra_forbidden":
            allowed = ", ".join(definition.Params.model_fields) or "none"
            raise fail(f"metric '{request.metric}' has no parameter '{name}'", (name,), key=True,
                       hint=f"its parameters are: {allowed}") from None
        raise fail(f"metric '{request.metric}' parameter '{name}': {first['msg']}", (name,)) from None
    metric = definition(params)
    for name, message in metric.problems(journey):
        raise fail(f"metric '{request.metric}': {message}", (name,))
    return metric


def resolve_all(experiment: Experiment, journey: Journey, loaded: LoadedYaml | None = None) -> list[Metric]:
    metrics, seen = [], {}
    for request in experiment.metrics:
        metric = resolve(request, journey, loaded)
        if metric.key in seen:
            location = loaded.locate(("metrics", request.index)) if loaded else None
            raise SpecError(f"metric '{metric.label}' is listed twice (first as item {seen[metric.key] + 1})", location)
        seen[metric.key] = request.index
        metrics.append(metric)
    return metrics
