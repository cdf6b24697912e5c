"""How an analysis runs: the inference settings (the config's defaults with the command line's overrides on
top) and the progress callback told as each stage starts and as the bootstrap replicates are done."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cohortlab.codes import Correction, Inference, Interval
from cohortlab.engine.records import Settings
from cohortlab.spec.models import Config

# told each stage as it starts (done and total None), and the replicates as they are done (count, total)
Progress = Callable[[str, int | None, int | None], None]
LOADING, SELECTING, MATCHING, REPLICATES = "loading data", "selecting cohorts", "matching", "bootstrap replicates"


def quiet(stage: str, done: int | None = None, total: int | None = None) -> None:
    return None


@dataclass(frozen=True)
class Overrides:
    """Command-line settings that take precedence over the config's defaults."""

    replicates: int | None = None
    seed: int | None = None
    ci: Inference | str | None = None
    interval: Interval | str | None = None    # percentile or bca
    breakdown: tuple[str, ...] | None = None   # accounts columns to break every metric down by, instead of the
                                               # experiment's own


def settings_of(config: Config, overrides: Overrides) -> Settings:
    """The settings an analysis runs with: the overrides where given, else the config's defaults."""
    defaults = config.defaults
    return Settings(confidence=defaults.confidence, ci=Inference(overrides.ci or defaults.ci),
                    replicates=overrides.replicates or defaults.replicates,
                    seed=defaults.seed if overrides.seed is None else overrides.seed,
                    correction=Correction(defaults.correction),
                    interval=Interval(overrides.interval or defaults.interval))
