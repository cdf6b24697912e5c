"""Typed models of `configs/cohortlab.yaml` and `experiments/*.yaml` (documented in docs/experiments.md).

Unknown keys are errors everywhere, so a typo never silently changes an analysis.
Metric parameters are checked by the metric registry (``cohortlab.metrics``), which
knows each metric's parameters; here a metric is a name plus its raw parameters.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from cohortlab.spec.base import Strict
from cohortlab.spec.matching import AnyMatchSpec, NoMatch

DEFAULT_STAGES = ("lead", "qualified", "sales_accepted", "opportunity", "customer")
TABLE_NAMES = ("accounts", "stages", "revenue", "spend", "touches", "milestones")
TABLE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")  # no separators, no leading dot: never a path


# ---------------------------------------------------------------------------- config


class DemoSource(Strict):
    kind: Literal["demo"]
    seed: Annotated[int, Field(ge=0)] = 7


class FilesSource(Strict):
    """A folder with one Parquet or CSV file per table (``accounts.parquet``, ``revenue.csv``, …)."""

    kind: Literal["files"]
    path: Path


class DuckDBSource(Strict):
    """Tables inside a DuckDB database file."""

    kind: Literal["duckdb"]
    path: Path


Source = Annotated[DemoSource | FilesSource | DuckDBSource, Field(discriminator="kind")]


class TableMapping(Strict):
    """Where a contract table lives when its name or columns differ: ``{name: mrr, columns: {amount: mrr_usd}}``."""

    name: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _a_name_not_a_path(cls, value: str | None) -> str | None:
        # a table's name, never a path: `../../outside/accounts` must not read files outside the data
        if value is not None and not TABLE_NAME.fullmatch(value):
            raise ValueError(f"'{value}' is not a table name: use letters, digits, '_' and '-' (and '.' inside), "
                             "not a path")
        return value


class Journey(Strict):
    stages: list[str] = Field(default_factory=lambda: list(DEFAULT_STAGES), min_length=1)
    won: str = "customer"
    # the conversion window: days after entry an account has to move through the journey. When set,
    # acquisition metrics count stages and cost inside it, over the accounts whose window has elapsed
    window_days: Annotated[int, Field(ge=1, le=3650)] | None = None


class Economics(Strict):
    gross_margin: Annotated[float, Field(gt=0, le=1)] | Literal["cost"] = 1.0
    discount_rate: Annotated[float, Field(ge=0, lt=1)] = 0.10
    horizon_months: Annotated[int, Field(ge=1, le=240)] = 36
    renewal_period_months: Annotated[int, Field(ge=1, le=60)] = 1
    # annual growth of surviving customers' revenue beyond their observed months (modeled LTV); 0 holds it flat
    expansion_rate: Annotated[float, Field(gt=-1, le=2)] = 0.0


class Attribution(Strict):
    """How spend reaches accounts through touches (`cohortlab docs metrics`: spend allocation and attribution)."""

    # how an account's cost is divided among its touches, for the channels' shares (paid-only CAC)
    model: Literal["first_touch", "last_touch", "linear", "position_based"] = "linear"
    # the influence window: touches up to this many days before the account was won (or its cutoff) count
    window_days: Annotated[int, Field(ge=1)] | None = None
    # channels whose spend is paid media: `{metric: cac, spend: paid}` counts only their share
    paid_channels: list[str] = Field(default_factory=list)


class Defaults(Strict):
    confidence: Annotated[float, Field(gt=0.5, lt=1)] = 0.95
    ci: Literal["bootstrap", "analytic"] = "bootstrap"
    interval: Literal["percentile", "bca"] = "percentile"   # the bootstrap's interval
    replicates: Annotated[int, Field(ge=100, le=100_000)] = 2000
    seed: Annotated[int, Field(ge=0)] = 7
    correction: Literal["holm", "bh", "none"] = "holm"
    min_cohort: Annotated[int, Field(ge=1)] = 30
    max_smd: Annotated[float, Field(gt=0)] = 0.1


class Config(Strict):
    source: Source
    as_of: dt.date | None = None
    tables: dict[Literal["accounts", "stages", "revenue", "spend", "touches", "milestones"], TableMapping] = Field(
        default_factory=dict
    )
    journey: Journey = Field(default_factory=Journey)
    economics: Economics = Field(default_factory=Economics)
    attribution: Attribution = Field(default_factory=Attribution)
    defaults: Defaults = Field(default_factory=Defaults)

    file: Path | None = Field(default=None, exclude=True)

    def resolve(self, path: Path) -> Path:
        """Resolve a path written in the config relative to the config file's folder."""
        if path.is_absolute() or self.file is None:
            return path
        return Path(os.path.normpath(self.file.parent / path))  # configs/../data shown as data


# ------------------------------------------------------------------------ experiment


class EntryWindow(Strict):
    start: dt.date = Field(alias="from", description="First entry date (accounts.created_at), inclusive.")
    end: dt.date = Field(alias="to", description="Last entry date, inclusive.")


class CohortSpec(Strict):
    where: str | None = Field(default=None, description="A filter over accounts columns, e.g. \"onboarding_flow = "
                              "'guided_v2' AND employees >= 50\"; default: all accounts.")
    entered: EntryWindow = Field(description="The window the cohort entered the funnel in: {from: DATE, to: DATE}.")


class MetricRequest(Strict):
    """A metric as written: its registered name and raw parameters, checked by the metric registry."""

    metric: str
    params: dict[str, Any] = Field(default_factory=dict)
    index: int = 0
    mapping: bool = False  # written as {metric: …}: its name is at .metric


def _metric_request(raw: Any, index: int) -> Any:
    """``ltv`` or ``{metric: ltv, basis: earned}`` as a request; anything else fails as a mapping at its index."""
    if isinstance(raw, str):
        return {"metric": raw, "index": index}
    if isinstance(raw, dict):
        params = {key: value for key, value in raw.items() if key != "metric"}
        return {**({"metric": raw["metric"]} if "metric" in raw else {}), "params": params, "index": index,
                "mapping": True}
    return raw


class Experiment(Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", description="The experiment's name; equals "
                               "the file's stem.")]
    title: str | None = None
    owner: str | None = None
    hypothesis: str | None = None
    treatment: CohortSpec = Field(description="The accounts exposed to the change.")
    baseline: CohortSpec = Field(description="The accounts to compare with, reweighted to match the treatment.")
    match: AnyMatchSpec = Field(default_factory=NoMatch, description="How the baseline is matched to the treatment: "
                                "one of the methods, each with its own keys (`cohortlab docs matching`).")
    metrics: list[MetricRequest] = Field(min_length=1, description="Metrics to compare: a name, or {metric: NAME, "
                                         "PARAMETER: VALUE}.")
    primary: str | None = Field(default=None, description="The metric the decision rests on; one of `metrics`.")
    mde: dict[str, float] = Field(default_factory=dict, description="Metric name -> smallest relative effect worth "
                                  "detecting (0.05 is 5%); checked by `cohortlab validate --check-data`.")
    breakdown: list[str] = Field(default_factory=list, description="Accounts columns: every metric is also "
                                 "compared within each value of each column (matched within it), with its own "
                                 "interval; p-values are adjusted across metrics × segments.")

    file: Path | None = Field(default=None, exclude=True)

    @field_validator("metrics", mode="before")
    @classmethod
    def _normalise_metrics(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [_metric_request(raw, index) for index, raw in enumerate(value)]
