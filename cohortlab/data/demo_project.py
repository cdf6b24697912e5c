"""Write the demo as a project a user can explore: Parquet data, a config, the example experiments."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cohortlab.errors import InputError

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
    try:
        for folder in (data, configs, experiments):
            folder.mkdir(parents=True, exist_ok=True)
        tables = generate(seed)
        for name, frame in tables.items():
            frame.to_parquet(data / f"{name}.parquet", index=False)
        config_text = example_files("configs")["cohortlab.yaml"]
        config_text = re.sub(r"(?m)^source:.*$", "source: {kind: files, path: ../data}", config_text)
        config_text = config_text.replace("The embedded demo generates a realistic B2B SaaS dataset in memory",
                                          f"The demo dataset (seed {seed}) is in ../data as Parquet")
        (configs / "cohortlab.yaml").write_text(config_text, encoding="utf-8")
        written = []
        for name, text in example_files("experiments").items():
            (experiments / name).write_text(text, encoding="utf-8")
            written.append(experiments / name)
    except OSError as error:
        raise InputError(f"cannot write the demo project to {directory}: {error.strerror or error}") from None
    return DemoProject(data, configs / "cohortlab.yaml", written, {name: len(frame) for name, frame in tables.items()})
