"""The demo tables' columns and DuckDB types, without generating them.

`cohortlab validate` needs only the columns (to check `where` and `match.on`); declaring
them here spares it importing pandas and running the generator. A test keeps this in
step with what :func:`cohortlab.data.demo.generate` produces.
"""

from __future__ import annotations

TIMESTAMP = "TIMESTAMP_NS"

DEMO_TABLES: dict[str, dict[str, str]] = {
    "accounts": {"account_id": "VARCHAR", "created_at": TIMESTAMP, "segment": "VARCHAR", "vertical": "VARCHAR",
                 "persona": "VARCHAR", "channel": "VARCHAR", "employees": "BIGINT", "onboarding_flow": "VARCHAR",
                 "journey": "VARCHAR"},
    "stages": {"account_id": "VARCHAR", "stage": "VARCHAR", "at": TIMESTAMP},
    "revenue": {"account_id": "VARCHAR", "month": TIMESTAMP, "amount": "DOUBLE"},
    "spend": {"date": TIMESTAMP, "campaign": "VARCHAR", "channel": "VARCHAR", "amount": "DOUBLE"},
    "touches": {"account_id": "VARCHAR", "at": TIMESTAMP, "campaign": "VARCHAR", "channel": "VARCHAR"},
    "milestones": {"account_id": "VARCHAR", "milestone": "VARCHAR", "at": TIMESTAMP},
}
