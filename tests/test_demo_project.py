"""`cohortlab demo DIR` run again over its own project: never a user's edit lost, unless --force."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cohortlab.cli.app import app

runner = CliRunner()
FILES = ["configs/cohortlab.yaml", "data/accounts.parquet", "data/milestones.parquet", "data/revenue.parquet",
         "data/spend.parquet", "data/stages.parquet", "data/touches.parquet", "experiments/onboarding-v2.yaml",
         "experiments/orchestrated-journey.yaml", "schemas/config.schema.json", "schemas/experiment.schema.json"]


def demo(*args: str):
    result = runner.invoke(app, ["demo", *args])
    return result.exit_code, result.stdout, result.stderr


def outcomes(out: str, root: Path) -> dict[str, str]:
    """File (relative to the project) -> what demo says it did with it."""
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("written", "unchanged", "replaced"):
            found[str(Path(parts[1]).relative_to(root))] = parts[0]
    return found


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "project"
    code, out, _ = demo(str(root))
    assert code == 0
    return root, out


def test_a_new_project_lists_every_file_as_written(first):
    root, out = first
    assert outcomes(out, root) == dict.fromkeys(FILES, "written")
    assert sorted(snapshot(root)) == FILES
    assert f"  written    {root / 'data' / 'touches.parquet'}" in out and "490,327 rows" in out


def test_run_again_it_leaves_identical_files_and_writes_missing_ones(first, tmp_path):
    root, _ = first
    copy = tmp_path / "project"
    for name, content in snapshot(root).items():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes(content)
    (copy / "data" / "spend.parquet").unlink()
    (copy / "experiments" / "orchestrated-journey.yaml").unlink()
    before = {name: (copy / name).stat().st_mtime_ns for name in snapshot(copy)}
    code, out, err = demo(str(copy))
    assert (code, err) == (0, "")
    expected = dict.fromkeys(FILES, "unchanged") | {"data/spend.parquet": "written",
                                                    "experiments/orchestrated-journey.yaml": "written"}
    assert outcomes(out, copy) == expected
    assert snapshot(copy) == snapshot(root)
    assert {name: (copy / name).stat().st_mtime_ns for name in before} == before  # not even rewritten


def test_an_edited_file_is_refused_with_its_name_and_nothing_is_written(first, tmp_path):
    root, _ = first
    copy = tmp_path / "project"
    for name, content in snapshot(root).items():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes(content)
    experiment = copy / "experiments" / "onboarding-v2.yaml"
    config = copy / "configs" / "cohortlab.yaml"
    experiment.write_text(experiment.read_text().replace("title: Guided onboarding flow", "title: My edit"))
    config.write_text(config.read_text() + "# my note\n")
    (copy / "data" / "spend.parquet").unlink()
    before = snapshot(copy)
    code, out, err = demo(str(copy))
    assert (code, out) == (2, "")
    assert err == (f"error: files differ from the demo's and were left as written (demo wrote nothing): {config}, "
                   f"{experiment}\n  hint: rerun with --force to overwrite with the demo's files (the changes are "
                   "lost), or choose a new folder for the demo project\n")
    assert snapshot(copy) == before  # the edits kept, and the missing file not written either
    # another seed's data differs too
    code, _, err = demo(str(copy), "--seed", "3")
    assert code == 2 and f"{copy / 'data' / 'accounts.parquet'}," in err and "Traceback" not in err
    # --force replaces the edited files and says so
    code, out, _ = demo(str(copy), "--force")
    assert code == 0
    assert outcomes(out, copy) == dict.fromkeys(FILES, "unchanged") | {
        "configs/cohortlab.yaml": "replaced", "experiments/onboarding-v2.yaml": "replaced",
        "data/spend.parquet": "written"}
    assert snapshot(copy) == snapshot(root)


def test_a_table_in_another_format_is_refused_even_with_force(first, tmp_path):
    copy = tmp_path / "project"
    (copy / "data").mkdir(parents=True)
    (copy / "data" / "accounts.csv").write_text("account_id\nA1\n")
    code, out, err = demo(str(copy), "--force")
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {copy / 'data' / 'accounts.csv'} would make the demo's tables ambiguous")
    assert sorted(snapshot(copy)) == ["data/accounts.csv"]
