"""Load configs and experiments from YAML into typed models, with positioned, coded problems."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from cohortlab.codes import Check
from cohortlab.errors import InputError
from cohortlab.spec.models import Config, Experiment
from cohortlab.spec.problems import Problem, did_you_mean, raise_first
from cohortlab.spec.rules import config_problems, experiment_problems
from cohortlab.spec.yamlio import LoadedYaml, PathKey, load_yaml

Model = TypeVar("Model", bound=BaseModel)

CONFIG_CANDIDATES = (Path("configs") / "cohortlab.yaml", Path("cohortlab.yaml"))

# pydantic error types -> (code, message); None keeps pydantic's message
_CODES: dict[str, tuple[Check, str | None]] = {
    "extra_forbidden": (Check.UNKNOWN_KEY, None),
    "missing": (Check.MISSING_KEY, None),
    "literal_error": (Check.NOT_ALLOWED, None),
    "union_tag_invalid": (Check.NOT_ALLOWED, None),
    "union_tag_not_found": (Check.MISSING_KEY, None),
    "string_pattern_mismatch": (Check.BAD_FORMAT, None),
    "model_type": (Check.WRONG_TYPE, "expected a mapping"),
    "model_attributes_type": (Check.WRONG_TYPE, "expected a mapping"),
    "dict_type": (Check.WRONG_TYPE, "expected a mapping"),
    "list_type": (Check.WRONG_TYPE, "expected a list"),
    "string_type": (Check.WRONG_TYPE, "expected text"),
    "int_type": (Check.WRONG_TYPE, "expected a whole number"),
    "int_parsing": (Check.WRONG_TYPE, "expected a whole number"),
    "int_from_float": (Check.WRONG_TYPE, "expected a whole number"),
    "float_type": (Check.WRONG_TYPE, "expected a number"),
    "float_parsing": (Check.WRONG_TYPE, "expected a number"),
    "bool_type": (Check.WRONG_TYPE, "expected true or false"),
    "bool_parsing": (Check.WRONG_TYPE, "expected true or false"),
    "date_type": (Check.WRONG_TYPE, "expected a date such as 2025-03-01"),
    "path_type": (Check.WRONG_TYPE, "expected a path"),
}
_RANGE = ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "too_short", "too_long",
          "finite_number")


def _code(error: dict) -> tuple[Check, str]:
    kind = error["type"]
    if kind in _CODES:
        code, message = _CODES[kind]
        return code, message or error["msg"]
    if kind in _RANGE:
        return Check.OUT_OF_RANGE, error["msg"]
    if kind.startswith("date"):
        return Check.BAD_FORMAT, "expected a date such as 2025-03-01"
    if kind.endswith("_type"):
        return Check.WRONG_TYPE, error["msg"]
    return Check.BAD_FORMAT, error["msg"].removeprefix("Value error, ")


def schema_problems(model: type[BaseModel], error: ValidationError, loaded: LoadedYaml) -> list[Problem]:
    """Each pydantic error as a coded problem at its path; the branches of a union at one path merge."""
    by_path: dict[PathKey, Problem] = {}
    for item in error.errors(include_url=False):
        path = _document_path(item["loc"], model, loaded)
        code, message = _code(item)
        hint = None
        if item["type"] in ("union_tag_invalid", "union_tag_not_found"):  # a tagged union: the tag is the problem
            tag = item["ctx"]["discriminator"].strip("'")
            path += (tag,)
            choices = [choice.strip(" '") for choice in item["ctx"].get("expected_tags", "").split(",")]
            message = f"'{item['ctx'].get('tag')}' is not one of {item['ctx'].get('expected_tags')}"
            if item["type"] == "union_tag_invalid":
                hint = did_you_mean(str(item["ctx"]["tag"]), choices)
        dotted = ".".join(str(part) for part in path) or "(document)"
        if code is Check.UNKNOWN_KEY:
            allowed = _keys_at(model, path[:-1], loaded.data)
            message = f"unknown key '{path[-1]}'"
            hint = did_you_mean(str(path[-1]), allowed, f"keys here are: {', '.join(allowed)}" if allowed else None)
        elif item["type"] == "literal_error" and isinstance(item.get("input"), str):
            choices = [choice.strip(" '") for choice in str(item.get("ctx", {}).get("expected", "")).replace(
                " or ", ",").split(",") if choice.strip(" '")]
            hint = did_you_mean(item["input"], choices)
        elif item["type"] == "string_pattern_mismatch" and path[-1:] == ("name",):
            message = "a name uses lowercase letters, digits, '-', '_' and '.', starting with a letter or digit"
        previous = by_path.get(path)
        if previous is not None and {previous.code, code} == {Check.WRONG_TYPE, Check.OUT_OF_RANGE}:
            # the value has one branch's type but is out of its range: that is the problem to report
            if code is Check.OUT_OF_RANGE:
                by_path[path] = Problem(code, f"{dotted}: {message}", path, hint)
            continue
        if previous is not None:  # another branch of a union: "a number … or 'cost'"
            by_path[path] = Problem(previous.code, f"{previous.message} or {message.removeprefix(dotted + ': ')}",
                                    path, previous.hint or hint, previous.key)
            continue
        if code is Check.MISSING_KEY and path:
            parent = ".".join(str(part) for part in path[:-1]) or "the document"
            by_path[path] = Problem(code, f"{parent}: missing required key '{path[-1]}'", path, hint)
            continue
        by_path[path] = Problem(code, f"{dotted}: {message}", path, hint, key=code is Check.UNKNOWN_KEY)
    return list(by_path.values())


def _document_path(loc: tuple, model: type[BaseModel], loaded: LoadedYaml) -> PathKey:
    """A pydantic ``loc`` as a path into the document, without the tags pydantic adds for union branches
    (``constrained-float``, ``literal['cost']``, a discriminator's value)."""
    path: PathKey = ()
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(part, int) or path + (part,) in loaded.keys or (last and part in _field_names(model)):
            path += (part,)
    return path


def _field_names(model: type[BaseModel]) -> set[str]:
    names: set[str] = set()
    stack = [model]
    while stack:
        current = stack.pop()
        for name, field in current.model_fields.items():
            names.update({name, field.alias or name})
            stack.extend(child for child in _models_in(field.annotation) if child is not current)
    return names


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through Annotated, unions, lists and dicts)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found = []
    for argument in typing.get_args(annotation):
        found.extend(_models_in(argument))
    return found


def _keys_at(model: type[BaseModel], path: PathKey, data: Any) -> list[str]:
    """The keys the schema allows in the mapping at ``path`` (for "did you mean")."""
    candidates: list[type[BaseModel]] = [model]
    for part in path:
        data = data.get(part) if isinstance(data, dict) else (data[part] if isinstance(data, list) and
                                                                isinstance(part, int) and part < len(data) else None)
        if isinstance(part, int):
            continue
        following = []
        for current in candidates:
            field = next((f for name, f in current.model_fields.items() if part in (name, f.alias)), None)
            if field is not None:
                following.extend(_models_in(field.annotation))
        candidates = following
        if len(candidates) > 1 and isinstance(data, dict):  # a tagged union: follow the written kind
            tagged = [c for c in candidates if data.get("kind") in typing.get_args(c.model_fields.get(
                "kind").annotation if "kind" in c.model_fields else ())]
            candidates = tagged or candidates
    keys: list[str] = []
    for current in candidates:
        keys.extend(field.alias or name for name, field in current.model_fields.items()
                    if name != "file" and not field.exclude and (field.alias or name) not in keys)
    return keys


def parse_model(model: type[Model], loaded: LoadedYaml, what: str) -> tuple[Model | None, list[Problem]]:
    """The model for a loaded document, or None with every schema problem."""
    if not isinstance(loaded.data, dict):
        kind = "empty" if loaded.data is None else f"a {type(loaded.data).__name__}, not a mapping"
        return None, [Problem(Check.NOT_A_MAPPING, f"{_article(what)} {what} file must be a YAML mapping of keys "
                                                   f"to values; this one is {kind}")]
    problems = []
    if "file" in loaded.data:  # set by the loader, never by the user
        problems.append(Problem(Check.UNKNOWN_KEY, "unknown key 'file'", ("file",), key=True))
    try:
        parsed = model.model_validate({**loaded.data, "file": Path(loaded.file)})
    except ValidationError as error:
        return None, problems + schema_problems(model, error, loaded)
    return (None, problems) if problems else (parsed, [])


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def validate_model(model: type[Model], loaded: LoadedYaml, what: str) -> Model:
    """Validate a loaded document; raise :class:`SpecError` at the first problem's position."""
    parsed, problems = parse_model(model, loaded, what)
    raise_first(problems, loaded)
    assert parsed is not None
    return parsed


def load_config(path: Path) -> tuple[Config, LoadedYaml]:
    """A checked config: schema and journey problems raise at their position."""
    loaded = load_yaml(path)
    config = validate_model(Config, loaded, "config")
    raise_first(config_problems(config), loaded)
    return config, loaded


def load_experiment(path: Path) -> tuple[Experiment, LoadedYaml]:
    """A checked experiment: schema problems and the rules that need no config or data raise at their position."""
    loaded = load_yaml(path)
    experiment = validate_model(Experiment, loaded, "experiment")
    raise_first(experiment_problems(experiment), loaded)
    return experiment, loaded


def is_config_path(path: Path) -> bool:
    """Configs are named cohortlab.yaml or live in configs/; anything in experiments/ is an experiment."""
    return path.parent.name != "experiments" and (path.stem == "cohortlab" or path.parent.name == "configs")


def find_config(experiment_path: Path) -> Path:
    """The project config for an experiment: ``configs/cohortlab.yaml`` in its folder or any parent."""
    start = Path(experiment_path).resolve().parent
    for folder in (start, *start.parents):
        for candidate in CONFIG_CANDIDATES:
            if (folder / candidate).is_file() and is_config_path(folder / candidate):
                return folder / candidate
    raise InputError(
        f"no configs/cohortlab.yaml found above {experiment_path}",
        hint="pass --config FILE, or run `cohortlab demo DIR` for a working example",
    )
