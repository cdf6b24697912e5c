"""cohortlab: matched-cohort experiments on CAC and LTV, with honest confidence intervals.

>>> import cohortlab
>>> report = cohortlab.compare("experiments/onboarding-v2.yaml")
>>> report.result("ltv:earned:12").ci

Heavy modules load on first use, so `import cohortlab` and the CLI start fast.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: the CLI starts sooner

__version__ = "0.1.0"
__all__ = ["compare", "Report", "CohortlabError"]

if TYPE_CHECKING:
    from cohortlab.errors import CohortlabError
    from cohortlab.report.build import compare
    from cohortlab.report.model import Report


def __getattr__(name: str):
    if name == "compare":
        from cohortlab.report.build import compare

        return compare
    if name == "Report":
        from cohortlab.report.model import Report

        return Report
    if name == "CohortlabError":
        from cohortlab.errors import CohortlabError

        return CohortlabError
    raise AttributeError(f"module 'cohortlab' has no attribute {name!r}")
