"""What the rules of `cohortlab validate` look at: a config, its data source, an experiment.

Each holds what its rules read: the parsed model, the project around it and the passes that
several rules share (the schema parse, resolving the metrics, the columns, opening the data
source, the data stage's comparison). A pass is computed once per file, and so is its crash
(:func:`shared`): the rules that read a pass which crashed all raise the same error.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel

from cohortlab.codes import Check
from cohortlab.data.base import Source as DataSource
from cohortlab.data.registry import open_source
from cohortlab.data.source import missing_source
from cohortlab.errors import CohortlabError, InputError, SpecError
from cohortlab.spec.cohorts import match_problems, where_problems
from cohortlab.spec.load import parse_model
from cohortlab.spec.models import Config, Experiment
from cohortlab.spec.problems import Problem
from cohortlab.spec.rules import COHORTS
from cohortlab.spec.yamlio import LoadedYaml, load_yaml
from cohortlab.validate.rules.base import PlacedProblem, Stage, Subject

if TYPE_CHECKING:
    from cohortlab.engine import Analysis
    from cohortlab.validate.findings import Finding

YAML_SUFFIXES = (".yaml", ".yml")
Value = TypeVar("Value")


def shared(compute: Callable[[Any], Value]) -> property:
    """A property several rules read: computed once per file; a crash is kept too, and raised to each reader."""
    name = compute.__name__

    @functools.wraps(compute)
    def read(self) -> Value:
        if name not in self.passes:
            try:
                self.passes[name] = (compute(self), None)
            except Exception as error:  # kept, so that a crash is not computed again for each rule
                self.passes[name] = (None, error)
        value, error = self.passes[name]
        if error is not None:
            raise error
        return value

    return property(read)


def display(path: Path) -> str:
    """A path as the user would write it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def yaml_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.glob("*") if path.suffix in YAML_SUFFIXES and path.is_file()) \
        if folder.is_dir() else []


def load(path: Path) -> tuple[LoadedYaml | None, list[Problem]]:
    """A file's YAML document, or the problem that stops it loading, at its position."""
    name = display(path)
    try:
        return load_yaml(Path(name)), []  # messages and positions name the file as the user does
    except InputError as error:  # unreadable (e.g. not UTF-8): a finding on that file, not the end of the run
        return None, [PlacedProblem(Check.YAML_SYNTAX, error.message, hint=error.hint)]
    except SpecError as error:
        return None, [PlacedProblem(Check(error.code), error.message, hint=error.hint, location=error.location)]


@dataclass(frozen=True)
class Opened:
    """What opening a project's data source found."""

    columns: dict[str, str] | None = None     # the accounts columns and their DuckDB types
    data: DataSource | None = None             # with --check-data: the data, opened and checked
    missing: str | None = None                 # why source.path names nothing there
    unreadable: InputError | None = None       # the source is there but cannot be read (without the data stage)
    broken: CohortlabError | None = None       # it opened but breaks the contract or the table mapping

    @property
    def reason(self) -> str:
        """Why the columns could not be read."""
        failure = self.unreadable or self.broken
        return self.missing or (failure.message if failure else "")


@dataclass
class Project:
    """A config and what its experiments are checked against: the config's model once its rules found no error,
    its data source, and the experiments' names."""

    path: Path
    check_data: bool
    config: Config | None = None
    source: Source | None = None
    findings: list[Finding] = field(default_factory=list)
    reported: bool = False
    experiments: set[Path] = field(default_factory=set)    # every file being checked, resolved
    _names: dict[str, list[Path]] | None = None
    _documents: dict[Path, tuple[LoadedYaml | None, list[Problem]]] = field(default_factory=dict)

    def document(self, path: Path) -> tuple[LoadedYaml | None, list[Problem]]:
        """A file parsed once per run, whether for its name or to check it."""
        key = path.resolve()
        if key not in self._documents:
            self._documents[key] = load(path)
        return self._documents[key]

    @property
    def root(self) -> Path:
        folder = self.path.resolve().parent
        return folder.parent if folder.name == "configs" else folder

    @property
    def opened(self) -> Opened:
        return self.source.opened if self.source is not None else Opened()

    def names(self) -> dict[str, list[Path]]:
        """Experiment name -> files, over the project's experiments folder and the files being checked."""
        if self._names is None:
            self._names = {}
            for path in dict.fromkeys([*(p.resolve() for p in yaml_files(self.root / "experiments")),
                                       *self.experiments]):
                loaded, _ = self.document(path)
                data = loaded.data if loaded is not None else None
                name = data.get("name") if isinstance(data, dict) else None
                if isinstance(name, str):
                    self._names.setdefault(name, []).append(path)
        return self._names


class YamlFile:
    """A config or experiment file: its document, and its model when it fits the schema."""

    subject: ClassVar[Subject]
    model: ClassVar[type[BaseModel]]
    what: ClassVar[str]

    def __init__(self, path: Path, project: Project) -> None:
        self.path, self.project = path, project
        self.display = display(path)
        self.passes: dict[str, tuple[Any, Exception | None]] = {}

    @property
    def loaded(self) -> LoadedYaml | None:
        return self.project.document(self.path)[0]

    @shared
    def parsed(self) -> tuple[BaseModel | None, list[Problem]]:
        """The model and every problem of the first stage: the file does not load, or breaks the schema."""
        loaded, problems = self.project.document(self.path)
        if loaded is None:
            return None, problems
        return parse_model(self.model, loaded, self.what)

    @property
    def schema_problems(self) -> list[Problem]:
        return self.parsed[1]


class ConfigFile(YamlFile):
    subject = Subject.CONFIG
    model = Config
    what = "config"

    @property
    def config(self) -> Config | None:
        return self.parsed[0]

    def reaches(self, stage: Stage) -> bool:
        return stage is Stage.SCHEMA or self.config is not None


class Source:
    """The data source of a project whose config has no error: opened once, for its own rules and the experiments'
    columns and data; its findings stand in the config."""

    subject = Subject.SOURCE

    def __init__(self, project: Project) -> None:
        self.project = project
        self.display = display(project.path)
        self.passes: dict[str, tuple[Any, Exception | None]] = {}

    @property
    def loaded(self) -> LoadedYaml | None:
        return self.project.document(self.project.path)[0]

    @property
    def check_data(self) -> bool:
        return self.project.check_data

    def reaches(self, stage: Stage) -> bool:
        return True

    @shared
    def opened(self) -> Opened:
        """The accounts columns (and with ``check_data`` the data, opened and checked), or why not."""
        config = self.project.config
        missing = missing_source(config)
        if missing is not None:  # nothing can be read
            return Opened(missing=missing)
        columns = None
        try:
            source = open_source(config, schema_only=not self.check_data)
            columns = source.account_columns()
            if not self.check_data:
                return Opened(columns)
            source.check(config.journey, config.as_of)
            return Opened(columns, source)
        except InputError as error:
            return Opened(columns, unreadable=error)
        except CohortlabError as error:
            return Opened(columns, broken=error)


class ExperimentFile(YamlFile):
    subject = Subject.EXPERIMENT
    model = Experiment
    what = "experiment"

    def __init__(self, path: Path, project: Project, today: dt.date) -> None:
        super().__init__(path, project)
        self.today = today

    @property
    def experiment(self) -> Experiment | None:
        return self.parsed[0]

    @property
    def config(self) -> Config | None:
        return self.project.config

    @property
    def data(self) -> DataSource | None:
        return self.project.opened.data

    def reaches(self, stage: Stage) -> bool:
        """Past the schema, an experiment is checked when it parsed and its config has no error; the data stage
        needs --check-data and data that opened."""
        if stage is Stage.SCHEMA:
            return True
        if self.experiment is None or self.config is None:
            return False
        return stage is not Stage.DATA or (self.project.check_data and self.data is not None)

    @property
    def namesakes(self) -> list[str]:
        """The project's other files that hold an experiment of this one's name."""
        named = self.project.names().get(self.experiment.name, [])
        return [display(other) for other in named if other != self.path.resolve()]

    @shared
    def metric_problems(self) -> list[Problem]:
        """Resolving the metrics against the registry and the journey: names, parameters, stages, repeats."""
        from cohortlab.metrics.registry import resolve_metrics

        return resolve_metrics(self.experiment, self.config.journey, self.config.economics)[1]

    @shared
    def column_problems(self) -> list[Problem]:
        """The cohorts' `where` (syntax; with the accounts columns, names and value types), and with the columns,
        the `match` and `breakdown` columns."""
        columns = self.project.opened.columns
        problems = [problem for name in COHORTS
                    for problem in where_problems(name, getattr(self.experiment, name), columns)]
        if columns is not None:
            problems += match_problems(self.experiment, columns)
        return problems

    @shared
    def data_windows(self) -> list[Problem]:
        """The entry windows against the accounts' entry dates and as_of."""
        from cohortlab.validate.data import window_problems

        return window_problems(self.experiment, self.data)

    @shared
    def comparison(self) -> tuple[Analysis | None, CohortlabError | None]:
        """The comparison the data stage checks, or why it failed; neither when an entry window lies outside the
        data (there is nothing to compare)."""
        from cohortlab.validate.data import comparison

        if any(problem.code is Check.WINDOW_OUTSIDE_DATA for problem in self.data_windows):
            return None, None
        try:
            return comparison(self.experiment, self.loaded, self.config, self.data), None
        except CohortlabError as failure:
            return None, failure

    @property
    def analysis(self) -> Analysis | None:
        return self.comparison[0]
