"""Write the demo as a project a user can explore: Parquet data, a config, the example experiments.

Running the demo again over its own project never destroys a user's edits: a file identical to
what the demo would write is left as it is, a missing one is written, and one that differs (an
edited experiment, the data of another seed) is replaced only when asked (``force``). Otherwise
nothing is written and the error names the files that differ.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cohortlab.data.demo_schema import DEMO_TABLES
from cohortlab.errors import InputError
from cohortlab.outputs import atomic_path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


class Outcome(StrEnum):
    """What the demo did with one of its files."""

    WRITTEN = "written"        # it was not there
    UNCHANGED = "unchanged"    # it was there with the demo's content: left as it is
    REPLACED = "replaced"      # it was there with other content, and force was given


@dataclass(frozen=True)
class DemoProject:
    data: Path
    config: Path
    experiments: list[Path]
    tables: dict[str, int]                # table -> rows
    files: dict[Path, Outcome]            # every file of the project, in the order written


def example_files(kind: str) -> dict[str, str]:
    """The packaged example files of a kind ("configs" or "experiments"), by file name."""
    folder = EXAMPLES / kind
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.yaml"))}


def demo_config(seed: int) -> str:
    """The example config, reading the demo's Parquet files in ``../data`` instead of generating them."""
    text = example_files("configs")["cohortlab.yaml"]
    text = re.sub(r"(?m)^source:.*$", "source: {kind: files, path: ../data}", text)
    return text.replace("The embedded demo generates a realistic B2B SaaS dataset in memory",
                        f"The demo dataset (seed {seed}) is in ../data as Parquet")


def write_demo_project(directory: Path, seed: int, *, extra: Mapping[Path, str] | None = None,
                       force: bool = False) -> DemoProject:
    """Generate the demo tables and write them with a config that reads them and the example experiments.

    ``extra`` are more text files of the project (the editor schemas), by path. A file that exists with
    other content is replaced only with ``force``; without it :class:`InputError` names every such file and
    nothing is written. A table file in another format (``data/accounts.csv``) is refused even with
    ``force``: beside the demo's Parquet file it would make the table ambiguous, and it is not the demo's
    to remove.
    """
    from cohortlab.data.demo import generate
    from cohortlab.data.source import FILE_SUFFIXES

    directory = Path(directory)
    data, configs, experiments = directory / "data", directory / "configs", directory / "experiments"
    others = [data / f"{name}{suffix}" for name in DEMO_TABLES for suffix in FILE_SUFFIXES if suffix != ".parquet"]
    ambiguous = [path for path in others if os.path.lexists(path)]
    if ambiguous:
        raise InputError(f"{', '.join(map(str, ambiguous))} would make the demo's tables ambiguous beside its "
                         "Parquet files; demo wrote nothing", hint="move those files out of the data folder, or "
                         "choose a new folder for the demo project")
    tables = generate(seed)
    contents: dict[Path, bytes] = {data / f"{name}.parquet": _parquet(frame) for name, frame in tables.items()}
    contents[configs / "cohortlab.yaml"] = demo_config(seed).encode()
    examples = [experiments / name for name in example_files("experiments")]
    contents.update({path: text.encode() for path, text in zip(examples, example_files("experiments").values())})
    contents.update({Path(path): text.encode() for path, text in (extra or {}).items()})

    outcomes = {path: _compare(path, content) for path, content in contents.items()}
    changed = [path for path, outcome in outcomes.items() if outcome is Outcome.REPLACED]
    if changed and not force:
        raise InputError(f"{'a file differs' if len(changed) == 1 else 'files differ'} from the demo's and "
                         f"{'was' if len(changed) == 1 else 'were'} left as written (demo wrote nothing): "
                         f"{', '.join(map(str, changed))}",
                         hint="rerun with --force to overwrite with the demo's files (the changes are lost), or choose "
                              "a new folder for the demo project")
    for path, content in contents.items():
        if outcomes[path] is Outcome.UNCHANGED:
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(f"cannot write the demo project to {directory}: {error.strerror or error}") from None
        with atomic_path(path) as temporary:
            temporary.write_bytes(content)
    return DemoProject(data, configs / "cohortlab.yaml", examples,
                       {name: len(frame) for name, frame in tables.items()}, outcomes)


def _parquet(frame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _compare(path: Path, content: bytes) -> Outcome:
    """Whether ``path`` is new, holds ``content`` already, or holds something else."""
    if not os.path.lexists(path):
        return Outcome.WRITTEN
    if not path.is_file():
        what = "a broken symbolic link" if path.is_symlink() and not path.exists() else "not a file"
        raise InputError(f"{path} is {what}; demo wrote nothing", hint="remove it, or choose a new folder for the "
                         "demo project")
    try:
        existing = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}; demo wrote nothing") from None
    if existing == content:
        return Outcome.UNCHANGED
    if path.suffix == ".parquet" and _same_table(existing, content):
        return Outcome.UNCHANGED  # the same rows, written by another version of pyarrow
    return Outcome.REPLACED


def _same_table(existing: bytes, content: bytes) -> bool:
    import pandas as pd

    try:
        return pd.read_parquet(io.BytesIO(existing)).equals(pd.read_parquet(io.BytesIO(content)))
    except Exception:  # not Parquet, or not these columns: it differs
        return False
