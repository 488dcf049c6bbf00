"""rampconf's hyperparameter sweeper for Hydra: ``-m hydra/sweeper=rampconf``.

Hydra's sweep syntax (``interval``, ``range``, ``choice``, ``tag(log, ...)``,
``a,b,c``) becomes an Optuna search space; each trial is one rampconf run (a
Hydra job) that reports its folds to the study through the storage, so any
launcher works. See docs/guide/sweeps.md.

Hydra imports this module for every Hydra application installed beside it
(plugin discovery), so it only registers the config and a thin class. The
work is in modules whose names start with ``_`` (Hydra's scanner skips them),
imported when a sweep starts, one responsibility each:

- ``_space``: sweep expressions to Optuna distributions, values back to overrides;
- ``_plan``: the settings and a few points of the space checked before anything runs;
- ``_storage``: the storage URL, the study, the ask lock, stale trials;
- ``_sampling``: one sampler per trial, seeded from the sweep seed and the trial number;
- ``_outcomes``: job outcomes and the failure budget;
- ``_results``: ``trials.csv``, ``best_params.yaml`` and the printed summary;
- ``_sweep``: the ask / launch / tell loop.

No ``from __future__ import annotations`` here: Hydra's scanner runs this
module before it is in ``sys.modules``, where string annotations break
dataclasses.
"""

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig

__all__ = ["PrunerConf", "RampconfSweeper", "RampconfSweeperConf"]


@dataclass
class PrunerConf:
    """``hydra.sweeper.pruner``: stops bad trials early (as ``rampconf.trial.PrunerConfig``)."""

    type: str = "median"  # none | median | successive_halving | hyperband
    n_startup_trials: int = 5  # median: trials run in full before pruning starts
    n_warmup_steps: int = 2  # median: folds a trial always runs
    min_resource: Any = "auto"  # halving / hyperband: folds before pruning ("auto" or a number)
    reduction_factor: int = 3  # halving / hyperband: keep 1 / factor per rung
    max_resource: Any = "auto"  # hyperband: number of folds ("auto" or a number)


@dataclass
class RampconfSweeperConf:
    """``hydra.sweeper`` when ``hydra/sweeper=rampconf``."""

    _target_: str = "hydra_plugins.rampconf_sweeper.RampconfSweeper"
    n_trials: int = 20  # trials in the study in all (resuming and other workers included)
    n_jobs: int = 1  # trials asked and launched together (a batch); parallel with joblib/submitit
    sampler: str = "tpe"  # tpe | random
    seed: int | None = 0  # trial N's sampler is seeded from (seed, N); null: unseeded
    storage: str | None = None  # Optuna storage URL; null: sqlite:///<sweep dir>/optuna.db
    study_name: str | None = None  # null: <problem>-<submission>
    pruner: PrunerConf = field(default_factory=PrunerConf)
    max_failures: int | None = None  # stop when more trials than this failed; null: no limit
    max_failure_rate: float = 0.5  # stop when more than this share failed (from 5 trials on)
    timeout: float | None = None  # seconds for the whole sweep; running trials stop then too
    trial_timeout: float | None = None  # seconds one trial may run (its folds are stopped)
    n_best: int = 5  # rows of the table of best trials printed at the end
    # light: each trial's directory holds its config, scores and metadata (rerunnable), no
    # predictions, pictures or .hydra/; the best trial's predictions are written at the end.
    # full: every trial's directory as a single run's
    trial_output: str = "light"
    # the search space: override key -> sweep expression (the command line wins)
    params: dict[str, Any] | None = None


class RampconfSweeper(Sweeper):
    """Optuna ask-and-tell over Hydra jobs; see :mod:`hydra_plugins.rampconf_sweeper._sweep`.

    A :class:`~rampconf.errors.RampconfError` of the sweep leaves as
    :class:`~rampconf.errors.ErrorExit`, which passes Hydra's own error
    reporting (a traceback, exit 1) so that the command line prints it in one
    line per problem with its exit code.
    """

    def __init__(self, **settings: Any) -> None:
        from ._sweep import RampconfSweeperImpl

        self.impl = RampconfSweeperImpl(**settings)

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        self.impl.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        from rampconf.errors import ErrorExit, RampconfError

        try:
            return self.impl.sweep(arguments)
        except RampconfError as exc:
            raise ErrorExit(exc) from exc


ConfigStore.instance().store(group="hydra/sweeper", name="rampconf", node=RampconfSweeperConf,
                             provider="rampconf")
