"""The JSON report (SPEC §9): a stable, versioned contract; plain, deterministic output."""

from __future__ import annotations

import json
from typing import TextIO

from cohortlab.report.model import Report


def render_json(report: Report, stream: TextIO) -> None:
    stream.write(json.dumps(report.to_dict(), indent=2, ensure_ascii=False, allow_nan=False))
    stream.write("\n")
