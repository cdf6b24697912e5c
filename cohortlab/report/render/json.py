"""The JSON report: a stable, versioned contract; plain, deterministic output."""

from __future__ import annotations

import json
from typing import TextIO

from cohortlab.report.model import Report


def render_json(report: Report | list[Report], stream: TextIO) -> None:
    payload = [item.to_dict() for item in report] if isinstance(report, list) else report.to_dict()
    stream.write(json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False))
    stream.write("\n")
