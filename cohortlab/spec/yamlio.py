"""Safe YAML loading that remembers where every value came from.

A document is composed into nodes first (the safe loader's resolver decides types),
then converted to plain Python values while recording the position of every mapping
key and value under its path, e.g. ``("metrics", 2, "months")``. Later stages map a
pydantic error's ``loc`` or a rule's finding back to ``file:line:col`` through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cohortlab.codes import Check
from cohortlab.errors import InputError, SourceLocation, SpecError

PathKey = tuple[str | int, ...]
MAX_NODES = 100_000
MAX_DEPTH = 50
# libyaml's parser when PyYAML has it (its wheels do): the same nodes and marks, about ten times faster
COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class LoadedYaml:
    """A YAML document as plain values plus the source position of each path."""

    data: Any
    file: str
    values: dict[PathKey, SourceLocation] = field(default_factory=dict)
    keys: dict[PathKey, SourceLocation] = field(default_factory=dict)
    spans: dict[PathKey, tuple[yaml.Node, str]] = field(default_factory=dict)  # quoted or multi-line: node, source

    def locate(self, path: PathKey, *, key: bool = False) -> SourceLocation:
        """The position of ``path`` (its key with ``key=True``), else of its nearest ancestor."""
        table = self.keys if key else self.values
        for end in range(len(path), -1, -1):
            prefix = tuple(path[:end])
            if prefix in table:
                return table[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return SourceLocation(self.file, 1, 1)

    def locate_in_text(self, path: PathKey, offset: int) -> SourceLocation:
        """The position of character ``offset`` inside the string scalar at ``path``.

        A string over several lines (plain, quoted or a ``|``/``>`` block) is mapped line by
        line; where escapes or blank lines make the mapping uncertain, its start is returned.
        """
        start = self.locate(path)
        if path not in self.spans:
            return SourceLocation(start.file, start.line, start.col + offset)
        node, source = self.spans[path]
        if node.start_mark.line == node.end_mark.line:  # quoted, on one line: step over escapes
            raw = source[node.start_mark.index + 1:node.end_mark.index - 1]
            return SourceLocation(start.file, start.line, start.col + 1 + _raw_offset(raw, node.style, offset))
        return _locate_in_span(self.file, node, source, offset, self.data_at(path)) or start

    def data_at(self, path: PathKey) -> Any:
        value = self.data
        for part in path:
            value = value[part]
        return value


def _raw_offset(raw: str, style: str, offset: int) -> int:
    """Where character ``offset`` of a quoted scalar's value starts in its source text ``raw``."""
    index = 0
    for _ in range(offset):
        if index >= len(raw):
            break
        if style == "'" and raw.startswith("''", index):
            index += 2
        elif style == '"' and raw[index] == "\\":
            index += {"x": 4, "u": 6, "U": 10}.get(raw[index + 1:index + 2], 2)
        else:
            index += 1
    return index


def _locate_in_span(file: str, node: yaml.Node, source: str, offset: int, value: Any) -> SourceLocation | None:
    """Map ``offset`` in a multi-line scalar's value to its line and column in ``source``."""
    lines = source.splitlines()
    first, last = node.start_mark.line, node.end_mark.line
    segments: list[tuple[int, int, str]] = []  # (line, column, text) of each source line's share of the value
    if node.style in ("|", ">"):  # the body starts below the indicator and ends before the end mark's line
        end = last + 1 if node.end_mark.column else last
        body = [(number, lines[number]) for number in range(first + 1, min(end, len(lines)))]
        indent = min((len(text) - len(text.lstrip(" ")) for _, text in body if text.strip()), default=0)
        segments = [(number, indent, text[indent:]) for number, text in body]
    else:
        quote = 1 if node.style in ("'", '"') else 0
        for number in range(first, last + 1):
            text = lines[number]
            begin = node.start_mark.column + quote if number == first else len(text) - len(text.lstrip())
            end = node.end_mark.column - quote if number == last else len(text.rstrip())
            segments.append((number, begin, text[begin:end]))
    position = 0
    for number, column, text in segments:
        if offset <= position + len(text):
            line, col = number, column + offset - position
            if offset < len(value) and (col >= len(lines[line]) or lines[line][col] != value[offset]):
                return None  # escapes or folding moved the text: keep the scalar's start
            return SourceLocation(file, line + 1, col + 1)
        position += len(text) + 1  # each line break became one character, a space or a newline
    return None


def _mark(file: str, node: yaml.Node) -> SourceLocation:
    return SourceLocation(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Converter:
    def __init__(self, loaded: LoadedYaml, source: str):
        self.loaded, self.source = loaded, source
        self.scalars = yaml.SafeLoader("")
        self.open: set[int] = set()  # nodes being converted: an alias to one of them is a cycle
        self.budget = MAX_NODES

    def convert(self, node: yaml.Node, path: PathKey) -> Any:
        if len(path) > MAX_DEPTH:
            raise SpecError(f"values nested more than {MAX_DEPTH} levels deep", _mark(self.loaded.file, node),
                            code=Check.YAML_SYNTAX)
        self.budget -= 1
        if self.budget < 0:  # aliases can expand a short file exponentially
            raise SpecError(f"the document expands to more than {MAX_NODES:,} values", _mark(self.loaded.file, node),
                            code=Check.YAML_SYNTAX)
        if id(node) in self.open:
            raise SpecError("an alias refers to a value that contains it", _mark(self.loaded.file, node),
                            code=Check.YAML_SYNTAX)
        self.loaded.values[path] = _mark(self.loaded.file, node)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            self.open.add(id(node))
            try:
                return self._collection(node, path)
            finally:
                self.open.discard(id(node))
        if node.style in ("'", '"') or node.start_mark.line != node.end_mark.line:
            self.loaded.spans[path] = (node, self.source)
        try:
            return self.scalars.construct_object(node)
        except (ValueError, KeyError, AttributeError, TypeError, yaml.YAMLError) as error:
            # e.g. a timestamp such as 2025-02-30, or an explicit tag on a value it does not fit (!!bool maybe)
            raise SpecError(f"invalid YAML value '{node.value}': {error}", _mark(self.loaded.file, node),
                            code=Check.BAD_FORMAT) from None

    def _collection(self, node: yaml.Node, path: PathKey) -> Any:
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise SpecError("mapping keys must be plain scalars", _mark(self.loaded.file, key_node),
                                    code=Check.YAML_SYNTAX)
                try:
                    key = self.scalars.construct_object(key_node)
                except (ValueError, KeyError, AttributeError, TypeError, yaml.YAMLError):
                    key = key_node.value
                if not isinstance(key, (str, int)) or isinstance(key, bool):
                    # YAML 1.1 reads keys such as `on` or `yes` as booleans; a key is its text
                    key = key_node.value
                if key in result:
                    raise SpecError(f"duplicate key '{key}'", _mark(self.loaded.file, key_node), code=Check.DUPLICATE_KEY)
                self.loaded.keys[path + (key,)] = _mark(self.loaded.file, key_node)
                result[key] = self.convert(value_node, path + (key,))
            return result
        return [self.convert(item, path + (index,)) for index, item in enumerate(node.value)]


def _reject_tags(text: str, file: str) -> None:
    """A :class:`SpecError` at the first explicit tag (``!!python/object/apply:…``, ``!!str``, ``!custom``):
    cohortlab's files hold plain values only, so every tag is refused, wherever it stands, rather than
    resolved, constructed or dropped."""
    for event in yaml.parse(text, Loader=COMPOSER):
        tag = getattr(event, "tag", None)
        if tag is not None:
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            raise SpecError(f"YAML tags are not allowed (found '{shown}'): write the plain value",
                            _mark(file, event), code=Check.BAD_FORMAT)


def load_yaml_text(text: str, file: str) -> LoadedYaml:
    """Parse one YAML document; raise :class:`SpecError` with its position if it is not valid YAML."""
    loaded = LoadedYaml(data=None, file=file)
    try:
        if "!" in text:  # a tag starts with '!': only then can there be one
            _reject_tags(text, file)
        node = yaml.compose(text, Loader=COMPOSER)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        location = SourceLocation(file, mark.line + 1, mark.column + 1) if mark else SourceLocation(file, 1, 1)
        raise SpecError(f"invalid YAML: {error.problem or error.context}", location, code=Check.YAML_SYNTAX) from None
    except yaml.reader.ReaderError as error:  # a character YAML does not allow: position from its offset
        before = text[:error.position]
        location = SourceLocation(file, before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)
        raise SpecError(f"invalid YAML: {error.reason} (character {error.character!r})", location,
                        code=Check.YAML_SYNTAX) from None
    except yaml.YAMLError as error:
        raise SpecError(f"invalid YAML: {error}", SourceLocation(file, 1, 1), code=Check.YAML_SYNTAX) from None
    if node is not None:
        try:
            loaded.data = _Converter(loaded, text).convert(node, ())
        except yaml.constructor.ConstructorError as error:
            mark = error.problem_mark
            location = SourceLocation(file, mark.line + 1, mark.column + 1) if mark else None
            raise SpecError(f"invalid YAML value: {error.problem}", location, code=Check.BAD_FORMAT) from None
    return loaded


def load_yaml(path: Path) -> LoadedYaml:
    """Read and parse a YAML file; a missing or unreadable file is an :class:`InputError`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"file not found: {path}") from None
    except IsADirectoryError:
        raise InputError(f"expected a YAML file, got a directory: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read {path}: {error}") from None
    return load_yaml_text(text, str(path))
