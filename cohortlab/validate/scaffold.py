"""`cohortlab init`: a new project with a config, an example experiment and the editor schemas."""

from __future__ import annotations

from pathlib import Path

from cohortlab.data.demo_project import example_files
from cohortlab.errors import InputError
from cohortlab.outputs import write_text
from cohortlab.validate.schema import SCHEMAS, dumps, file_name, json_schemas

EXAMPLE = "onboarding-v2.yaml"


def write_schemas(folder: Path) -> list[Path]:
    """Write ``config.schema.json`` and ``experiment.schema.json`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, schema in json_schemas().items():
        path = folder / file_name(kind)
        write_text(path, dumps(schema))
        written.append(path)
    return written


def init_project(directory: Path) -> list[Path]:
    """Scaffold ``configs/``, ``experiments/`` and ``schemas/`` in ``directory``; never overwrite a file."""
    files = {Path("configs") / "cohortlab.yaml": example_files("configs")["cohortlab.yaml"],
             Path("experiments") / EXAMPLE: example_files("experiments")[EXAMPLE]}
    schemas = [Path("schemas") / file_name(kind) for kind in SCHEMAS]
    existing = [directory / path for path in [*files, *schemas] if (directory / path).exists()]
    if existing:
        raise InputError(f"{existing[0]} already exists; init writes only new files",
                         hint="run it in an empty folder, or remove the files it would replace")
    try:
        for path, text in files.items():
            (directory / path).parent.mkdir(parents=True, exist_ok=True)
            write_text(directory / path, text)
        return [directory / path for path in files] + write_schemas(directory / "schemas")
    except OSError as error:
        raise InputError(f"cannot write to {directory}: {error.strerror or error}") from None
