"""`compare`: from an experiment file to a Report — the engine's Analysis (:func:`cohortlab.engine.analyze`)
arranged as the report its renderers draw."""

from __future__ import annotations

from pathlib import Path

from cohortlab.data.base import Source
from cohortlab.data.source import reserved_name, source_files
from cohortlab.engine import Analysis, Overrides, Progress, analyze
from cohortlab.outputs import refuse_inputs
from cohortlab.report.model import ExperimentInfo, Report
from cohortlab.spec.load import find_config, load_config, load_experiment
from cohortlab.spec.models import Config, Experiment
from cohortlab.spec.yamlio import LoadedYaml


def compare(path: str | Path, config: str | Path | None = None, *, replicates: int | None = None,
            seed: int | None = None, ci: str | None = None, interval: str | None = None,
            breakdown: list[str] | None = None, progress: Progress | None = None) -> Report:
    """Compare an experiment's treatment cohort with its matched baseline.

    Parameters
    ----------
    path
        The experiment YAML file.
    config
        The project config; by default ``configs/cohortlab.yaml`` in the experiment's folder or a parent.
    replicates, seed, ci, interval
        Override the config's inference defaults.
    breakdown
        Accounts columns to break every metric down by, instead of the experiment's ``breakdown``.
    progress
        Called with (stage, None, None) as each stage starts (loading data, selecting cohorts, matching, bootstrap
        replicates, a breakdown segment's own replicates) and with (stage, replicates done, replicates) as the
        bootstrap runs.
    """
    experiment, loaded = load_experiment(Path(path))
    config_model, _ = load_config(Path(config) if config else find_config(Path(path)))
    overrides = Overrides(replicates, seed, ci, interval, None if breakdown is None else tuple(breakdown))
    return run(experiment, config_model, loaded, overrides, progress)


def refuse_inputs_as_outputs(outputs: dict[str, Path], experiments: list[Path],
                             config: str | Path | None = None) -> None:
    """Raise :class:`InputError` when an output of comparing ``experiments`` would land on what the comparison
    reads (an experiment, its config, the source's data files, a name the data folder keeps for a table) or
    on another output of the run (:func:`cohortlab.outputs.refuse_inputs`)."""
    inputs, configs = [], []
    for path in experiments:
        config_path = Path(config) if config else find_config(Path(path))
        config_model, _ = load_config(config_path)
        configs.append(config_model)
        inputs += [("the experiment being compared", Path(path)), ("the project config", config_path),
                   *source_files(config_model)]
    refuse_inputs(outputs, inputs, lambda target: next(
        (what for model in configs if (what := reserved_name(model, target))), None))


def run(experiment: Experiment, config: Config, loaded: LoadedYaml | None = None,
        overrides: Overrides = Overrides(), progress: Progress | None = None,
        source: Source | None = None) -> Report:
    """Build the report for already-loaded models; ``source``, when given, is the config's source already
    opened and checked (several experiments of one project share it)."""
    return report_of(analyze(experiment, config, source, loaded=loaded, overrides=overrides, progress=progress))


def report_of(analysis: Analysis) -> Report:
    """The report of an analysis."""
    experiment = analysis.experiment
    return Report(
        experiment=ExperimentInfo(experiment.name, experiment.title, str(experiment.file), experiment.owner,
                                  experiment.hypothesis, experiment.primary, dict(experiment.mde)),
        as_of=analysis.as_of, as_of_basis=analysis.as_of_basis, settings=analysis.settings,
        cohorts=analysis.cohorts, matching=analysis.matching, results=analysis.results, funnel=analysis.funnel,
        warnings=analysis.warnings, accounts=analysis.accounts, curve_tables=analysis.curves,
        account_inputs=analysis.account_inputs,
    )
