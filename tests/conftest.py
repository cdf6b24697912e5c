"""Shared fixtures: small hand-built projects written to disk as a user would have them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml


def write_project(root: Path, tables: dict[str, list[dict]], experiment: dict, config: dict | None = None,
                  file_format: str = "parquet") -> Path:
    """Write tables, a config and one experiment under ``root``; return the experiment's path."""
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        frame = pd.DataFrame(rows)
        for column in ("created_at", "at", "month", "date"):
            if column in frame:
                frame[column] = pd.to_datetime(frame[column]).dt.date
        if file_format == "parquet":
            frame.to_parquet(data / f"{name}.parquet", index=False)
        else:
            frame.to_csv(data / f"{name}.csv", index=False)
    settings = {"source": {"kind": "files", "path": "../data"},
                "defaults": {"replicates": 200, "seed": 1, "min_cohort": 1}}
    settings.update(config or {})
    (root / "configs").mkdir(exist_ok=True)
    (root / "configs" / "cohortlab.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    (root / "experiments").mkdir(exist_ok=True)
    path = root / "experiments" / f"{experiment['name']}.yaml"
    path.write_text(yaml.safe_dump(experiment, sort_keys=False))
    return path


@pytest.fixture
def project(tmp_path):
    """A factory: project(tables, experiment, config=None, file_format="parquet") -> experiment path."""
    return lambda *args, **kwargs: write_project(tmp_path, *args, **kwargs)
