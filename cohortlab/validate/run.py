"""`cohortlab validate`: staged checks on a project's configs and experiments (docs/ci.md).

Stages: YAML and schema (CL0xx) → references (CL1xx) → semantics (CL2xx) → data (CL3xx,
opt-in). A file's problems are collected for every stage that can run, and the report
stops at the first stage with an error: every problem of that stage at once, none of the
later stages (they would mostly be echoes of it).

Given file paths, the whole project around them (its config and every experiment) is
loaded for context, e.g. to find duplicate names, but only the files given are reported
on; a config with errors is reported too, since nothing can be checked against it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cohortlab.codes import Check, Severity
from cohortlab.data.base import Source
from cohortlab.errors import CohortlabError, InputError, SpecError, SourceLocation
from cohortlab.spec.cohorts import match_problems, where_problems
from cohortlab.spec.load import CONFIG_CANDIDATES, find_config, is_config_path, parse_model
from cohortlab.spec.models import Config, Experiment
from cohortlab.spec.problems import Problem
from cohortlab.spec.rules import COHORTS, config_problems, experiment_problems
from cohortlab.spec.yamlio import LoadedYaml, load_yaml
from cohortlab.validate.findings import Finding, Result

YAML_SUFFIXES = (".yaml", ".yml")


def validate(paths: Sequence[Path] = (), *, config: Path | None = None, check_data: bool = False,
             today: dt.date | None = None) -> Result:
    """Check the given configs and experiments (files or project folders; none: the current folder).

    A config given is checked with every experiment of its project (what it means is what
    they compute), unless ``config`` is given: that chooses the config of the experiments.
    Raises :class:`InputError` for a path that does not exist or an experiment without a project config.
    """
    today = today or dt.date.today()
    targets = list(dict.fromkeys(target for path in (paths or [Path(".")]) for target in _expand(Path(path))))
    projects: dict[Path, _Project] = {}

    def project_of(config_path: Path) -> _Project:
        key = config_path.resolve()
        if key not in projects:
            projects[key] = _Project.load(config_path, check_data)
        return projects[key]

    checks: dict[Path, tuple[Path, _Project]] = {}
    for target in targets:
        if is_config_path(target):
            project = project_of(target)
            project.reported = True
            for experiment in _yaml_files(project.root / "experiments") if config is None else []:
                checks.setdefault(experiment.resolve(), (experiment, project))
        else:
            checks.setdefault(target.resolve(), (target, project_of(config or find_config(target))))
    for key, (_, project) in checks.items():  # every file being checked, before any name is compared
        project.experiments.add(key)
    findings: list[Finding] = []
    for target, project in checks.values():
        findings += _isolated(_check_experiment, target, project, check_data, today)
    for project in projects.values():
        if project.reported or any(finding.severity is Severity.ERROR for finding in project.findings):
            findings += project.findings
    files = [_display(path) for path in [*(t for t in targets if is_config_path(t)), *(t for t, _ in checks.values())]]
    files += [finding.file for finding in findings]  # a config with errors that was not given
    return Result(tuple(dict.fromkeys(files)), tuple(sorted(set(findings))))


def _isolated(check, target: Path, *args) -> list[Finding]:
    """A check's findings; a check that crashes is reported as an internal error on its file, not a lost run."""
    try:
        return check(target, *args)
    except CohortlabError:
        raise
    except Exception as error:  # a bug in a check: say so, and go on with the other files
        return [Finding(_display(target), 1, 1, Check.INTERNAL, f"internal error while checking this file: "
                        f"{type(error).__name__}: {error}", hint="please report it, with the file")]


def _expand(path: Path) -> list[Path]:
    """A file as itself; a folder as its project's config and experiments, else the YAML files in it."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError(f"file not found: {path}")
    found = [path / candidate for candidate in CONFIG_CANDIDATES if (path / candidate).is_file()][:1]
    found += _yaml_files(path / "experiments")
    found = found or _yaml_files(path)
    if not found:
        raise InputError(f"no configs or experiments found in {path}",
                         hint="expected configs/cohortlab.yaml and experiments/*.yaml, or YAML files in the folder")
    return found


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.glob("*") if path.suffix in YAML_SUFFIXES and path.is_file()) \
        if folder.is_dir() else []


def _display(path: Path) -> str:
    """A path as the user would write it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _load(path: Path) -> tuple[LoadedYaml | None, list[Finding]]:
    try:
        return load_yaml(Path(_display(path))), []  # messages and positions name the file as the user does
    except InputError as error:  # unreadable (e.g. not UTF-8): a finding on that file, not the end of the run
        return None, [Finding(_display(path), 1, 1, Check.YAML_SYNTAX, error.message, hint=error.hint)]
    except SpecError as error:
        location = error.location or SourceLocation(_display(path), 1, 1)
        return None, [Finding(_display(path), location.line, location.col, Check(error.code), error.message,
                              hint=error.hint)]


def _stage(code: Check) -> int:
    return int(code.value[2])


def _gate(problems: list[Problem]) -> list[Problem]:
    """The problems up to and including the first stage that has an error."""
    failing = [_stage(problem.code) for problem in problems if problem.severity is Severity.ERROR]
    if not failing:
        return problems
    return [problem for problem in problems if _stage(problem.code) <= min(failing)]


@dataclass
class _Project:
    """A config with what checks need from it: the model, the accounts columns, the experiments' names."""

    path: Path
    loaded: LoadedYaml | None
    config: Config | None
    findings: list[Finding]
    columns: dict[str, str] | None = None
    no_columns: str = ""                       # why the columns could not be read
    data: Source | None = None                 # opened and checked once, for --check-data
    reported: bool = False
    experiments: set[Path] = field(default_factory=set)
    _names: dict[str, list[Path]] | None = None
    _documents: dict[Path, tuple[LoadedYaml | None, list[Finding]]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, check_data: bool) -> _Project:
        loaded, findings = _load(path)
        if loaded is None:
            return cls(path, None, None, findings)
        config, problems = parse_model(Config, loaded, "config")
        if config is not None:
            problems += config_problems(config)
        project = cls(path, loaded, config, [Finding.of(p, loaded, _display(path)) for p in _gate(problems)])
        if config is not None and not any(f.severity is Severity.ERROR for f in project.findings):
            project._open(check_data)
        else:
            project.config = None  # nothing downstream is checked against a config with errors
        return project

    def _open(self, check_data: bool) -> None:
        """Read the accounts columns (and with ``check_data`` open and check the data); say why not."""
        from cohortlab.data.registry import open_source
        from cohortlab.data.source import MISSING_SOURCE_HINT, missing_source

        missing = missing_source(self.config)
        if missing is not None:  # a wrong path fails CI, with or without --check-data; nothing can be read
            self.no_columns = missing
            self._add(Problem(Check.SOURCE_NOT_FOUND, missing, ("source", "path"), MISSING_SOURCE_HINT))
            return
        try:
            source = open_source(self.config, schema_only=not check_data)
            self.columns = source.account_columns()
            if check_data:
                source.check(self.config.journey, self.config.as_of)
                self.data = source
        except InputError as error:  # the source is there but cannot be read without the data stage: a notice
            self.no_columns = error.message
            if check_data:
                self._add(Problem(Check.DATA_UNREADABLE, f"--check-data cannot open the data: {error.message}",
                                  ("source",), error.hint))
            else:
                self._add(_no_columns(error.message, ("source",), error.hint))
        except CohortlabError as error:  # the source opened but breaks the contract or the table mapping
            self.no_columns = self.no_columns or error.message
            self._add(Problem(Check.DATA_UNREADABLE, error.message, ("tables",) if "tables." in error.message
                              else ("source",), error.hint))

    def _add(self, problem: Problem) -> None:
        self.findings.append(Finding.of(problem, self.loaded, _display(self.path)))

    def document(self, path: Path) -> tuple[LoadedYaml | None, list[Finding]]:
        """A file parsed once per run, whether for its name or to check it."""
        key = path.resolve()
        if key not in self._documents:
            self._documents[key] = _load(path)
        return self._documents[key]

    @property
    def root(self) -> Path:
        folder = self.path.resolve().parent
        return folder.parent if folder.name == "configs" else folder

    def names(self) -> dict[str, list[Path]]:
        """Experiment name -> files, over the project's experiments folder and the files being checked."""
        if self._names is None:
            self._names = {}
            for path in dict.fromkeys([*(p.resolve() for p in _yaml_files(self.root / "experiments")),
                                       *self.experiments]):
                loaded, _ = self.document(path)
                data = loaded.data if loaded is not None else None
                name = data.get("name") if isinstance(data, dict) else None
                if isinstance(name, str):
                    self._names.setdefault(name, []).append(path)
        return self._names


def _check_experiment(path: Path, project: _Project, check_data: bool, today: dt.date) -> list[Finding]:
    display = _display(path)
    loaded, findings = project.document(path)
    if loaded is None:
        return findings
    experiment, problems = parse_model(Experiment, loaded, "experiment")
    if experiment is not None and project.config is not None:
        problems += _references(experiment, project)
        problems += experiment_problems(experiment, today)
        problems += _name_problems(experiment, path, project)
        problems = _gate(problems)
        if check_data and not any(problem.severity is Severity.ERROR for problem in problems):
            from cohortlab.validate.data import data_problems

            if project.data is not None:  # else the config carries why the data cannot be checked
                problems += data_problems(experiment, loaded, project.config, project.data)
    return [Finding.of(problem, loaded, display) for problem in _gate(problems)]


def _references(experiment: Experiment, project: _Project) -> list[Problem]:
    from cohortlab.metrics.registry import resolve_metrics

    _, problems = resolve_metrics(experiment, project.config.journey, project.config.economics)
    for name in COHORTS:
        problems += where_problems(name, getattr(experiment, name), project.columns)
    if project.columns is not None:
        problems += match_problems(experiment, project.columns)
    else:
        written = [(name, "where") for name in COHORTS if getattr(experiment, name).where is not None]
        written += [("match", *path) for path, _ in experiment.match.columns()][:1]
        written += [("breakdown", index) for index in range(len(experiment.breakdown))][:1]
        if written:
            problems.append(_no_columns(project.no_columns, written[0]))
    return problems


def _no_columns(reason: str, path: tuple, hint: str | None = None) -> Problem:
    return Problem(Check.NO_COLUMNS, "accounts columns not read, so `where`, `match` and `breakdown` columns are "
                   f"not checked: {reason}", path, hint)


def _name_problems(experiment: Experiment, path: Path, project: _Project) -> list[Problem]:
    problems = []
    if path.stem != experiment.name:
        problems.append(Problem(Check.NAME_MISMATCH, f"name '{experiment.name}' differs from the file name "
                                f"'{path.name}'", ("name",), f"rename the file to {experiment.name}{path.suffix} "
                                f"or set name: {path.stem}"))
    others = [other for other in project.names().get(experiment.name, []) if other != path.resolve()]
    if others:
        problems.append(Problem(Check.DUPLICATE_NAME, f"experiment name '{experiment.name}' is also used by "
                                f"{', '.join(_display(other) for other in others)}", ("name",),
                                "each experiment needs its own name"))
    return problems
