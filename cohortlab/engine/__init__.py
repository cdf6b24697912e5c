"""The comparison engine: from an experiment, its config and the data to a typed :class:`Analysis`
(docs/architecture.md). Renderers and commands read Analyses; nothing here keeps state between them."""

from cohortlab.engine.analysis import Analysis, analyze, estimate_metrics
from cohortlab.engine.settings import Overrides, Progress

__all__ = ("Analysis", "Overrides", "Progress", "analyze", "estimate_metrics")
