"""Property: whatever text an experiment or config file holds, validate answers with findings, never a traceback.

Three generators: arbitrary text; the example files with random edits (characters that matter
to YAML inserted, spans deleted, lines duplicated or swapped, values swapped for others); and
random YAML documents built from the schema's own keys and plausible values.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cohortlab.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "experiments" / "onboarding-v2.yaml").read_text()
CONFIG = (ROOT / "configs" / "cohortlab.yaml").read_text()
runner = CliRunner()

FUZZ = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

YAML_CHARACTERS = ":{}[],'\"#&*!|>-? \n\t%@`"
KEYS = ["name", "title", "treatment", "baseline", "where", "entered", "from", "to", "match", "method", "on",
        "metrics", "metric", "primary", "mde", "months", "basis", "stage", "source", "kind", "seed", "path", "as_of",
        "journey", "stages", "won", "economics", "gross_margin", "defaults", "replicates", "tables", "columns"]
VALUES = ["cac", "ltv", "nrr", "retention", "cost_per", "earned", "modeled", "exact", "none", "customer", "demo",
          "files", "2025-03-01", "2025-02-30", "0", "-1", "1e309", "0.05", "null", "true", "~", "''",
          "\"segment = 'SMB'\"", "\"employees > 'x'\"", "\"a = = b\"", "\"segment IN ()\"", "[]", "{}", "*anchor",
          "&anchor x", "!!binary aGk=", "!!python/object:os.system ls", "'unterminated", "[segment, channel]"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    (root / "configs").mkdir()
    (root / "configs" / "cohortlab.yaml").write_text(CONFIG)
    (root / "experiments").mkdir()
    return root


def check(folder: Path, text: str, kind: str = "experiment") -> None:
    if kind == "experiment":
        path = folder / "experiments" / "onboarding-v2.yaml"  # the example's name: edits reach the later stages
        args = ["validate", str(path)]
    else:
        path = folder / "other" / "configs" / "cohortlab.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        args = ["validate", str(path)]
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, args, env={"GITHUB_ACTIONS": "false"})
    output = result.stdout + result.stderr
    assert result.exit_code in (0, 1, 2), output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output and "internal error" not in output, output


@st.composite
def edited(draw, text: str) -> str:
    """``text`` after one to four random edits."""
    for _ in range(draw(st.integers(1, 4))):
        lines = text.splitlines(keepends=True)
        edit = draw(st.sampled_from(["insert", "delete", "duplicate", "swap", "value"]))
        position = draw(st.integers(0, max(len(text) - 1, 0)))
        if edit == "insert":
            text = text[:position] + draw(st.text(st.sampled_from(YAML_CHARACTERS), min_size=1, max_size=3)) + \
                text[position:]
        elif edit == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 12)):]
        elif edit in ("duplicate", "swap") and lines:
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if edit == "duplicate":
                lines.insert(j, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "".join(lines)
        elif edit == "value":
            start = text.find(":", position)
            if start >= 0:
                end = min([i for i in (text.find(c, start + 1) for c in ",}\n") if i >= 0], default=len(text))
                text = text[:start + 1] + " " + draw(st.sampled_from(VALUES)) + text[end:]
    return text


scalars = st.one_of(st.sampled_from(VALUES), st.integers(-5, 10**6), st.floats(allow_nan=True), st.booleans(),
                    st.none(), st.dates(), st.text(max_size=8))
documents = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.sampled_from(KEYS), children, max_size=5)),
    max_leaves=20,
)


@FUZZ
@given(text=st.text(max_size=200))
def test_arbitrary_text(folder, text):
    check(folder, text)


@FUZZ
@given(text=edited(EXAMPLE))
def test_edited_experiment(folder, text):
    check(folder, text)


@FUZZ
@given(text=edited(CONFIG))
def test_edited_config(folder, text):
    check(folder, text, kind="config")


@FUZZ
@given(document=st.dictionaries(st.sampled_from(KEYS), documents, max_size=8))
def test_random_documents_from_the_schema_vocabulary(folder, document):
    check(folder, yaml.safe_dump(document, sort_keys=False))
