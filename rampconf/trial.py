"""A run that is one trial of a sweep: report each fold to the Optuna study, prune early.

The sweeper (``hydra/sweeper=rampconf``) creates the trial in the study's
storage and launches the job with ``trial={storage: ..., study_name: ...,
number: N, pruner: {...}}``. The job finds its trial through the storage (not
through memory), so this works under any Hydra launcher: basic, joblib,
submitit. After every fold it reports the running mean valid official score
as the intermediate value at step ``n_folds_done``, records the per-fold valid
and test scores as user attributes, and raises :class:`optuna.TrialPruned`
when the study's pruner says so.
"""

from __future__ import annotations

import math
import os
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from rampconf.plugin import StrictModel
from rampconf.trialwrite import write_batch

if TYPE_CHECKING:
    import optuna

__all__ = ["PrunerConfig", "TrialConfig", "TrialReporter", "engine_url", "hold_for_sweeper",
           "load_trial", "make_pruner", "open_storage", "take_held", "trial_override",
           "write_batch"]


class PrunerConfig(StrictModel):
    """Which Optuna pruner stops bad trials after a few folds, and its settings."""

    type: Literal["none", "median", "successive_halving", "hyperband"] = "median"
    n_startup_trials: int = Field(default=5, ge=0)  # median: trials run in full first
    n_warmup_steps: int = Field(default=2, ge=0)  # median: folds a trial always runs
    min_resource: int | Literal["auto"] = "auto"  # halving / hyperband: folds before pruning
    reduction_factor: int = Field(default=3, ge=2)  # halving / hyperband: keep 1 / factor per rung
    max_resource: int | Literal["auto"] = "auto"  # hyperband: number of folds


def make_pruner(spec: PrunerConfig) -> optuna.pruners.BasePruner:
    """The Optuna pruner described by ``spec``."""
    import optuna

    if spec.type == "none":
        return optuna.pruners.NopPruner()
    if spec.type == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=spec.n_startup_trials,
                                           n_warmup_steps=spec.n_warmup_steps)
    if spec.type == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=spec.min_resource,
                                                      reduction_factor=spec.reduction_factor)
    return optuna.pruners.HyperbandPruner(min_resource=1 if spec.min_resource == "auto"
                                          else spec.min_resource,
                                          max_resource=spec.max_resource,
                                          reduction_factor=spec.reduction_factor)


_storages: dict[tuple[int, str], optuna.storages.BaseStorage] = {}
_studies: dict[tuple[Any, ...], optuna.Study] = {}


def engine_url(url: str) -> str:
    """The SQLAlchemy URL of a storage URL: ``postgresql://`` uses psycopg 3 without psycopg2.

    Raises
    ------
    MissingExtraError
        A PostgreSQL URL and neither driver installed (``pip install 'rampconf[postgres]'``).
    """
    import importlib.util

    from rampconf.extras import Extra

    if url.startswith("postgresql://") and importlib.util.find_spec("psycopg2") is None:
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("postgresql+psycopg://"):
        Extra("postgres", ("psycopg",)).check("hydra.sweeper.storage: a PostgreSQL storage")
    return url


def open_storage(url: str) -> optuna.storages.BaseStorage:
    """The Optuna storage of ``url``, as the sweeper and every job of a sweep open it.

    ``journal:///path`` opens a journal file; SQLite connections wait up to
    60 s for a lock (many workers share one file) and write in WAL mode with
    ``synchronous=NORMAL`` (:mod:`rampconf.sqlite_wal`); any other URL is an
    Optuna RDB storage (``postgresql+psycopg://...``, see :func:`engine_url`).
    One storage per URL and process, reused by the sweeper and the trials it
    runs in its own process: a database server sees one connection pool per
    worker, not one per trial.
    """
    import os

    import optuna

    key = (os.getpid(), url)  # a forked child opens its own (connections are not shared)
    if key in _storages:
        return _storages[key]
    storage: optuna.storages.BaseStorage
    if url.startswith("journal://"):
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        storage = JournalStorage(JournalFileBackend(url[len("journal://"):]))
    elif url.startswith("sqlite:///"):
        from rampconf.sqlite_wal import WalConnection

        storage = optuna.storages.RDBStorage(url, engine_kwargs={
            "connect_args": {"timeout": 60, "factory": WalConnection}})
    else:
        storage = optuna.storages.RDBStorage(engine_url(url),
                                             engine_kwargs={"pool_pre_ping": True})
    _storages[key] = storage
    return storage


def _open_study(config: TrialConfig, storage: optuna.storages.BaseStorage) -> optuna.Study:
    """The study of ``config`` with its pruner, opened once per process and reused.

    The trials of a sweep run in its process share one :class:`optuna.Study`,
    so its cache of finished trials is read from the storage once, not by
    every trial (the median pruner reads them all when asked).
    """
    import optuna

    key = (os.getpid(), config.storage, config.study_name, config.pruner.model_dump_json())
    if key not in _studies:
        _studies[key] = optuna.load_study(study_name=config.study_name, storage=storage,
                                          pruner=make_pruner(config.pruner))
    return _studies[key]


def load_trial(study: optuna.Study, storage: optuna.storages.BaseStorage,
               number: int) -> optuna.trial.Trial:
    """Trial ``number`` of ``study`` (opened on ``storage``), to report to or annotate."""
    import optuna

    study_id = storage.get_study_id_from_name(study.study_name)
    return optuna.trial.Trial(study, storage.get_trial_id_from_study_id_trial_number(
        study_id, number))


class TrialConfig(StrictModel):
    """``trial``: set by the sweeper on each job of a sweep; null for a plain run."""

    storage: str  # Optuna storage URL of the study
    study_name: str  # the study
    number: int = Field(ge=0)  # this trial's number in the study
    pruner: PrunerConfig = PrunerConfig()
    timeout: float | None = Field(default=None, gt=0)  # seconds the whole run may take
    # write each fold's scores to the study as it ends; false: only where the pruner can act,
    # the rest when the run ends (what the sweeper asks: fewer storage transactions per trial)
    record_each_fold: bool = True
    # light: the run writes its tables and metadata once and holds its predictions in memory
    # for the sweeper (written for the best trial only); full: a run directory like any run's
    output: Literal["full", "light"] = "full"


def trial_override(storage: str, study_name: str, number: int, pruner: PrunerConfig,
                   timeout: float | None = None, record_each_fold: bool = True,
                   output: str = "full") -> str:
    """The Hydra override that turns a job into trial ``number`` of a study.

    ``timeout`` (seconds) bounds the whole run while it runs: its folds are
    stopped when it is reached, and the trial fails. ``record_each_fold``
    and ``output``: see :class:`TrialConfig`.
    """
    def quote(text: str) -> str:
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

    fields = ", ".join(f"{k}: {quote(v) if isinstance(v, str) else v}"
                       for k, v in pruner.model_dump().items())
    limit = "" if timeout is None else f", timeout: {float(timeout)!r}"
    record = "" if record_each_fold else ", record_each_fold: false"
    light = "" if output == "full" else f", output: {output}"
    return (f"trial={{storage: {quote(storage)}, study_name: {quote(study_name)}, "
            f"number: {number}, pruner: {{{fields}}}{limit}{record}{light}}}")


class TrialReporter:
    """Reports a run's folds to its Optuna trial; raises ``TrialPruned`` when told to.

    By default each fold is recorded as it ends (its running mean as the
    intermediate value, the fold scores as user attributes). With
    ``record_each_fold: false`` (the sweeper's trials) a fold is written only
    where the pruner can act on it: never without a pruner (``type: none``);
    with the median pruner, not before ``n_warmup_steps`` folds, nor while the
    study had fewer than ``n_startup_trials`` complete trials when this trial
    started. The rest is written when the trial is pruned or finishes: the
    same values, fewer storage transactions while it runs. The pruner is
    never asked without a pruner.
    """

    def __init__(self, config: TrialConfig, official: str) -> None:
        storage = open_storage(config.storage)
        study = self.study = _open_study(config, storage)
        # the trial's id only (one small query; none on a journal file): the trial itself
        # (:attr:`trial`) is read only if the pruner is asked
        self.trial_id = storage.get_trial_id_from_study_id_trial_number(
            study._study_id, config.number)
        self.key = (config.storage, config.study_name, config.number)
        self.storage = storage
        self.official = official
        self.valid: dict[int, float] = {}
        self.test: dict[int, float] = {}
        self.running: dict[int, float] = {}  # step -> running mean valid score
        self.written: set[int] = set()  # steps reported to the storage
        self.never_prunes = config.pruner.type == "none"
        self.each_fold = config.record_each_fold
        self.first_prunable = _first_prunable_step(config.pruner, study)

    @cached_property
    def trial(self) -> optuna.trial.Trial:
        """The trial, to report to the pruner (read from the storage on first use)."""
        import optuna

        return optuna.trial.Trial(self.study, self.trial_id)

    def report(self, fold: int, scores: dict[str, dict[str, float]] | None) -> None:
        """Record a finished fold; prune when the running mean valid score is bad."""
        import optuna

        if scores is None:
            return
        self.valid[fold] = scores["valid"][self.official]
        self.test[fold] = scores["test"][self.official]
        step = len(self.valid)
        running = sum(self.valid.values()) / len(self.valid)
        if math.isfinite(running):
            self.running[step] = running
        prunable = self.first_prunable is not None and step >= self.first_prunable
        if self.each_fold and not prunable:
            self._write_values(step)
            self._write_scores()
        if not prunable:
            return  # the pruner cannot act here (recorded above, or with the rest at the end)
        self._write_values(step)
        if self.each_fold:
            self._write_scores()
        if self.trial.should_prune():
            self._write_rest({})
            raise optuna.TrialPruned(
                f"pruned after {len(self.valid)} fold(s): mean valid {self.official} "
                f"{running:.6g}")

    def _write_values(self, *steps: int) -> None:
        """Report the running means of ``steps`` (all not yet written when none is given)."""
        for step in sorted(steps or self.running):
            if step in self.running and step not in self.written:
                self.trial.report(self.running[step], step=step)
                self.written.add(step)

    def _write_scores(self) -> None:
        for key, value in self._scores().items():
            self.trial.set_user_attr(key, value)

    def _scores(self) -> dict[str, Any]:
        return {"fold_valid_scores": {str(k): v for k, v in sorted(self.valid.items())},
                "fold_test_scores": {str(k): v for k, v in sorted(self.test.items())}}

    def _write_rest(self, attrs: dict[str, Any]) -> None:
        """The running means not written yet, the fold scores and ``attrs``: one transaction."""
        values = {step: value for step, value in sorted(self.running.items())
                  if step not in self.written}
        write_batch(self.storage, self.trial_id, values, {**self._scores(), **attrs})
        self.written.update(values)

    def finish(self, summary: dict[str, Any], run_dir: str | None = None,
               held: list[Any] | None = None) -> None:
        """Record the fold scores, the run's mean test score (never used to choose), the folds
        run and the run directory (``job_dir``), in one storage transaction where it can.

        ``held``: the predictions of a light run (:attr:`RunWriter.held`), kept in
        this process for the sweeper (:func:`take_held`).
        """
        if held and _held_for == os.getpid():
            _held[self.key] = held
        attrs: dict[str, Any] = {"n_folds_run": len(self.valid)}
        test = summary["mean"].get("test", {}).get(self.official)
        if test is not None:
            attrs["mean_test_score"] = test
        if run_dir is not None:
            attrs["job_dir"] = run_dir
        self._write_rest(attrs)


_held: dict[tuple[str, str, int], list[Any]] = {}
_held_for: int | None = None  # the process whose sweeper takes held predictions


def hold_for_sweeper() -> None:
    """Light trials run in this process from now on hold their predictions for its sweeper.

    Elsewhere (a launcher's worker process) nothing is held: nobody would take it.
    """
    global _held_for
    _held_for = os.getpid()


def take_held(storage: str, study_name: str, number: int) -> list[Any] | None:
    """The predictions a light trial held (``(path, arrays)`` pairs), once; None: none here.

    A trial run in the sweeper's process (Hydra's basic launcher) leaves them
    here; a trial run elsewhere (joblib, submitit) does not.
    """
    return _held.pop((storage, study_name, number), None)


def _first_prunable_step(spec: PrunerConfig, study: optuna.Study) -> int | None:
    """The first step (folds done) at which the pruner may prune this trial; None: never."""
    if spec.type == "none":
        return None
    if spec.type == "median":
        from optuna.trial import TrialState

        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if len(complete) < spec.n_startup_trials:
            return None
        return max(1, spec.n_warmup_steps)
    return 1
