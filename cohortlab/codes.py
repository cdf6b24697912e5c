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
    UNKNOWN_PAID_CHANNEL = "W107"   # attribution.paid_channels names a channel no touch carries
    AS_OF_OUTLIERS = "W108"         # an inferred as_of left out sparse months beyond it (likely date errors)
    INFINITE_ATTRIBUTE = "W109"     # a numeric accounts attribute with infinite values (read as missing)
    REVENUE_ENDS_EARLY = "W110"     # revenue ends before as_of's last complete month: later months unobserved
    BEFORE_ENTRY = "W111"           # stage or milestone rows dated before their account entered (taken at entry)
    REVENUE_STARTS_LATE = "W112"    # revenue starts after some cohort customers were won: they are not observed
    UNMATCHED_TREATED = "W201"      # treated accounts without a baseline stratum (dropped)
    UNBALANCED = "W202"             # a covariate's SMD above max_smd after matching
    SCORE_NOT_CONVERGED = "W203"    # the propensity model's fit did not converge (separation)
    METRIC_UNAVAILABLE = "W301"     # a metric could not be computed
    DEGENERATE_REPLICATES = "W302"  # bootstrap replicates where a metric was undefined
    LTV_EXTRAPOLATED = "W303"       # more than half of a modeled LTV is extrapolated by the retention model
    LTV_EXPANSION_DRIVEN = "W304"   # more than half of a modeled LTV comes from expansion
    REPLICATES_TOO_FEW = "W305"     # a verdict decided beyond what the bootstrap replicates resolve


class Status(StrEnum):
    """Whether a metric result holds numbers, and if not, why."""

    OK = "ok"
    UNAVAILABLE = "unavailable"


class Unavailability(StrEnum):
    """Why a metric result holds no numbers; the result's reason says it in words for the case at hand."""

    NO_DATA = "no_data"                  # what it is made of is missing from the source: a table, a column, rows
    NO_COST = "no_cost"                  # the acquisition cost of accounts it counts is unknown
    NOT_CONFIGURED = "not_configured"    # the config lacks what it needs (no channel marked paid)
    NOT_APPLICABLE = "not_applicable"    # it does not apply to these accounts (no paid channel's cost reaches them)
    EMPTY_COHORT = "empty_cohort"        # a cohort has no accounts, or matching dropped every treatment account
    WINDOW_OPEN = "window_open"          # no account's window has ended by as_of
    NOT_REACHED = "not_reached"          # too few accounts reached what it measures (a stage, a win, a milestone)
    NOT_OBSERVED = "not_observed"        # too few customers are observed at the tenure it needs
    TOO_FEW = "too_few"                  # a cohort has fewer customers than defaults.min_cohort
    UNDEFINED = "undefined"              # the estimate is undefined for a cohort
    TOO_FEW_REPLICATES = "too_few_replicates"  # defined in too few bootstrap replicates for an interval
    SEGMENT_UNMATCHED = "segment_unmatched"    # matching within a breakdown segment failed


class Inference(StrEnum):
    """How intervals and p-values are computed (``defaults.ci``, ``--ci``), and how a result's were."""

    BOOTSTRAP = "bootstrap"
    ANALYTIC = "analytic"   # the delta method and Greenwood; a metric without an analytic form uses the bootstrap


class Interval(StrEnum):
    """The interval read from the distribution: the bootstrap's percentile or BCa, or the analytic normal."""

    PERCENTILE = "percentile"
    BCA = "bca"
    NORMAL = "normal"


class Correction(StrEnum):
    """The multiplicity correction across a report's family of comparisons."""

    HOLM = "holm"
    BH = "bh"       # Benjamini–Hochberg (the false discovery rate)
    NONE = "none"


class Verdict(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    INCONCLUSIVE = "inconclusive"
    UNAVAILABLE = "unavailable"


class Check(StrEnum):
    """Findings of `cohortlab validate` (docs/ci.md lists them); the value is the stable code shown to users.

    CL0xx: the file is not valid YAML or breaks the schema. CL1xx: a name it refers to does
    not exist (metric, parameter, stage, column). CL2xx: it is well-formed but unsound.
    CL3xx: it does not fit the data (only with ``--check-data``). Each code has one rule in
    :mod:`cohortlab.validate.rules`, which gives its severity and the stage that checks it.
    """

    YAML_SYNTAX = "CL001"           # not valid YAML
    DUPLICATE_KEY = "CL002"         # a key appears twice in one mapping
    NOT_A_MAPPING = "CL003"         # the document is empty or not a mapping
    UNKNOWN_KEY = "CL004"           # a key the schema does not have
    MISSING_KEY = "CL005"           # a required key is absent
    WRONG_TYPE = "CL006"            # a value of the wrong type
    NOT_ALLOWED = "CL007"           # a value outside the allowed choices
    OUT_OF_RANGE = "CL008"          # a number or list length outside its bounds
    BAD_FORMAT = "CL009"            # a value in the wrong format (name pattern, date)

    UNKNOWN_METRIC = "CL101"        # a metric name that is not registered
    UNKNOWN_PARAMETER = "CL102"     # a parameter the metric does not have
    BAD_PARAMETER = "CL103"         # a metric parameter with an invalid value
    UNKNOWN_STAGE = "CL104"         # a stage that is not in the journey
    WHERE_SYNTAX = "CL105"          # a `where` expression that does not parse
    UNKNOWN_COLUMN = "CL106"        # a column that the accounts table does not have
    WHERE_TYPE = "CL107"            # a `where` literal of the wrong type for its column
    UNKNOWN_MDE_METRIC = "CL108"    # an `mde` key that is not among the experiment's metrics
    PRIMARY_NOT_LISTED = "CL109"    # `primary` is not among the experiment's metrics
    NO_COLUMNS = "CL110"            # the accounts columns could not be read; column checks skipped (notice)
    COLUMN_TYPE = "CL111"           # a `match` column of a type the method cannot use
    SOURCE_NOT_FOUND = "CL112"      # `source.path` names a folder or DuckDB file that does not exist

    NAME_MISMATCH = "CL201"         # the file stem differs from `name`
    DUPLICATE_NAME = "CL202"        # two experiments share a name
    WINDOW_ORDER = "CL203"          # an entry window ends before it starts
    BASELINE_IN_FUTURE = "CL204"    # the baseline window ends after today
    TREATMENT_OPEN = "CL205"        # the treatment window ends after today (warning)
    COHORTS_OVERLAP = "CL206"       # treatment and baseline select the same accounts
    COHORTS_MAY_OVERLAP = "CL207"   # windows overlap and the filters are not provably disjoint (warning)
    METRIC_TWICE = "CL208"          # the same metric with the same parameters listed twice
    BAD_MDE = "CL209"               # an `mde` that is not a sensible relative effect
    MATCH_SPEC = "CL210"            # `match` keys that do not fit the method, or cutpoints out of order
    JOURNEY = "CL211"               # journey stages repeated, or `won` not among them

    DATA_UNREADABLE = "CL301"       # the data source cannot be opened or breaks the contract
    WINDOW_OUTSIDE_DATA = "CL302"   # an entry window outside the range of accounts' entry dates
    COHORT_TOO_SMALL = "CL303"      # a cohort smaller than defaults.min_cohort
    LOW_SUPPORT = "CL304"           # many treatment accounts have no baseline in their stratum (warning)
    UNDERPOWERED = "CL305"          # `mde` below the effect detectable with 80% power (warning)
    METRIC_UNAVAILABLE = "CL306"    # a metric cannot be computed on these cohorts (warning)
    DETECTABLE_EFFECT = "CL307"     # the effect each metric can detect with 80% power (notice)
    WINDOW_PARTLY_OUTSIDE = "CL308"  # an entry window reaching past the data's first entry or as_of (warning)

    INTERNAL = "CL999"              # a rule crashed on this file: a bug in cohortlab, reported, not hidden


class Severity(StrEnum):
    """How much a finding of `cohortlab validate` matters; each rule has one."""

    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"   # information only: never fails, not even with --strict

