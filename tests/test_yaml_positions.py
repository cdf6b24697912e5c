"""YAML loading keeps positions, rejects duplicates and reports schema errors at the right line."""

from __future__ import annotations

import datetime as dt

import pytest

from cohortlab.errors import SpecError
from cohortlab.spec.load import validate_model
from cohortlab.spec.rules import experiment_problems
from cohortlab.spec.models import Experiment
from cohortlab.spec.yamlio import load_yaml_text

EXPERIMENT = """\
name: demo
treatment: {where: "segment = 'SMB'", entered: {from: 2025-01-01, to: 2025-03-31}}
baseline:
  where: "segment = 'MM'"
  entered: {from: 2024-01-01, to: 2024-03-31}
match: {method: exact, on: [segment]}
metrics:
  - cac
  - {metric: ltv, basis: earned, months: 6}
"""


def test_positions_of_values_and_keys():
    loaded = load_yaml_text(EXPERIMENT, "x.yaml")
    assert loaded.data["baseline"]["entered"]["from"] == dt.date(2024, 1, 1)
    assert loaded.data["match"]["on"] == ["segment"]  # `on` stays a key, not YAML 1.1's boolean True
    assert (loaded.locate(("baseline", "where")).line, loaded.locate(("baseline", "where")).col) == (4, 10)
    assert (loaded.locate(("metrics", 1, "months")).line, loaded.locate(("metrics", 1, "months")).col) == (9, 42)
    assert loaded.locate(("metrics", 1, "basis"), key=True).col == 19
    # a path that does not exist falls back to its nearest ancestor
    assert loaded.locate(("metrics", 1, "nope")).line == 9


def test_position_inside_a_quoted_where_string():
    loaded = load_yaml_text(EXPERIMENT, "x.yaml")
    # the value starts at column 10 with its quote; offset 0 is the first character inside it
    assert loaded.locate_in_text(("baseline", "where"), 0).col == 11
    assert loaded.locate_in_text(("treatment", "where"), 10).col == 31  # the quote before SMB


def test_duplicate_keys_are_errors():
    with pytest.raises(SpecError) as error:
        load_yaml_text("name: a\nname: b\n", "x.yaml")
    assert "duplicate key 'name'" in error.value.message
    assert (error.value.location.line, error.value.location.col) == (2, 1)


def test_syntax_error_has_a_position():
    with pytest.raises(SpecError) as error:
        load_yaml_text("name: a\nmetrics: [cac\n", "x.yaml")
    assert error.value.location.line == 3


def test_unknown_key_is_reported_at_the_key():
    text = EXPERIMENT + "primray: cac\n"
    with pytest.raises(SpecError) as error:
        validate_model(Experiment, load_yaml_text(text, "x.yaml"), "experiment")
    assert "unknown key 'primray'" in error.value.message
    assert (error.value.location.line, error.value.location.col) == (10, 1)


def test_window_that_ends_before_it_starts():
    text = EXPERIMENT.replace("to: 2025-03-31", "to: 2024-12-31")
    loaded = load_yaml_text(text, "x.yaml")
    [problem] = experiment_problems(validate_model(Experiment, loaded, "experiment"))
    assert problem.code == "CL203"
    assert "ends (2024-12-31) before it starts (2025-01-01)" in problem.message
    location = problem.locate(loaded)
    assert (location.line, location.col) == (2, 1 + text.splitlines()[1].index("2024-12-31"))


@pytest.mark.parametrize("text, line, col", [
    ("treatment: {where: \"segment = 'SMB' AND employes > 5\"}\n", 1, 41),
    ("treatment:\n  where: |\n    segment = 'SMB'\n      AND employes > 5\n  x: 1\n", 4, 11),
    ("treatment:\n  where: |\n    segment = 'SMB'\n\n    AND employes > 5\n", 5, 9),
    ("treatment:\n  where: >\n    segment = 'SMB'\n    AND employes > 5\n", 4, 9),
    ("treatment:\n  where: segment = 'SMB'\n    AND employes > 5\n", 3, 9),
    ("treatment:\n  where: \"segment = 'SMB'\n    AND employes > 5\"\n", 3, 9),
    # folding around a blank line, or an escape, moves the text: the string's start instead
    ("treatment:\n  where: >\n    segment = 'SMB'\n\n    AND employes > 5\n", 2, 10),
    ("treatment:\n  where: \"segment = \\u0027SMB'\n    AND employes > 5\"\n", 2, 10),
])
def test_positions_inside_strings_over_several_lines(text, line, col):
    loaded = load_yaml_text(text, "x.yaml")
    offset = loaded.data["treatment"]["where"].index("employes")
    location = loaded.locate_in_text(("treatment", "where"), offset)
    assert (location.file, location.line, location.col) == ("x.yaml", line, col)
