"""Stable codes for warnings and result statuses, defined once and used everywhere."""

from __future__ import annotations

from enum import StrEnum


class WarningCode(StrEnum):
    """Warnings a report carries; the value is the stable code shown to users."""

    UNKNOWN_ACCOUNT = "W101"        # event rows whose account_id is not in accounts (ignored)
    AFTER_AS_OF = "W102"            # event rows dated after as_of (ignored)
    UNKNOWN_STAGE = "W103"          # stage rows whose stage is not in the journey (ignored)
    REVENUE_BEFORE_WON = "W104"     # revenue rows outside a customer's observed tenure (ignored)
    UNATTRIBUTED_SPEND = "W105"     # spend that reaches no account through touches
    NULL_COST = "W106"              # revenue rows without cost when margin comes from cost
    UNMATCHED_TREATED = "W201"      # treated accounts without a baseline stratum (dropped)
    UNBALANCED = "W202"             # a covariate's SMD above max_smd after matching
    METRIC_UNAVAILABLE = "W301"     # a metric could not be computed
    DEGENERATE_REPLICATES = "W302"  # bootstrap replicates where a metric was undefined


class Status(StrEnum):
    """Whether a metric result holds numbers, and if not, why."""

    OK = "ok"
    UNAVAILABLE = "unavailable"


class Verdict(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    INCONCLUSIVE = "inconclusive"
    UNAVAILABLE = "unavailable"
