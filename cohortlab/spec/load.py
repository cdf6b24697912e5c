"""Load configs and experiments from YAML into typed models, with positioned, coded problems."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from cohortlab.codes import Check
from cohortlab.errors import InputError
from cohortlab.spec.base import KeysOfOtherVariants
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
    """Each pydantic error as a coded problem at its path; the branches of a union at one path merge. A key of
    another variant of a tagged union is no schema problem (:func:`parse_model` reports it); its value is checked
    as that variant would check it."""
    by_path: dict[PathKey, Problem] = {}
    for item in _errors(model, error, loaded):
        path = _document_path(item["loc"], model, loaded)
        code, message = _code(item)
        hint = None
        if item["type"] in ("union_tag_invalid", "union_tag_not_found"):  # a tagged union: the tag is the problem
            tag = item["ctx"]["discriminator"].strip("'")
            choices = [choice.strip(" '") for choice in item["ctx"].get("expected_tags", "").split(",")]
            if path and _marker(_tagged_unions(model).get(path[-1])):  # one vocabulary: the tag is a value not allowed
                written = item["input"].get(tag) if isinstance(item["input"], dict) else None
                message = f"Input should be {_either(choices)}"
                hint = did_you_mean(written, choices) if isinstance(written, str) else None
            else:
                message = f"'{item['ctx'].get('tag')}' is not one of {item['ctx'].get('expected_tags')}"
                if item["type"] == "union_tag_invalid":
                    hint = did_you_mean(str(item["ctx"]["tag"]), choices)
            path += (tag,)
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


def _errors(model: type[BaseModel], error: ValidationError, loaded: LoadedYaml) -> list[dict]:
    """pydantic's errors, with a union marked :class:`KeysOfOtherVariants` told as one mapping: a key of another
    variant by its value's errors alone (:func:`parse_model` reports the key itself), and the union's errors in
    the order of its keys, then its unknown keys, as one model lists them."""
    items = []
    for item in error.errors(include_url=False):
        misplaced = _misplaced(model, item, loaded)
        items += [item] if misplaced is None else misplaced.value_errors()
        items += _keys_beside_a_wrong_tag(model, item, loaded)
    first = {}  # a top-level key's errors come together: reorder inside each group only
    for index, item in enumerate(items):
        first.setdefault(item["loc"][:1], index)
    return sorted(items, key=lambda item: (first[item["loc"][:1]], _rank(model, item["loc"])))


def _rank(model: type[BaseModel], loc: tuple) -> int:
    """The place of the key an error is at among the keys of the union marked :class:`KeysOfOtherVariants` it is
    in (unknown keys last); 0 outside such a union."""
    tagged = _tagged_unions(model)
    for index, part in enumerate(loc[:-2]):
        union = tagged.get(part) if isinstance(part, str) else None
        if union is not None and _marker(union):
            keys = _keys(_variants(union))
            return keys.index(loc[index + 2]) if loc[index + 2] in keys else len(keys)
    return 0


def _either(choices: list[str]) -> str:
    """'a', 'b' or 'c', as pydantic lists the values a key allows."""
    quoted = [f"'{choice}'" for choice in choices]
    return f"{', '.join(quoted[:-1])} or {quoted[-1]}" if len(quoted) > 1 else quoted[0]


def _keys_beside_a_wrong_tag(model: type[BaseModel], item: dict, loaded: LoadedYaml) -> list[dict]:
    """Beside a tag that none of the variants has, the other keys of the mapping: each value checked by the variant
    that has its key; a key that none has, unknown."""
    union = _tagged_unions(model).get(item["loc"][-1]) if item["type"] == "union_tag_invalid" else None
    if union is None or not _marker(union) or not isinstance(item["input"], dict):
        return []
    found = []
    for key, value in item["input"].items():
        if key != union.discriminator:
            unknown = {"type": "extra_forbidden", "loc": (*item["loc"], "", key), "msg": "", "input": value}
            misplaced = _misplaced(model, unknown, loaded)
            found += [unknown] if misplaced is None else misplaced.value_errors()
    return found


def _document_path(loc: tuple, model: type[BaseModel], loaded: LoadedYaml) -> PathKey:
    """A pydantic ``loc`` as a path into the document, without the tags pydantic adds for union branches
    (``constrained-float``, ``literal['cost']``, a discriminator's value)."""
    tagged = _tagged_unions(model)
    path: PathKey = ()
    for index, part in enumerate(loc):
        if index and loc[index - 1] in tagged and path[-1:] == (loc[index - 1],):
            continue  # the variant's tag, which may also be a key: `exact` is a method and a key of propensity
        last = index == len(loc) - 1
        if isinstance(part, int) or path + (part,) in loaded.keys or (last and part in _field_names(model)):
            path += (part,)
    return path


def _fields(model: type[BaseModel]) -> Iterator[tuple[str, FieldInfo]]:
    """(name, field) for every field of ``model`` and of the models inside it."""
    stack, seen = [model], set()
    while stack:
        current = stack.pop()
        seen.add(current)
        for name, field in current.model_fields.items():
            yield name, field
            stack.extend(child for child in _models_in(field.annotation) if child not in seen)


def _field_names(model: type[BaseModel]) -> set[str]:
    return {key for name, field in _fields(model) for key in (name, field.alias or name)}


def _tagged_unions(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """The fields holding a tagged union (`source`, `match`), by key."""
    return {field.alias or name: field for name, field in _fields(model) if isinstance(field.discriminator, str)}


def _marker(union: FieldInfo | None) -> KeysOfOtherVariants | None:
    return next((meta for meta in union.metadata if isinstance(meta, KeysOfOtherVariants)), None) if union else None


def _variants(union: FieldInfo) -> dict[str, type[BaseModel]]:
    """A tagged union's variants by their tags, in the union's order."""
    return {typing.get_args(variant.model_fields[union.discriminator].annotation)[0]: variant
            for variant in _models_in(union.annotation)}


def _keys(variants: dict[str, type[BaseModel]]) -> list[str]:
    """The keys of all the variants, each once, in the order of the variants and their fields."""
    return list(dict.fromkeys(field.alias or name for variant in variants.values()
                              for name, field in variant.model_fields.items()))


@dataclass(frozen=True)
class _MisplacedKey:
    """A key written in one variant of a tagged union that only other variants have (``match: {method: exact,
    caliper: 0.2}``), when the union is marked :class:`KeysOfOtherVariants`."""

    loc: tuple                            # pydantic's: (…, the union's key, the written tag, the key)
    path: PathKey                         # in the document
    value: Any
    discriminator: str                    # `method`
    owners: dict[str, type[BaseModel]]    # tag -> variant, for the variants that have the key, in the union's order
    rank: int                             # the key's place among the union's keys: the order problems come in
    code: Check

    def problem(self) -> Problem:
        key, tag, kind = self.loc[-1], self.loc[-2], self.discriminator
        return Problem(self.code, f"'{key}' is not used with {kind} {tag}", self.path,
                       f"'{key}' belongs to {kind} {' or '.join(self.owners)}; remove it or change the {kind}",
                       key=True)

    def value_errors(self) -> list[dict]:
        """pydantic's errors on the value as the first variant that has the key checks it, at the key's loc."""
        tag, variant = next(iter(self.owners.items()))
        key = self.loc[-1]
        try:
            variant.model_validate({self.discriminator: tag, key: self.value})
        except ValidationError as error:
            return [{**item, "loc": (*self.loc[:-1], *item["loc"])} for item in error.errors(include_url=False)
                    if item["loc"][:1] == (key,)]
        return []


def _misplaced(model: type[BaseModel], item: dict, loaded: LoadedYaml) -> _MisplacedKey | None:
    """The pydantic error as a key of another variant, if it is an unknown key that one has."""
    loc = item["loc"]
    union = _tagged_unions(model).get(loc[-3]) if item["type"] == "extra_forbidden" and len(loc) >= 3 else None
    marker = _marker(union)
    if union is None or marker is None:
        return None
    variants = _variants(union)
    owners = {tag: variant for tag, variant in variants.items() if loc[-1] in _keys({tag: variant})}
    if not owners:
        return None
    return _MisplacedKey(loc, _document_path(loc, model, loaded), item["input"], union.discriminator, owners,
                         _keys(variants).index(loc[-1]), marker.code)


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
    """The model for a loaded document, or None with every schema problem.

    Keys of another variant of a tagged union (:class:`KeysOfOtherVariants`: a `match` key of another method)
    are the exception: when they are all that is wrong, the model is parsed without them and returned with
    their problems, so that the rules after the schema still run, as they would with the keys removed.
    """
    if not isinstance(loaded.data, dict):
        kind = "empty" if loaded.data is None else f"a {type(loaded.data).__name__}, not a mapping"
        return None, [Problem(Check.NOT_A_MAPPING, f"{_article(what)} {what} file must be a YAML mapping of keys "
                                                   f"to values; this one is {kind}")]
    document = {**loaded.data, "file": Path(loaded.file)}
    parsed: Model | None
    try:
        parsed, problems = model.model_validate(document), []
    except ValidationError as error:
        misplaced = [_misplaced(model, item, loaded) for item in error.errors(include_url=False)]
        if any(key is None or key.value_errors() for key in misplaced):
            parsed, problems = None, schema_problems(model, error, loaded)
        else:
            for key in misplaced:
                document = _without(document, key.path)
            parsed = model.model_validate(document)
            problems = [key.problem() for key in sorted(misplaced, key=lambda key: key.rank)]
    if "file" in loaded.data:  # set by the loader, never by the user
        return None, [Problem(Check.UNKNOWN_KEY, "unknown key 'file'", ("file",), key=True),
                      *(problems if parsed is None else [])]
    return parsed, problems


def _without(data: Any, path: PathKey) -> Any:
    """``data`` without the key at ``path``; the mappings and lists on the way are copied, not changed."""
    head, *rest = path
    if not rest:
        return {key: value for key, value in data.items() if key != head}
    copied = list(data) if isinstance(data, list) else dict(data)
    copied[head] = _without(data[head], tuple(rest))
    return copied


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
    experiment, problems = parse_model(Experiment, loaded, "experiment")
    if experiment is not None:
        problems = experiment_problems(experiment, misplaced_keys=problems)
    raise_first(problems, loaded)
    assert experiment is not None
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
