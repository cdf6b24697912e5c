"""The `where` language: a small, safe boolean filter over the columns of `accounts`.

An expression such as ``segment IN ('SMB', 'Mid-Market') AND employees >= 50`` is
tokenized and parsed by recursive descent into a checked AST; it is never evaluated
and never pasted into SQL. :func:`to_sql` quotes every identifier after checking it
against the known columns and turns every literal into a bound parameter.

Grammar (keywords are case-insensitive; NOT binds tighter than AND, AND tighter than OR)::

    expr      := and_expr (OR and_expr)*
    and_expr  := not_expr (AND not_expr)*
    not_expr  := NOT not_expr | '(' expr ')' | predicate
    predicate := column cmp literal | literal cmp column
               | column [NOT] IN '(' literal (',' literal)* ')'
               | column [NOT] BETWEEN literal AND literal
               | column IS [NOT] NULL
    cmp       := = | != | <> | < | <= | > | >=
    column    := [A-Za-z_][A-Za-z0-9_]* (not a keyword) | "double-quoted name"
    literal   := 'string' | integer | decimal | TRUE | FALSE | DATE 'YYYY-MM-DD' | YYYY-MM-DD

Every AST node and every error carries a 0-based character offset into the text, so
callers can point at ``file:line:col``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from cohortlab.errors import SpecError

__all__ = [
    "And",
    "Between",
    "Column",
    "Comparison",
    "Expr",
    "InList",
    "IsNull",
    "Literal",
    "Not",
    "Or",
    "UnknownColumn",
    "WhereSyntaxError",
    "check_columns",
    "describe",
    "parse_where",
    "referenced_columns",
    "to_sql",
]


class WhereSyntaxError(SpecError):
    """A `where` expression that cannot be accepted.

    ``offset`` is the 0-based character offset of the offending token in the
    expression text (its length when the expression ended too early).
    """

    def __init__(self, message: str, offset: int, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.offset = offset


# --------------------------------------------------------------------------- AST

LiteralValue = str | int | float | bool | dt.date


@dataclass(frozen=True)
class Column:
    """A column of `accounts`, as written (bare or double-quoted)."""

    name: str
    offset: int


@dataclass(frozen=True, eq=False)
class Literal:
    """A constant: string, integer, decimal, boolean or date."""

    value: LiteralValue
    offset: int

    # Python has True == 1 == 1.0, but TRUE, 1 and 1.0 are different literals.
    def _key(self) -> tuple[type, LiteralValue, int]:
        return (type(self.value), self.value, self.offset)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Literal):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


@dataclass(frozen=True)
class Comparison:
    """``column op value``; ``op`` is one of ``= != < <= > >=``."""

    column: Column
    op: str
    value: Literal
    offset: int


@dataclass(frozen=True)
class InList:
    """``column [NOT] IN (values...)``."""

    column: Column
    values: tuple[Literal, ...]
    negated: bool
    offset: int


@dataclass(frozen=True)
class Between:
    """``column [NOT] BETWEEN low AND high`` (inclusive bounds)."""

    column: Column
    low: Literal
    high: Literal
    negated: bool
    offset: int


@dataclass(frozen=True)
class IsNull:
    """``column IS [NOT] NULL``."""

    column: Column
    negated: bool
    offset: int


@dataclass(frozen=True)
class And:
    """Conjunction of two or more operands."""

    operands: tuple[Expr, ...]
    offset: int

    def __post_init__(self) -> None:
        _require_two_operands(self.operands, "And")


@dataclass(frozen=True)
class Or:
    """Disjunction of two or more operands."""

    operands: tuple[Expr, ...]
    offset: int

    def __post_init__(self) -> None:
        _require_two_operands(self.operands, "Or")


@dataclass(frozen=True)
class Not:
    """Negation of one operand."""

    operand: Expr
    offset: int


Expr = Comparison | InList | Between | IsNull | And | Or | Not


def _require_two_operands(operands: tuple[Expr, ...], kind: str) -> None:
    if len(operands) < 2:
        raise ValueError(f"{kind} needs at least two operands, got {len(operands)}")


@dataclass(frozen=True)
class UnknownColumn:
    """A referenced column that is not among the available ones, with a close match if any."""

    column: Column
    suggestion: str | None


# ------------------------------------------------------------------------- lexer

KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "BETWEEN", "IS", "NULL", "TRUE", "FALSE", "DATE"})
# Not part of the language, reserved only to explain why `IN (SELECT ...)` fails.
_SUBQUERY_KEYWORD = "SELECT"
_RESERVED = KEYWORDS | {_SUBQUERY_KEYWORD}

_MAX_NESTING = 100
_INT64 = range(-(2**63), 2**63)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WHITESPACE = re.compile(r"\s*")
_STRING = re.compile(r"'(?:[^']|'')*'")
_QUOTED_IDENTIFIER = re.compile(r'"(?:[^"]|"")*"')
_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
# Characters glued to a number or date make it malformed (`1e5`, `5.`, `2025-03-01T10:00`).
_GLUED = re.compile(r"[A-Za-z0-9_.:]+")
_OPERATOR = re.compile(r"<=|>=|<>|!=|=|<|>")
_NORMALISED_OPERATOR = {"<>": "!="}
_FLIPPED_OPERATOR = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


class _Kind(Enum):
    COLUMN = "column"
    STRING = "string"
    NUMBER = "number"
    DATE = "date"
    KEYWORD = "keyword"
    OPERATOR = "operator"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    END = "end"


@dataclass(frozen=True)
class _Token:
    kind: _Kind
    text: str  # exactly as in the source
    offset: int
    value: object = None  # decoded: column name, literal value, upper-case keyword, normalised operator

    def is_keyword(self, *words: str) -> bool:
        return self.kind is _Kind.KEYWORD and self.value in words


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = _WHITESPACE.match(text, 0).end()
    while position < len(text):
        token = _next_token(text, position, tokens[-1] if tokens else None)
        tokens.append(token)
        position = _WHITESPACE.match(text, token.offset + len(token.text)).end()
    tokens.append(_Token(_Kind.END, "", len(text)))
    return tokens


def _next_token(text: str, start: int, previous: _Token | None) -> _Token:
    char = text[start]
    if char == "'":
        return _string_token(text, start)
    if char == '"':
        return _quoted_column_token(text, start)
    if _is_ascii_digit(char) or _starts_negative_number(text, start, previous):
        return _number_or_date_token(text, start)
    if char.isascii() and (char.isalpha() or char == "_"):
        return _word_token(text, start)
    if char in "(),":
        return _Token(_Kind(char), char, start)
    if text.startswith("==", start):
        raise WhereSyntaxError("'==' is not an operator", start, hint="use '=' for equality")
    operator = _OPERATOR.match(text, start)
    if operator:
        symbol = operator.group()
        return _Token(_Kind.OPERATOR, symbol, start, _NORMALISED_OPERATOR.get(symbol, symbol))
    raise _rejected_character(text, start)


def _starts_negative_number(text: str, start: int, previous: _Token | None) -> bool:
    # After a value, `-` would be subtraction (`employees -5`, `3-5`), which is rejected.
    follows_value = previous is not None and (
        previous.kind in (_Kind.COLUMN, _Kind.STRING, _Kind.NUMBER, _Kind.DATE, _Kind.RPAREN)
        or previous.is_keyword("TRUE", "FALSE", "NULL")
    )
    return text[start] == "-" and _is_ascii_digit(text[start + 1 : start + 2]) and not follows_value


def _is_ascii_digit(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _rejected_character(text: str, start: int) -> WhereSyntaxError:
    if text.startswith("--", start) or text.startswith("/*", start):
        return WhereSyntaxError("comments are not allowed", start)
    char = text[start]
    if char == ";":
        return WhereSyntaxError("semicolons are not allowed", start, hint="write a single expression")
    if char in "+-*/%":
        return WhereSyntaxError(f"arithmetic is not allowed (found '{char}')", start)
    return WhereSyntaxError(f"unexpected character {char!r}", start)


def _string_token(text: str, start: int) -> _Token:
    match = _STRING.match(text, start)
    if match is None:
        raise WhereSyntaxError("unterminated string", start, hint="close it with ' and write '' for a quote inside")
    return _Token(_Kind.STRING, match.group(), start, match.group()[1:-1].replace("''", "'"))


def _quoted_column_token(text: str, start: int) -> _Token:
    match = _QUOTED_IDENTIFIER.match(text, start)
    if match is None:
        hint = 'close it with " and write "" for a quote inside'
        raise WhereSyntaxError("unterminated quoted column name", start, hint)
    name = match.group()[1:-1].replace('""', '"')
    if not name:
        raise WhereSyntaxError("empty quoted column name", start)
    return _Token(_Kind.COLUMN, match.group(), start, name)


def _word_token(text: str, start: int) -> _Token:
    word = _IDENTIFIER.match(text, start).group()
    upper = word.upper()
    if upper == _SUBQUERY_KEYWORD:
        raise WhereSyntaxError("subqueries are not allowed", start)
    if upper in KEYWORDS:
        return _Token(_Kind.KEYWORD, word, start, upper)
    return _Token(_Kind.COLUMN, word, start, word)


def _number_or_date_token(text: str, start: int) -> _Token:
    date = _DATE_SHAPE.match(text, start)
    if date:
        end = _glued_end(text, date.end())
        return _Token(_Kind.DATE, text[start:end], start, _parse_date(text[start:end], start))
    number = _NUMBER.match(text, start)
    end = _glued_end(text, number.end())
    if end != number.end():
        raise WhereSyntaxError(f"invalid number '{text[start:end]}'", start, hint="write numbers as 42, -7 or 0.25")
    return _Token(_Kind.NUMBER, number.group(), start, _parse_number(number.group(), start))


def _glued_end(text: str, end: int) -> int:
    glued = _GLUED.match(text, end)
    return glued.end() if glued else end


def _parse_number(text: str, offset: int) -> int | float:
    try:
        value: int | float = float(text) if "." in text else int(text)
    except ValueError:  # more digits than Python will convert
        value = math.inf
    if (isinstance(value, int) and value in _INT64) or (isinstance(value, float) and math.isfinite(value)):
        return value
    raise WhereSyntaxError(f"number '{text}' is out of range", offset)


def _parse_date(text: str, offset: int) -> dt.date:
    match = _ISO_DATE.fullmatch(text)
    if match is None:
        raise WhereSyntaxError(f"invalid date '{text}'", offset, hint="write dates as YYYY-MM-DD")
    year, month, day = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError as error:
        raise WhereSyntaxError(f"invalid date '{text}': {error}", offset) from None


# ------------------------------------------------------------------------ parser


def _found(token: _Token) -> str:
    if token.kind is _Kind.END:
        return "end of expression"
    if token.kind is _Kind.STRING:
        return f"string {token.text}"
    return f"'{token.text}'"


class _Parser:
    def __init__(self, tokens: list[_Token]):
        self._tokens = tokens
        self._index = 0
        self._depth = 0

    def parse(self) -> Expr:
        if self._peek().kind is _Kind.END:
            raise WhereSyntaxError("the where expression is empty", 0)
        expr = self._or()
        token = self._peek()
        if token.kind is not _Kind.END:
            raise self._unexpected("AND, OR or end of expression", token)
        return expr

    # -- token access

    def _peek(self, ahead: int = 0) -> _Token:
        return self._tokens[min(self._index + ahead, len(self._tokens) - 1)]

    def _advance(self) -> _Token:
        token = self._peek()
        self._index += 1
        return token

    def _unexpected(self, expected: str, token: _Token, hint: str | None = None) -> WhereSyntaxError:
        return WhereSyntaxError(f"expected {expected}, found {_found(token)}", token.offset, hint)

    def _expect(self, kind: _Kind, expected: str) -> _Token:
        if self._peek().kind is not kind:
            raise self._unexpected(expected, self._peek())
        return self._advance()

    def _expect_keyword(self, word: str, expected: str) -> _Token:
        if not self._peek().is_keyword(word):
            raise self._unexpected(expected, self._peek())
        return self._advance()

    def _enter(self, token: _Token) -> None:
        self._depth += 1
        if self._depth > _MAX_NESTING:
            raise WhereSyntaxError(f"expression is nested more than {_MAX_NESTING} levels deep", token.offset)

    # -- boolean structure

    def _or(self) -> Expr:
        start = self._peek().offset
        operands = [self._and()]
        while self._peek().is_keyword("OR"):
            self._advance()
            operands.append(self._and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands), start)

    def _and(self) -> Expr:
        start = self._peek().offset
        operands = [self._not()]
        while self._peek().is_keyword("AND"):
            self._advance()
            operands.append(self._not())
        return operands[0] if len(operands) == 1 else And(tuple(operands), start)

    def _not(self) -> Expr:
        token = self._peek()
        if token.is_keyword("NOT"):
            self._advance()
            self._enter(token)
            operand = self._not()
            self._depth -= 1
            return Not(operand, token.offset)
        if token.kind is _Kind.LPAREN:
            self._advance()
            self._enter(token)
            expr = self._or()
            self._depth -= 1
            self._expect(_Kind.RPAREN, f"')' to close the '(' at offset {token.offset}")
            return expr
        return self._predicate()

    # -- predicates

    def _predicate(self) -> Expr:
        token = self._peek()
        if token.kind is _Kind.COLUMN:
            return self._column_predicate(self._column())
        if _starts_literal(token):
            return self._value_first_comparison()
        raise self._unexpected("a column, a value, NOT or '('", token, self._misplaced_keyword_hint(token))

    def _misplaced_keyword_hint(self, token: _Token) -> str | None:
        if token.is_keyword("NULL"):
            return "test for missing values with: column IS NULL"
        follower = self._peek(1)
        starts_predicate = follower.kind is _Kind.OPERATOR or follower.is_keyword("IN", "IS", "BETWEEN")
        if token.kind is _Kind.KEYWORD and starts_predicate:
            return f'to use {token.text} as a column name, quote it: "{token.text}"'
        return None

    def _column(self) -> Column:
        token = self._advance()
        if self._peek().kind is _Kind.LPAREN:
            raise WhereSyntaxError("function calls are not allowed", token.offset)
        return Column(token.value, token.offset)

    def _column_predicate(self, column: Column) -> Expr:
        token = self._peek()
        if token.kind is _Kind.OPERATOR:
            self._advance()
            value = self._value(f"after '{token.text}'", null_hint=_null_hint(token.value))
            return Comparison(column, token.value, value, column.offset)
        negated = token.is_keyword("NOT")
        if negated:
            self._advance()
            if not self._peek().is_keyword("IN", "BETWEEN"):
                raise self._unexpected("IN or BETWEEN after NOT", self._peek())
        if self._peek().is_keyword("IN"):
            return self._in_list(column, negated)
        if self._peek().is_keyword("BETWEEN"):
            return self._between(column, negated)
        if token.is_keyword("IS"):
            return self._is_null(column)
        raise self._unexpected(f"a comparison after column '{column.name}'", token, _bare_column_hint(column, token))

    def _in_list(self, column: Column, negated: bool) -> InList:
        self._advance()
        self._expect(_Kind.LPAREN, "'(' after IN")
        values = [self._value("in the IN list")]
        while self._peek().kind is _Kind.COMMA:
            self._advance()
            values.append(self._value("in the IN list"))
        self._expect(_Kind.RPAREN, "',' or ')' in the IN list")
        return InList(column, tuple(values), negated, column.offset)

    def _between(self, column: Column, negated: bool) -> Between:
        self._advance()
        low = self._value("after BETWEEN")
        self._expect_keyword("AND", "AND between the two bounds of BETWEEN")
        high = self._value("after AND")
        return Between(column, low, high, negated, column.offset)

    def _is_null(self, column: Column) -> IsNull:
        self._advance()
        negated = self._peek().is_keyword("NOT")
        if negated:
            self._advance()
        token = self._peek()
        if not token.is_keyword("NULL"):
            hint = None
            if token.is_keyword("TRUE", "FALSE"):
                hint = f"compare with = instead: {_describe_column(column)} = {token.value}"
            raise self._unexpected("NULL after IS", token, hint)
        self._advance()
        return IsNull(column, negated, column.offset)

    def _value_first_comparison(self) -> Comparison:
        value = self._literal()
        operator = self._expect(_Kind.OPERATOR, f"a comparison operator after {_describe_literal(value)}")
        if self._peek().kind is not _Kind.COLUMN:
            raise self._unexpected(f"a column after '{operator.text}'", self._peek())
        column = self._column()
        return Comparison(column, _FLIPPED_OPERATOR[operator.value], value, value.offset)

    # -- literals

    def _value(self, context: str, null_hint: str = "use IS NULL") -> Literal:
        token = self._peek()
        if _starts_literal(token):
            return self._literal()
        if token.kind is _Kind.COLUMN:
            if self._peek(1).kind is _Kind.LPAREN:
                raise WhereSyntaxError("function calls are not allowed", token.offset)
            raise WhereSyntaxError(
                f"column-vs-column comparisons are not allowed (found column '{token.value}' {context})",
                token.offset,
                hint="compare a column with a literal value",
            )
        if token.is_keyword("NULL"):
            raise WhereSyntaxError(f"NULL cannot be used {context}", token.offset, hint=null_hint)
        raise self._unexpected(f"a value {context}", token)

    def _literal(self) -> Literal:
        token = self._advance()
        if token.is_keyword("TRUE", "FALSE"):
            return Literal(token.value == "TRUE", token.offset)
        if token.is_keyword("DATE"):
            return Literal(self._date_string(token), token.offset)
        return Literal(token.value, token.offset)

    def _date_string(self, keyword: _Token) -> dt.date:
        token = self._peek()
        if token.kind is _Kind.LPAREN:
            raise WhereSyntaxError("function calls are not allowed", keyword.offset)
        if token.kind is not _Kind.STRING:
            raise self._unexpected("a quoted date after DATE, like DATE '2025-03-01'", token)
        self._advance()
        return _parse_date(token.value, token.offset)


def _starts_literal(token: _Token) -> bool:
    return token.kind in (_Kind.STRING, _Kind.NUMBER, _Kind.DATE) or token.is_keyword("TRUE", "FALSE", "DATE")


def _null_hint(operator: str) -> str:
    return "use IS NOT NULL" if operator == "!=" else "use IS NULL"


def _bare_column_hint(column: Column, found: _Token) -> str | None:
    ends_predicate = found.kind in (_Kind.END, _Kind.RPAREN) or found.is_keyword("AND", "OR")
    if not ends_predicate:
        return None
    name = _describe_column(column)
    return f"a bare column is not a condition; write e.g. {name} = TRUE or {name} IS NOT NULL"


# -------------------------------------------------------------------- public API


def parse_where(text: str) -> Expr:
    """Parse a `where` expression into its AST.

    Parameters
    ----------
    text
        The expression, e.g. ``"segment IN ('SMB', 'Mid-Market') AND employees >= 50"``.

    Returns
    -------
    Expr
        The root node. ``a AND b AND c`` is one :class:`And` with three operands;
        parentheses are kept as structure, so ``(a AND b) AND c`` nests.
        ``50 <= employees`` becomes ``employees >= 50``.

    Raises
    ------
    WhereSyntaxError
        For anything outside the grammar, with the offset of the offending token.
    """
    return _Parser(_tokenize(text)).parse()


def _walk(expr: Expr) -> Iterator[Expr]:
    yield expr
    if isinstance(expr, (And, Or)):
        for operand in expr.operands:
            yield from _walk(operand)
    elif isinstance(expr, Not):
        yield from _walk(expr.operand)


def referenced_columns(expr: Expr) -> list[Column]:
    """Every column the expression mentions, in source order, duplicates kept.

    Parameters
    ----------
    expr
        A parsed expression.

    Returns
    -------
    list[Column]
        One entry per mention, each with its own offset.
    """
    return [node.column for node in _walk(expr) if not isinstance(node, (And, Or, Not))]


def check_columns(expr: Expr, available: Iterable[str]) -> list[UnknownColumn]:
    """The mentions of columns that are not available, each with a "did you mean".

    Parameters
    ----------
    expr
        A parsed expression.
    available
        The column names of `accounts`; names match exactly (case-sensitively).

    Returns
    -------
    list[UnknownColumn]
        One entry per unknown mention, in source order (empty when all are known).
        The suggestion is an available name equal ignoring case, else the closest one
        by :func:`difflib.get_close_matches` (cutoff 0.6, ignoring case), else None.
    """
    names = list(available)
    known = set(names)
    return [
        UnknownColumn(column, _suggest(column.name, names))
        for column in referenced_columns(expr)
        if column.name not in known
    ]


def _suggest(name: str, available: list[str]) -> str | None:
    by_lower: dict[str, str] = {}
    for candidate in available:
        by_lower.setdefault(candidate.lower(), candidate)
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def to_sql(expr: Expr, available: Iterable[str]) -> tuple[str, list[object]]:
    """Render an expression as a parameterised SQL condition.

    Parameters
    ----------
    expr
        A parsed expression.
    available
        The column names of `accounts`; every referenced column must be one of them.

    Returns
    -------
    sql : str
        The condition, with every identifier double-quoted and every literal a ``?``
        placeholder; AND, OR and NOT are wrapped in parentheses, e.g.
        ``("segment" = ? AND "employees" >= ?)``.
    params : list[object]
        The literal values in placeholder order (dates as :class:`datetime.date`).

    Raises
    ------
    WhereSyntaxError
        For the first unknown column, at its offset, with a "did you mean" hint.
    """
    unknown = check_columns(expr, available)
    if unknown:
        first = unknown[0]
        hint = f"did you mean '{first.suggestion}'?" if first.suggestion else None
        raise WhereSyntaxError(f"unknown column '{first.column.name}'", first.column.offset, hint)
    params: list[object] = []
    return _sql(expr, params), params


def _sql(expr: Expr, params: list[object]) -> str:
    match expr:
        case And(operands) | Or(operands):
            joiner = " AND " if isinstance(expr, And) else " OR "
            return "(" + joiner.join(_sql(operand, params) for operand in operands) + ")"
        case Not(operand):
            return f"(NOT {_sql(operand, params)})"
        case Comparison(column, op, value):
            params.append(value.value)
            return f"{_quote_identifier(column.name)} {'<>' if op == '!=' else op} ?"
        case InList(column, values, negated):
            params.extend(literal.value for literal in values)
            placeholders = ", ".join("?" for _ in values)
            return f"{_quote_identifier(column.name)} {_not(negated)}IN ({placeholders})"
        case Between(column, low, high, negated):
            params.extend((low.value, high.value))
            return f"{_quote_identifier(column.name)} {_not(negated)}BETWEEN ? AND ?"
        case IsNull(column, negated):
            return f"{_quote_identifier(column.name)} IS {_not(negated)}NULL"
    raise TypeError(f"not a where expression: {expr!r}")


def _not(negated: bool) -> str:
    return "NOT " if negated else ""


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def describe(expr: Expr) -> str:
    """The canonical one-line text of an expression, as shown in reports.

    Parameters
    ----------
    expr
        A parsed (or constructed) expression.

    Returns
    -------
    str
        Text that parses back to the same tree: the column first in comparisons,
        ``!=`` for inequality, upper-case keywords, dates as ``2025-03-01``, and
        parentheses only where precedence or nesting needs them, e.g.
        ``onboarding_flow = 'guided_v2' AND employees >= 50``.
    """
    match expr:
        case And(operands) | Or(operands):
            joiner = " AND " if isinstance(expr, And) else " OR "
            return joiner.join(_describe_operand(operand, expr) for operand in operands)
        case Not(operand):
            return "NOT " + _describe_operand(operand, expr)
        case Comparison(column, op, value):
            return f"{_describe_column(column)} {op} {_describe_literal(value)}"
        case InList(column, values, negated):
            listed = ", ".join(_describe_literal(value) for value in values)
            return f"{_describe_column(column)} {_not(negated)}IN ({listed})"
        case Between(column, low, high, negated):
            bounds = f"{_describe_literal(low)} AND {_describe_literal(high)}"
            return f"{_describe_column(column)} {_not(negated)}BETWEEN {bounds}"
        case IsNull(column, negated):
            return f"{_describe_column(column)} IS {_not(negated)}NULL"
    raise TypeError(f"not a where expression: {expr!r}")


def _describe_operand(operand: Expr, parent: And | Or | Not) -> str:
    # AND binds tighter than OR; same-kind nesting is parenthesised so it survives a re-parse.
    needs_parentheses = isinstance(operand, Or) or (isinstance(operand, And) and not isinstance(parent, Or))
    text = describe(operand)
    return f"({text})" if needs_parentheses else text


def _describe_column(column: Column) -> str:
    if _IDENTIFIER.fullmatch(column.name) and column.name.upper() not in _RESERVED:
        return column.name
    return _quote_identifier(column.name)


def _describe_literal(literal: Literal) -> str:
    value = literal.value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Positional notation (the language has no exponents) that reads back as the same float.
        text = format(Decimal(repr(value)), "f")
        return text if "." in text else text + ".0"
    return value.isoformat()
