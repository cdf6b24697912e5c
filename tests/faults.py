"""A small, complete project to break: every contract table, two cohorts, every kind of metric.

Used by the fault-injection tests (tests/test_faults.py, tests/test_interrupts.py): each test
writes a fresh copy, injects one fault (a file, a value, an output path, a signal) and checks
what a user would see.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from typer.testing import CliRunner

from cohortlab.cli.app import app

AS_OF = dt.date(2026, 6, 30)
EXPERIMENT = {
    "name": "guided",
    "title": "Guided onboarding",
    "treatment": {"where": "onboarding_flow = 'guided'", "entered": {"from": "2025-01-01", "to": "2025-12-31"}},
    "baseline": {"where": "onboarding_flow = 'classic'", "entered": {"from": "2024-01-01", "to": "2024-12-31"}},
    "match": {"method": "exact", "on": ["segment"]},
    "metrics": ["cac", {"metric": "ltv", "basis": "earned", "months": 6}, "ltv", {"metric": "retention", "months": 3},
                {"metric": "nrr", "months": 6}, {"metric": "time_to_value", "milestone": "first_value"},
                {"metric": "conversion", "from": "lead", "to": "customer"}],
    "primary": "ltv",
}
CONFIG = {
    "source": {"kind": "files", "path": "../data"},
    "as_of": AS_OF.isoformat(),
    "journey": {"stages": ["lead", "customer"], "won": "customer"},
    "economics": {"gross_margin": 0.8},
    "defaults": {"replicates": 100, "seed": 1, "min_cohort": 5},
}
# the tables each metric of EXPERIMENT reads (SPEC §3, §5); cost comes from spend through touches
READS = {
    "cac": {"stages", "spend", "touches"},
    "ltv:earned:6": {"stages", "revenue"},
    "ltv:modeled:36": {"stages", "revenue"},
    "retention:3": {"stages", "revenue"},
    "nrr:6": {"stages", "revenue"},
    "time_to_value:first_value:90": {"stages", "milestones"},
    "conversion:lead:customer:90": {"stages"},
}


def tables(accounts: int = 400, seed: int = 3) -> dict[str, pd.DataFrame]:
    """The project's data: accounts entered over 2024–2025, about 40% won, monthly revenue until churn."""
    rng = np.random.default_rng(seed)
    ids = [f"A{index:04d}" for index in range(accounts)]
    entered = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 730, accounts), unit="D")
    frame = pd.DataFrame({"account_id": ids, "created_at": entered.date,
                          "onboarding_flow": np.where(entered >= pd.Timestamp("2025-01-01"), "guided", "classic"),
                          "segment": rng.choice(["SMB", "Mid"], accounts)})
    won = rng.random(accounts) < 0.4
    won_at = entered + pd.to_timedelta(rng.integers(5, 60, accounts), unit="D")
    won &= won_at <= pd.Timestamp(AS_OF)
    stages = pd.concat([pd.DataFrame({"account_id": ids, "stage": "lead", "at": entered.date}),
                        pd.DataFrame({"account_id": np.array(ids)[won], "stage": "customer", "at": won_at[won].date})],
                       ignore_index=True)
    revenue, milestones = [], []
    last_month = pd.Period(AS_OF, "M")
    for index in np.flatnonzero(won):
        start = pd.Period(won_at[index], "M")
        lifetime = int(rng.geometric(0.12))
        amount = float(rng.integers(100, 300))
        for month in range(lifetime):
            if start + month > last_month:
                break
            revenue.append((ids[index], (start + month).to_timestamp().date(), amount * (1.01 ** month)))
        if rng.random() < 0.7:
            milestones.append((ids[index], "first_value", (won_at[index] + pd.Timedelta(days=int(rng.integers(1, 80))))
                               .date()))
    campaign = rng.choice(["c1", "c2"], accounts)
    touches = pd.DataFrame({"account_id": ids, "at": entered.date, "campaign": campaign,
                            "channel": np.where(campaign == "c1", "paid_search", "events")})
    spend = touches.groupby(["at", "campaign"], as_index=False).size()
    spend = pd.DataFrame({"date": spend["at"], "campaign": spend["campaign"], "amount": 40.0 * spend["size"]})
    return {"accounts": frame, "stages": stages,
            "revenue": pd.DataFrame(revenue, columns=["account_id", "month", "amount"]),
            "spend": spend, "touches": touches,
            "milestones": pd.DataFrame(milestones, columns=["account_id", "milestone", "at"])}


@dataclass
class Project:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def config(self) -> Path:
        return self.root / "configs" / "cohortlab.yaml"

    @property
    def experiment(self) -> Path:
        return self.root / "experiments" / "guided.yaml"

    def table_file(self, table: str) -> Path:
        return self.data / f"{table}.parquet"

    def write_table(self, table: str, frame: pd.DataFrame, suffix: str = ".parquet") -> Path:
        """Replace ``table``'s file with ``frame`` in the format of ``suffix``."""
        for old in self.data.glob(f"{table}.*"):
            old.unlink()
        path = self.data / f"{table}{suffix}"
        if suffix == ".parquet":  # NaN kept as NaN (pandas would write it as null)
            import pyarrow as pa
            import pyarrow.parquet as pq

            arrow = pa.Table.from_pandas(frame, preserve_index=False)
            for column in frame.columns[frame.dtypes == float]:
                arrow = arrow.set_column(arrow.schema.get_field_index(column), column,
                                         pa.array(frame[column].to_numpy(), from_pandas=False))
            pq.write_table(arrow, path)
        else:
            frame.to_csv(path, index=False)
        return path

    def set_config(self, **changes) -> None:
        settings = yaml.safe_load(self.config.read_text())
        for key, value in changes.items():
            if value is None:
                settings.pop(key, None)
            else:
                settings[key] = value
        self.config.write_text(yaml.safe_dump(settings, sort_keys=False))

    def files(self) -> dict[str, bytes]:
        """Every file of the project and its bytes: to show that nothing was written over or left behind."""
        return {str(path.relative_to(self.root)): path.read_bytes() for path in sorted(self.root.rglob("*"))
                if path.is_file() and not path.is_symlink()}


def make_project(root: Path, data: dict[str, pd.DataFrame] | None = None) -> Project:
    project = Project(root)
    project.data.mkdir(parents=True)
    for table, frame in (data or tables()).items():
        project.write_table(table, frame)
    project.config.parent.mkdir()
    project.config.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    project.experiment.parent.mkdir()
    project.experiment.write_text(yaml.safe_dump(EXPERIMENT, sort_keys=False))
    return project


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def report(self) -> dict:
        return json.loads(self.out)

    def results(self) -> dict[str, dict]:
        """The overall results by metric key (``ltv:earned:6``)."""
        found = {}
        for result in self.report["results"]:
            if result["segment"] is None:
                found[":".join([result["metric"], *(str(value) for value in result["params"].values())])] = result
        return found


runner = CliRunner()


def cli(*args: str) -> Outcome:
    """Run the command line in this process, as a user would type it; never a traceback or internal error."""
    result = runner.invoke(app, [str(arg) for arg in args])
    outcome = Outcome(result.exit_code, result.stdout, result.stderr)
    text = outcome.out + outcome.err
    assert "Traceback" not in text and "internal error" not in text, text
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return outcome
