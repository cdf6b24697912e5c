"""`cohortlab validate`: the rules of :mod:`cohortlab.validate.rules` over a project's configs and experiments.

Each file is checked stage by stage: YAML and schema → references → semantics → data
(opt-in); its report stops at the first stage with an error: every problem of that stage at
once, none of the later stages (they would mostly be echoes of it). A config is checked
first, then, when it has no error, the data source it names, then its experiments. A rule
that crashes is one internal error (CL999) naming it, and the other rules run on.

Given file paths, the whole project around them (its config and every experiment) is
loaded for context, e.g. to find duplicate names, but only the files given are reported
on; a config with errors is reported too, since nothing can be checked against it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from cohortlab.codes import Check, Severity
from cohortlab.errors import CohortlabError, InputError
from cohortlab.spec.load import CONFIG_CANDIDATES, find_config, is_config_path
from cohortlab.validate.files import ConfigFile, ExperimentFile, Project, Source, display, yaml_files
from cohortlab.validate.findings import Finding, Result
from cohortlab.validate.rules import INTERNAL, RULES, Rule, Stage


def validate(paths: Sequence[Path] = (), *, config: Path | None = None, check_data: bool = False,
             today: dt.date | None = None) -> Result:
    """Check the given configs and experiments (files or project folders; none: the current folder).

    A config given is checked with every experiment of its project (what it means is what
    they compute), unless ``config`` is given: that chooses the config of the experiments.
    Raises :class:`InputError` for a path that does not exist or an experiment without a project config.
    """
    today = today or dt.date.today()
    targets = list(dict.fromkeys(target for path in (paths or [Path(".")]) for target in _expand(Path(path))))
    projects: dict[Path, Project] = {}

    def project_of(config_path: Path) -> Project:
        key = config_path.resolve()
        if key not in projects:
            projects[key] = _check_project(config_path, check_data)
        return projects[key]

    checks: dict[Path, tuple[Path, Project]] = {}
    for target in targets:
        if is_config_path(target):
            project = project_of(target)
            project.reported = True
            for experiment in yaml_files(project.root / "experiments") if config is None else []:
                checks.setdefault(experiment.resolve(), (experiment, project))
        else:
            checks.setdefault(target.resolve(), (target, project_of(config or find_config(target))))
    for key, (_, project) in checks.items():  # every file being checked, before any name is compared
        project.experiments.add(key)
    findings: list[Finding] = []
    for target, project in checks.values():
        findings += _check(ExperimentFile(target, project, today))
    for project in projects.values():
        if project.reported or _has_error(project.findings):
            findings += project.findings
    files = [display(path) for path in [*(t for t in targets if is_config_path(t)), *(t for t, _ in checks.values())]]
    files += [finding.file for finding in findings]  # a config with errors that was not given
    return Result(tuple(dict.fromkeys(files)), tuple(sorted(set(findings))))


def _check_project(path: Path, check_data: bool) -> Project:
    """A config checked by its rules and, when they find no error, the data source it names.

    Its experiments are checked against it unless it has an error; a source that cannot be
    opened only leaves their columns (CL110) and data unchecked, but a source whose rules
    crashed leaves nothing to check against.
    """
    project = Project(path, check_data)
    config = ConfigFile(path, project)
    project.findings = _check(config)
    if not _has_error(project.findings):
        project.config = config.config
        project.source = Source(project)
        found = _check(project.source)
        project.findings += found
        if any(finding.code is Check.INTERNAL for finding in found):
            project.config = None
    return project


def _check(file: ConfigFile | Source | ExperimentFile) -> list[Finding]:
    """The findings of the rules that look at ``file``, stage by stage, up to the first stage with an error."""
    findings: list[Finding] = []
    crashes: list[Exception] = []
    for stage in Stage:
        if not file.reaches(stage):
            break
        found = [finding for rule in RULES if rule.stage is stage and file.subject in rule.subjects
                 for finding in _guarded(rule, file, crashes)]
        findings += found
        if _has_error(found):
            break
    return findings


def _guarded(rule: Rule, file: ConfigFile | Source | ExperimentFile, crashes: list[Exception]) -> list[Finding]:
    """A rule's findings on ``file``; a rule that crashes is reported as an internal error naming it, not a lost
    run. A crash in a pass that several rules read is reported once, by the first of them (``crashes``)."""
    try:
        return [Finding.of(problem, file.loaded, file.display) for problem in rule.check(file)]
    except CohortlabError:
        raise
    except Exception as error:  # a bug in a rule: say so, and go on with the other rules and files
        if any(error is crash for crash in crashes):
            return []
        crashes.append(error)
        return [Finding.of(INTERNAL.crashed(rule, error, file.display), None, file.display)]


def _has_error(findings: list[Finding]) -> bool:
    return any(finding.severity is Severity.ERROR for finding in findings)


def _expand(path: Path) -> list[Path]:
    """A file as itself; a folder as its project's config and experiments, else the YAML files in it."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError(f"file not found: {path}")
    found = [path / candidate for candidate in CONFIG_CANDIDATES if (path / candidate).is_file()][:1]
    found += yaml_files(path / "experiments")
    found = found or yaml_files(path)
    if not found:
        raise InputError(f"no configs or experiments found in {path}",
                         hint="expected configs/cohortlab.yaml and experiments/*.yaml, or YAML files in the folder")
    return found
