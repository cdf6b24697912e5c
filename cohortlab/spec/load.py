"""Load configs and experiments from YAML into typed models, with positioned errors."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from cohortlab.errors import InputError, SourceLocation, SpecError
from cohortlab.spec.models import Config, Experiment
from cohortlab.spec.yamlio import LoadedYaml, load_yaml

Model = TypeVar("Model", bound=BaseModel)

CONFIG_CANDIDATES = (Path("configs") / "cohortlab.yaml", Path("cohortlab.yaml"))


def schema_problems(error: ValidationError, loaded: LoadedYaml) -> list[tuple[SourceLocation, str]]:
    """Each pydantic error as (position in the YAML file, message naming its JSON path)."""
    problems = []
    for item in error.errors(include_url=False):
        path = tuple(part for part in item["loc"] if not (isinstance(part, str) and "[" in part))
        dotted = ".".join(str(part) for part in path) or "(document)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            location = loaded.locate(path, key=True)
            message = f"unknown key '{path[-1]}'"
        else:
            location = loaded.locate(path)
        problems.append((location, f"{dotted}: {message}"))
    return problems


def validate_model(model: type[Model], loaded: LoadedYaml, what: str) -> Model:
    """Validate a loaded document; raise :class:`SpecError` at the first problem's position."""
    if not isinstance(loaded.data, dict):
        raise SpecError(f"{what} must be a YAML mapping", SourceLocation(loaded.file, 1, 1))
    if "file" in loaded.data:  # set by the loader, never by the user
        raise SpecError("unknown key 'file'", loaded.locate(("file",), key=True))
    try:
        return model.model_validate({**loaded.data, "file": Path(loaded.file)})
    except ValidationError as error:
        problems = schema_problems(error, loaded)
        location, message = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise SpecError(f"invalid {what}: {message}{more}", location) from None


def load_config(path: Path) -> tuple[Config, LoadedYaml]:
    loaded = load_yaml(path)
    return validate_model(Config, loaded, "config"), loaded


def load_experiment(path: Path) -> tuple[Experiment, LoadedYaml]:
    loaded = load_yaml(path)
    return validate_model(Experiment, loaded, "experiment"), loaded


def find_config(experiment_path: Path) -> Path:
    """The project config for an experiment: ``configs/cohortlab.yaml`` in its folder or any parent."""
    start = Path(experiment_path).resolve().parent
    for folder in (start, *start.parents):
        for candidate in CONFIG_CANDIDATES:
            if (folder / candidate).is_file():
                return folder / candidate
    raise InputError(
        f"no configs/cohortlab.yaml found above {experiment_path}",
        hint="pass --config FILE, or run `cohortlab demo DIR` for a working example",
    )
