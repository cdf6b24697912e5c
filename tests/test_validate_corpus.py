"""The corpus of invalid definitions: each file states the exact findings it must produce.

Every file under ``tests/validate_corpus`` starts with ``# expect: LINE:COL CODE`` lines,
derived by hand from the file's text; validated alone, it must produce exactly those
findings (no more, no fewer), exit 1 when any is an error, and never print a traceback.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cohortlab.cli.app import app
from cohortlab.codes import Check, Severity
from cohortlab.validate.rules import SEVERITY

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "validate_corpus"
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (CL\d{3})$")
FILES = sorted((CORPUS / "experiments").glob("*.yaml")) + sorted((CORPUS / "bad_configs" / "configs").glob("*.yaml"))
runner = CliRunner()


def expectations(path: Path) -> set[tuple[int, int, str]]:
    found = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("# expect:"):
            break
        match = EXPECT.match(line)
        assert match, f"malformed expectation {line!r}"
        found.add((int(match[1]), int(match[2]), match[3]))
    return found


def test_the_corpus_is_large_and_covers_every_static_code():
    assert len(FILES) >= 40
    covered = {code for path in FILES for _, _, code in expectations(path)}
    static = {str(code) for code in Check if not str(code).startswith("CL3")} - {str(Check.INTERNAL)}
    assert static - covered == set()


@pytest.mark.parametrize("path", FILES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_each_invalid_file_gives_exactly_its_expected_findings(path, monkeypatch):
    monkeypatch.chdir(ROOT)
    relative = str(path.relative_to(ROOT))
    expected = expectations(path)
    assert expected, "a corpus file states its expected findings"
    result = runner.invoke(app, ["validate", "--format", "json", relative])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    document = json.loads(result.stdout)
    assert [f for f in document["findings"] if f["file"] != relative] == []
    assert {(f["line"], f["col"], f["code"]) for f in document["findings"]} == expected
    errors = any(SEVERITY.get(Check(code), Severity.ERROR) is Severity.ERROR for _, _, code in expected)
    assert result.exit_code == (1 if errors else 0)
    text = runner.invoke(app, ["validate", relative], env={"GITHUB_ACTIONS": "false"})
    assert text.exit_code == result.exit_code
    assert "Traceback" not in text.stdout + text.stderr and "internal error" not in text.stdout + text.stderr


def test_the_corpus_project_config_is_valid(monkeypatch):
    monkeypatch.chdir(ROOT)
    config = "tests/validate_corpus/configs/cohortlab.yaml"
    result = runner.invoke(app, ["validate", "--strict", "--config", config, config])  # the config alone
    assert (result.exit_code, result.stdout) == (0, "1 file checked, no problems\n")
