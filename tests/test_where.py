"""The `where` language: parsing, errors with offsets, SQL rendering and its meaning in DuckDB."""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cohortlab.errors import SpecError
from cohortlab.spec.where import (
    And,
    Between,
    Column,
    Comparison,
    Expr,
    InList,
    IsNull,
    Literal,
    Not,
    Or,
    UnknownColumn,
    WhereSyntaxError,
    check_columns,
    describe,
    parse_where,
    referenced_columns,
    to_sql,
)

ACCOUNT_COLUMNS = ["id", "segment", "employees", "created_at", "is_partner", "annual revenue"]


def strip_offsets(node: object) -> object:
    """The same tree with every offset set to 0, for comparing structure only."""
    if isinstance(node, tuple):
        return tuple(strip_offsets(item) for item in node)
    if not dataclasses.is_dataclass(node):
        return node
    fields = {field.name: strip_offsets(getattr(node, field.name)) for field in dataclasses.fields(node)}
    return dataclasses.replace(node, **{**fields, "offset": 0})


# ----------------------------------------------------------------- parse results


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("segment = 'SMB'", Comparison(Column("segment", 0), "=", Literal("SMB", 10), 0)),
        ("employees <> 5", Comparison(Column("employees", 0), "!=", Literal(5, 13), 0)),
        ("employees != -5", Comparison(Column("employees", 0), "!=", Literal(-5, 13), 0)),
        ("x < 0.25", Comparison(Column("x", 0), "<", Literal(0.25, 4), 0)),
        ("x <= -1.5", Comparison(Column("x", 0), "<=", Literal(-1.5, 5), 0)),
        ("x > TRUE", Comparison(Column("x", 0), ">", Literal(True, 4), 0)),
        ("x >= false", Comparison(Column("x", 0), ">=", Literal(False, 5), 0)),
        ("name = 'O''Brien'", Comparison(Column("name", 0), "=", Literal("O'Brien", 7), 0)),
        ("created_at >= 2025-03-01", Comparison(Column("created_at", 0), ">=", Literal(dt.date(2025, 3, 1), 14), 0)),
        (
            "created_at < DATE '2024-02-29'",
            Comparison(Column("created_at", 0), "<", Literal(dt.date(2024, 2, 29), 13), 0),
        ),
        ('"annual revenue" > 1000', Comparison(Column("annual revenue", 0), ">", Literal(1000, 19), 0)),
        ('"say ""hi""" = 1', Comparison(Column('say "hi"', 0), "=", Literal(1, 15), 0)),
        # A value first flips the operator; the node starts at the value.
        ("50 <= employees", Comparison(Column("employees", 6), ">=", Literal(50, 0), 0)),
        ("'SMB' = segment", Comparison(Column("segment", 8), "=", Literal("SMB", 0), 0)),
        ("2025-01-01 > created_at", Comparison(Column("created_at", 13), "<", Literal(dt.date(2025, 1, 1), 0), 0)),
        (
            "segment IN ('SMB', 'Mid-Market')",
            InList(Column("segment", 0), (Literal("SMB", 12), Literal("Mid-Market", 19)), False, 0),
        ),
        ("segment not in (1)", InList(Column("segment", 0), (Literal(1, 16),), True, 0)),
        ("employees BETWEEN 10 AND 50", Between(Column("employees", 0), Literal(10, 18), Literal(50, 25), False, 0)),
        ("x NOT BETWEEN -1 AND 1", Between(Column("x", 0), Literal(-1, 14), Literal(1, 21), True, 0)),
        ("segment IS NULL", IsNull(Column("segment", 0), False, 0)),
        ("segment is not null", IsNull(Column("segment", 0), True, 0)),
        ("  (x = 1)  ", Comparison(Column("x", 3), "=", Literal(1, 7), 3)),
        ("NOT x = 1", Not(Comparison(Column("x", 4), "=", Literal(1, 8), 4), 0)),
    ],
)
def test_parse_builds_the_expected_tree(text: str, expected: Expr) -> None:
    assert parse_where(text) == expected


def test_literal_equality_tells_booleans_integers_and_decimals_apart() -> None:
    assert Literal(True, 0) != Literal(1, 0)
    assert Literal(1, 0) != Literal(1.0, 0)
    assert parse_where("x = 1") != parse_where("x = TRUE")


def test_and_or_chains_are_flat_and_parentheses_nest() -> None:
    a, b, c = (Comparison(Column(name, 0), "=", Literal(1, 0), 0) for name in "abc")
    assert strip_offsets(parse_where("a = 1 AND b = 1 AND c = 1")) == And((a, b, c), 0)
    assert strip_offsets(parse_where("(a = 1 AND b = 1) AND c = 1")) == And((And((a, b), 0), c), 0)
    assert strip_offsets(parse_where("a = 1 or b = 1 OR c = 1")) == Or((a, b, c), 0)


def test_precedence_is_not_then_and_then_or() -> None:
    a, b, c = (Comparison(Column(name, 0), "=", Literal(1, 0), 0) for name in "abc")
    assert strip_offsets(parse_where("a = 1 OR b = 1 AND c = 1")) == Or((a, And((b, c), 0)), 0)
    assert strip_offsets(parse_where("a = 1 AND b = 1 OR c = 1")) == Or((And((a, b), 0), c), 0)
    assert strip_offsets(parse_where("NOT a = 1 AND b = 1")) == And((Not(a, 0), b), 0)
    assert strip_offsets(parse_where("NOT (a = 1 OR b = 1)")) == Not(Or((a, b), 0), 0)
    # BETWEEN takes its own AND before the conjunction does.
    between = Between(Column("a", 0), Literal(1, 0), Literal(2, 0), False, 0)
    assert strip_offsets(parse_where("a BETWEEN 1 AND 2 AND b = 1")) == And((between, b), 0)


def test_compound_nodes_start_at_their_first_token() -> None:
    expr = parse_where("(a = 1 OR b = 2) AND NOT c = 3")
    assert isinstance(expr, And) and expr.offset == 0
    first, second = expr.operands
    assert isinstance(first, Or) and first.offset == 1
    assert isinstance(second, Not) and second.offset == 21


# ------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("lower(segment) = 'smb'", 0, "function calls are not allowed"),
        ("x = date(created_at)", 4, "function calls are not allowed"),
        ("segment = 'SMB'; DROP TABLE accounts", 15, "semicolons are not allowed"),
        ("segment = 'SMB' -- all", 16, "comments are not allowed"),
        ("segment = 'SMB' /* all */", 16, "comments are not allowed"),
        ("employees + 1 > 5", 10, "arithmetic is not allowed"),
        ("employees = 3-5", 13, "arithmetic is not allowed"),
        ("employees = seats", 12, "column-vs-column comparisons are not allowed"),
        ("1 = 1", 4, "expected a column after '=', found '1'"),
        ("segment = 'SMB' employees", 16, "expected AND, OR or end of expression, found 'employees'"),
        ("segment = 'SMB')", 15, "expected AND, OR or end of expression, found ')'"),
        ("segment = 'SMB", 10, "unterminated string"),
        ('"annual revenue = 5', 0, "unterminated quoted column name"),
        ("created_at = 2025-02-30", 13, "invalid date '2025-02-30'"),
        ("created_at = DATE '2025-13-01'", 18, "invalid date '2025-13-01'"),
        ("created_at = 2025-3-1", 13, "invalid date '2025-3-1'"),
        ("is_partner", 10, "expected a comparison after column 'is_partner', found end of expression"),
        ("segment =", 9, "expected a value after '=', found end of expression"),
        ("segment IN ()", 12, "expected a value in the IN list, found ')'"),
        ("segment IN ('a' 'b')", 16, "expected ',' or ')' in the IN list"),
        ("(segment = 'SMB'", 16, "expected ')'"),
        ("employees BETWEEN 1 OR 5", 20, "expected AND between the two bounds of BETWEEN, found 'OR'"),
        ("segment IS 'SMB'", 11, "expected NULL after IS"),
        ("segment NOT LIKE 'a%'", 12, "expected IN or BETWEEN after NOT, found 'LIKE'"),
        ("segment IN (SELECT segment FROM t)", 12, "subqueries are not allowed"),
        ("AND segment = 'x'", 0, "expected a column, a value, NOT or '('"),
        ("x = 1 AND", 9, "found end of expression"),
        ("x = 1e5", 4, "invalid number '1e5'"),
        ("x = 99999999999999999999", 4, "out of range"),
        ("segment == 'x'", 8, "'==' is not an operator"),
        ("x = @p", 4, "unexpected character '@'"),
        ("x = DATE 5", 9, "expected a quoted date after DATE"),
        ("(" * 101 + "x = 1" + ")" * 101, 100, "nested more than 100 levels"),
    ],
)
def test_invalid_input_reports_the_offset_of_the_offending_token(text: str, offset: int, message: str) -> None:
    with pytest.raises(WhereSyntaxError) as caught:
        parse_where(text)
    assert caught.value.offset == offset
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("text", "offset", "hint"),
    [
        ("segment = NULL", 10, "use IS NULL"),
        ("segment <> NULL", 11, "use IS NOT NULL"),
        ("segment IN ('a', NULL)", 17, "use IS NULL"),
        ("is_partner IS TRUE", 14, "is_partner = TRUE"),
        ("is_partner AND x = 1", 11, "is_partner = TRUE"),
        ("and = 1", 0, '"and"'),
    ],
)
def test_common_mistakes_get_a_hint(text: str, offset: int, hint: str) -> None:
    with pytest.raises(WhereSyntaxError) as caught:
        parse_where(text)
    assert caught.value.offset == offset
    assert hint in caught.value.hint


def test_where_syntax_error_is_a_spec_error() -> None:
    with pytest.raises(SpecError):
        parse_where("x =")


# ----------------------------------------------------------- columns and to_sql


def test_referenced_columns_are_in_source_order_with_duplicates() -> None:
    expr = parse_where("segment = 'a' OR (1 < employees AND segment IS NULL)")
    assert referenced_columns(expr) == [Column("segment", 0), Column("employees", 22), Column("segment", 36)]


def test_check_columns_suggests_close_and_case_insensitive_matches() -> None:
    expr = parse_where("segmnt = 'a' AND Employees > 5 AND segment = 'b' AND zzz IS NULL AND CREATED_AT < 2025-01-01")
    assert check_columns(expr, ACCOUNT_COLUMNS) == [
        UnknownColumn(Column("segmnt", 0), "segment"),
        UnknownColumn(Column("Employees", 17), "employees"),
        UnknownColumn(Column("zzz", 53), None),
        UnknownColumn(Column("CREATED_AT", 69), "created_at"),
    ]
    assert check_columns(parse_where("segment = 'a'"), ACCOUNT_COLUMNS) == []


def test_to_sql_quotes_identifiers_and_binds_every_literal() -> None:
    sql, params = to_sql(parse_where("segment = 'SMB' AND employees >= 50"), ACCOUNT_COLUMNS)
    assert sql == '("segment" = ? AND "employees" >= ?)'
    assert params == ["SMB", 50]


def test_to_sql_renders_every_construct_with_explicit_parentheses() -> None:
    text = (
        "segment NOT IN ('a', 'b') OR NOT (employees NOT BETWEEN 1 AND 9 AND created_at IS NOT NULL)"
        " OR \"annual revenue\" <> 0.5 OR 2025-01-01 <= created_at OR is_partner = TRUE"
    )
    sql, params = to_sql(parse_where(text), ACCOUNT_COLUMNS)
    assert sql == (
        '("segment" NOT IN (?, ?) OR (NOT ("employees" NOT BETWEEN ? AND ? AND "created_at" IS NOT NULL))'
        ' OR "annual revenue" <> ? OR "created_at" >= ? OR "is_partner" = ?)'
    )
    assert params == ["a", "b", 1, 9, 0.5, dt.date(2025, 1, 1), True]


def test_to_sql_doubles_quotes_inside_identifiers() -> None:
    sql, params = to_sql(parse_where('"a""b" IS NULL'), ['a"b'])
    assert (sql, params) == ('"a""b" IS NULL', [])


def test_to_sql_rejects_unknown_columns_with_a_suggestion() -> None:
    with pytest.raises(WhereSyntaxError) as caught:
        to_sql(parse_where("employees > 5 AND segmnt = 'SMB'"), ACCOUNT_COLUMNS)
    assert caught.value.offset == 18
    assert caught.value.message == "unknown column 'segmnt'"
    assert caught.value.hint == "did you mean 'segment'?"


# ----------------------------------------------------------------------- describe


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("onboarding_flow='guided_v2' and employees>=50", "onboarding_flow = 'guided_v2' AND employees >= 50"),
        ("50 <= employees", "employees >= 50"),
        ("x <> 1.50", "x != 1.5"),
        ("x = DATE '2025-03-01'", "x = 2025-03-01"),
        ("name = 'O''Brien'", "name = 'O''Brien'"),
        ('"and" = true', '"and" = TRUE'),
        ('"annual revenue" not between 1 and 2', '"annual revenue" NOT BETWEEN 1 AND 2'),
        ("s in ('a','b')", "s IN ('a', 'b')"),
        ("(a = 1 OR b = 2) AND c = 3", "(a = 1 OR b = 2) AND c = 3"),
        ("a = 1 OR (b = 2 AND c = 3)", "a = 1 OR b = 2 AND c = 3"),
        ("(a = 1 OR b = 2) OR c = 3", "(a = 1 OR b = 2) OR c = 3"),
        ("NOT (a = 1 AND b IS NOT NULL)", "NOT (a = 1 AND b IS NOT NULL)"),
        ("not not a = 1", "NOT NOT a = 1"),
    ],
)
def test_describe_is_canonical_and_reparses(text: str, canonical: str) -> None:
    expr = parse_where(text)
    assert describe(expr) == canonical
    assert strip_offsets(parse_where(canonical)) == strip_offsets(expr)


# ------------------------------------------------------------- meaning in DuckDB

ROWS = [
    # id, segment, employees, created_at, is_partner, annual revenue
    (1, "SMB", 10, dt.date(2025, 1, 15), True, 12000.0),
    (2, "SMB", 60, dt.date(2025, 3, 1), False, 50000.0),
    (3, "Mid-Market", 250, dt.date(2025, 3, 15), True, 250000.0),
    (4, "Enterprise", 5000, dt.date(2024, 12, 31), False, 2000000.0),
    (5, None, 40, dt.date(2025, 6, 30), None, None),
    (6, "Mid-Market", None, None, True, 90000.5),
    (7, "Partner's", 5, dt.date(2025, 2, 28), True, 0.0),
    (8, "smb", 50, dt.date(2025, 3, 1), False, 49999.99),
]


@pytest.fixture(scope="module")
def accounts() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(
        'CREATE TABLE accounts (id INTEGER, segment VARCHAR, employees INTEGER, created_at DATE,'
        ' is_partner BOOLEAN, "annual revenue" DOUBLE)'
    )
    connection.executemany("INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?)", ROWS)
    return connection


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("segment = 'SMB'", {1, 2}),
        ("segment != 'SMB'", {3, 4, 6, 7, 8}),  # a NULL segment is neither equal nor unequal
        ("segment IN ('SMB', 'Mid-Market') AND employees >= 50", {2, 3}),
        ("segment NOT IN ('SMB', 'Mid-Market')", {4, 7, 8}),
        ("employees BETWEEN 40 AND 60", {2, 5, 8}),
        ("employees NOT BETWEEN 40 AND 60", {1, 3, 4, 7}),
        ("created_at >= 2025-03-01 AND created_at < DATE '2025-07-01'", {2, 3, 5, 8}),
        ("is_partner = TRUE", {1, 3, 6, 7}),
        ("NOT is_partner = TRUE", {2, 4, 8}),
        ('"annual revenue" > 49999.99', {2, 3, 4, 6}),
        ("segment = 'Partner''s'", {7}),
        ("employees IS NOT NULL AND NOT (segment = 'SMB' OR employees > 100)", {7, 8}),
        ("50 <= employees", {2, 3, 4, 8}),
        ("created_at IS NULL", {6}),
        ("segment = 'SMB' OR segment = 'Mid-Market' AND employees > 100", {1, 2, 3}),
    ],
)
def test_to_sql_selects_the_expected_rows_in_duckdb(
    accounts: duckdb.DuckDBPyConnection, text: str, ids: set[int]
) -> None:
    condition, params = to_sql(parse_where(text), ACCOUNT_COLUMNS)
    selected = accounts.execute(f"SELECT id FROM accounts WHERE {condition}", params).fetchall()
    assert {row[0] for row in selected} == ids


# --------------------------------------------------------------------- properties

FRAGMENTS = [
    "segment", '"annual revenue"', "'SMB'", "'it''s'", "50", "-3.5", "2025-03-01", "2025-02-30", "DATE",
    "'2025-02-30'", "TRUE", "NULL", "AND", "OR", "NOT", "IN", "BETWEEN", "IS", "(", ")", ",", "=", "<>",
    ">=", ";", "--", "+", "-", "lower", "'", '"', "1e5", "SELECT", "==", "é", "٣",
]
fragment_text = st.lists(st.sampled_from(FRAGMENTS), max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=40), fragment_text.map(" ".join), fragment_text.map("".join)))
def test_random_text_only_ever_raises_where_syntax_error(text: str) -> None:
    try:
        expr = parse_where(text)
    except WhereSyntaxError as error:
        assert 0 <= error.offset <= len(text)
    else:
        assert describe(parse_where(describe(expr))) == describe(expr)


column_names = st.sampled_from(["segment", "employees", "annual revenue", "and", 'say "hi"', "Select", "_x1", "é"])
literal_values = st.one_of(
    st.text(max_size=6),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(),
)
columns = column_names.map(lambda name: Column(name, 0))
literals = literal_values.map(lambda value: Literal(value, 0))
predicates = st.one_of(
    st.builds(Comparison, columns, st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), literals, st.just(0)),
    st.builds(InList, columns, st.lists(literals, min_size=1, max_size=3).map(tuple), st.booleans(), st.just(0)),
    st.builds(Between, columns, literals, literals, st.booleans(), st.just(0)),
    st.builds(IsNull, columns, st.booleans(), st.just(0)),
)
expressions = st.recursive(
    predicates,
    lambda children: st.one_of(
        st.builds(And, st.lists(children, min_size=2, max_size=3).map(tuple), st.just(0)),
        st.builds(Or, st.lists(children, min_size=2, max_size=3).map(tuple), st.just(0)),
        st.builds(Not, children, st.just(0)),
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(expressions)
def test_describe_of_any_tree_reparses_to_the_same_tree(expr: Expr) -> None:
    reparsed = parse_where(describe(expr))
    assert describe(reparsed) == describe(expr)
    assert strip_offsets(reparsed) == expr
