"""Write the demo as a project a user can explore: Parquet data, a config, the example experiments."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from cohortlab.data.demo_schema import DEMO_TABLES
from cohortlab.errors import InputError
from cohortlab.outputs import atomic_path, write_text

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@dataclass(frozen=True)
class DemoProject:
    data: Path
    config: Path
    experiments: list[Path]
    tables: dict[str, int]


def example_files(kind: str) -> dict[str, str]:
    """The packaged example files of a kind ("configs" or "experiments"), by file name."""
    folder = EXAMPLES / kind
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.yaml"))}


def write_demo_project(directory: Path, seed: int) -> DemoProject:
    """Generate the demo tables and write them with a config that reads them and the example experiments."""
    from cohortlab.data.demo import generate

    directory = Path(directory)
    data, configs, experiments = directory / "data", directory / "configs", directory / "experiments"
    examples = example_files("experiments")
    targets = [*(data / f"{name}.{suffix}" for name in DEMO_TABLES for suffix in ("parquet", "csv")),
               configs / "cohortlab.yaml", *(experiments / name for name in examples)]
    existing = [path for path in targets if os.path.lexists(path)]
    if existing:
        raise InputError(f"{existing[0]} already exists; demo writes only new files",
                         hint="choose a new folder for the demo project")
    try:
        for folder in (data, configs, experiments):
            folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"cannot write the demo project to {directory}: {error.strerror or error}") from None
    tables = generate(seed)
    for name, frame in tables.items():
        with atomic_path(data / f"{name}.parquet") as temporary:
            frame.to_parquet(temporary, index=False)
    config_text = example_files("configs")["cohortlab.yaml"]
    config_text = re.sub(r"(?m)^source:.*$", "source: {kind: files, path: ../data}", config_text)
    config_text = config_text.replace("The embedded demo generates a realistic B2B SaaS dataset in memory",
                                      f"The demo dataset (seed {seed}) is in ../data as Parquet")
    write_text(configs / "cohortlab.yaml", config_text)
    written = []
    for name, text in examples.items():
        write_text(experiments / name, text)
        written.append(experiments / name)
    return DemoProject(data, configs / "cohortlab.yaml", written, {name: len(frame) for name, frame in tables.items()})
