"""JSON Schemas of configs and experiments for editors (``# yaml-language-server: $schema=…``).

They are generated from the pydantic models, with the parts the models leave to the metric
registry written out: each metric entry is a registered name, or a mapping with ``metric``
and that metric's own parameters.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from cohortlab.metrics.registry import METRICS
from cohortlab.spec.models import Config, Experiment

SCHEMAS = ("config", "experiment")
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def file_name(kind: str) -> str:
    return f"{kind}.schema.json"


def header(kind: str, schemas: str = "../schemas") -> str:
    """The first line of a YAML file that tells editors its schema."""
    return f"# yaml-language-server: $schema={schemas}/{file_name(kind)}\n"


def _metric_entry() -> dict[str, Any]:
    bare = [metric.name for metric in METRICS if _defaults_valid(metric)]
    variants: list[dict[str, Any]] = [{"type": "string", "enum": bare, "description": "A metric with its default "
                                       "parameters."}]
    for metric in METRICS:
        params = metric.Params.model_json_schema()
        variants.append({
            "type": "object",
            "description": metric.summary,
            "properties": {"metric": {"const": metric.name}, **params.get("properties", {})},
            "required": ["metric", *params.get("required", [])],
            "additionalProperties": False,
        })
    return {"anyOf": variants}


def _defaults_valid(metric) -> bool:
    """Whether a metric can be written by name alone (its parameters all have valid defaults)."""
    try:
        metric.Params.model_validate({})
    except ValidationError:
        return False
    return True


def experiment_schema() -> dict[str, Any]:
    schema = Experiment.model_json_schema(by_alias=True)
    schema["$defs"].pop("MetricRequest")
    properties = schema["properties"]
    properties.pop("file")
    properties["metrics"]["items"] = _metric_entry()
    names = [metric.name for metric in METRICS]
    properties["mde"].update(propertyNames={"enum": names},
                             additionalProperties={"type": "number", "exclusiveMinimum": 0, "maximum": 1})
    return {"$schema": DRAFT, "title": "cohortlab experiment", **schema}


def config_schema() -> dict[str, Any]:
    schema = Config.model_json_schema(by_alias=True)
    schema["properties"].pop("file")
    return {"$schema": DRAFT, "title": "cohortlab config", **schema}


def json_schemas() -> dict[str, dict[str, Any]]:
    return {"config": config_schema(), "experiment": experiment_schema()}


def dumps(schema: dict[str, Any]) -> str:
    """A schema as the text committed under ``schemas/``: stable key order, two-space indent."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
