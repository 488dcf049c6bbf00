"""Seeding: each trial has its own Optuna sampler, seeded from the sweep seed and its number.

Why per trial, not per worker: trial numbers are given by the storage and are
unique in a study, so seeding trial N from ``SeedSequence([seed, N])`` means
no two trials share a sampler seed, whichever worker (process or machine)
asks them, with no worker registry and no lock; and trial N's proposal
depends only on the seed, N and the study's trials when N is asked, so a
sweep of one worker is reproducible (parallel workers see each other's
trials as timing allows). A sampler per worker would need a
unique, reproducible worker number (which the storage does not give), and
its random stream would depend on how many trials that worker happened to
ask.

How, with public Optuna API only: the study gets one sampler,
:class:`TrialSeededSampler`, when it is created or loaded, and keeps it (no
sampler is swapped after ``study.ask()``). Optuna passes the trial to every
sampler call (``before_trial``, ``infer_relative_search_space``,
``sample_relative``, ``sample_independent``, ``after_trial``), so the sampler
routes each call to the trial's own TPE or random sampler, created on the
trial's first call and dropped at its last. ``study.ask(fixed_distributions)``
was not used: it samples with the study's sampler too, so it does not change
which seed a trial gets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import optuna
from optuna.samplers import BaseSampler

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.study import Study
    from optuna.trial import FrozenTrial, TrialState

__all__ = ["SAMPLERS", "TrialSeededSampler", "make_sampler", "trial_seed"]

SAMPLERS = ("tpe", "random")


def trial_seed(seed: int, number: int) -> int:
    """The sampler seed of trial ``number``: NumPy's ``SeedSequence([seed, number])``.

    Trial numbers are unique in a study, so no two trials share a seed,
    whichever worker asks them; nearby numbers give unrelated seeds.
    """
    import numpy as np

    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


def make_sampler(kind: str, seed: int | None, constant_liar: bool = True) -> BaseSampler:
    """Optuna's TPE (``tpe``, with its ``constant_liar``) or random (``random``) sampler
    with ``seed``."""
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, constant_liar=constant_liar)


class TrialSeededSampler(BaseSampler):
    """Samples trial N with a sampler of ``kind`` seeded by :func:`trial_seed` ``(seed, N)``.

    The study's one sampler for a whole sweep. Each call is passed to the
    sampler of the trial it is about; that sampler is made on the trial's
    first call (``before_trial`` when the study asks it) and dropped by
    ``after_trial`` (when the trial is told). ``seed=None``: unseeded.

    Parameters
    ----------
    kind : str
        ``tpe`` or ``random`` (see :func:`make_sampler`).
    seed : int or None
        The sweep seed (``hydra.sweeper.seed``).
    """

    def __init__(self, kind: str, seed: int | None) -> None:
        self.kind = kind
        self.seed = seed
        self.liar = True  # see set_batch
        self._samplers: dict[int, BaseSampler] = {}

    def set_batch(self, size: int, running: int) -> None:
        """The next ``size`` trials are asked while ``running`` trials of the study run.

        TPE's constant liar (counting running trials as bad ones, so that workers
        asking at once spread out) is used unless a single trial is asked with
        none running: it would then see the same trials, and propose the same
        point, after an extra read of the study and an extra write (3.4 ms per
        trial on SQLite, 150 titanic-like trials).
        """
        self.liar = size > 1 or running > 0

    def sampler_of(self, trial: FrozenTrial) -> BaseSampler:
        """The sampler of ``trial`` (made on first use)."""
        sampler = self._samplers.get(trial.number)
        if sampler is None:
            seed = None if self.seed is None else trial_seed(self.seed, trial.number)
            sampler = self._samplers[trial.number] = make_sampler(self.kind, seed, self.liar)
        return sampler

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self.sampler_of(trial).before_trial(study, trial)

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial
                                    ) -> dict[str, BaseDistribution]:
        return self.sampler_of(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study: Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        return self.sampler_of(trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        return self.sampler_of(trial).sample_independent(study, trial, param_name,
                                                         param_distribution)

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        self.sampler_of(trial).after_trial(study, trial, state, values)
        self._samplers.pop(trial.number, None)
