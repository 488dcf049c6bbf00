"""The sweep loop: ask a batch of trials, launch them as Hydra jobs, tell their outcomes.

1. :func:`~._plan.make_plan` checks everything first (nothing is created on error).
2. The study is created or loaded (:func:`~._storage.open_study`), with its
   one sampler, :class:`~._sampling.TrialSeededSampler`.
3. Batches of ``n_jobs`` trials: count the study's trials (every worker's)
   and ask at most ``n_trials - count``, under the storage's ask lock; launch
   the jobs with ``trial={storage, study_name, number, pruner}`` so that each
   run reports its folds to its trial (and is pruned) through the storage;
   tell each trial COMPLETE, PRUNED or FAIL (with the error); rewrite
   ``trials.csv`` and ``best_params.yaml`` (at most every
   ``RESULTS_EVERY`` seconds, and when the sweep ends or stops: the study
   holds every trial meanwhile); check the failure budget. Each
   trial's run is bounded while it runs by ``trial_timeout`` and by what is
   left of the sweep's ``timeout`` (its folds are stopped, the trial fails).
4. A table of the best trials, the best parameters and the command that
   reruns the best one.

Errors are raised, never turned into an exit here: a
:class:`~rampconf.errors.ConfigError` from the checks, a
:class:`~rampconf.errors.SweepError` when the failure budget runs out or no
trial completed, :class:`~rampconf.errors.SweepInterrupted` on Ctrl-C (its
trials recorded first). The command line chooses the exit code.
"""

from __future__ import annotations

import contextlib
import gc
import os
import socket
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from rampconf.errors import SweepError, SweepInterrupted

from ._outcomes import FailureBudget, job_outcome, lean_return
from ._plan import SweepPlan, make_plan
from ._results import print_summary, print_trial, write_results
from ._sampling import TrialSeededSampler
from ._space import sample
from ._storage import fail_stale_and_count, open_study, storage_lock

if TYPE_CHECKING:
    import optuna
    from hydra.core.utils import JobReturn
    from hydra.plugins.launcher import Launcher
    from hydra.types import HydraContext, TaskFunction

__all__ = ["RampconfSweeperImpl"]

Batch = list[tuple["optuna.trial.Trial", list[str]]]  # asked trials and their job overrides

#: Seconds between two rewrites of ``trials.csv`` during a sweep (each reads every trial).
RESULTS_EVERY = 5.0


class RampconfSweeperImpl:
    """The sweeper's work (``hydra_plugins.rampconf_sweeper.RampconfSweeper`` delegates here).

    Parameters are the ``hydra.sweeper.*`` settings (see ``RampconfSweeperConf``),
    checked when the sweep starts.
    """

    def __init__(
        self,
        n_trials: Any = 20,
        n_jobs: Any = 1,
        sampler: Any = "tpe",
        seed: Any = 0,
        storage: Any = None,
        study_name: Any = None,
        pruner: Any = None,
        max_failures: Any = None,
        max_failure_rate: Any = 0.5,
        timeout: Any = None,
        trial_timeout: Any = None,
        n_best: Any = 5,
        params: Any = None,
        trial_output: Any = "light",
    ) -> None:
        self.settings: dict[str, Any] = {
            "n_trials": n_trials, "n_jobs": n_jobs, "sampler": sampler, "seed": seed,
            "storage": storage, "study_name": study_name, "max_failures": max_failures,
            "max_failure_rate": max_failure_rate, "timeout": timeout,
            "trial_timeout": trial_timeout, "n_best": n_best, "trial_output": trial_output,
            "pruner": OmegaConf.to_container(pruner) if isinstance(pruner, DictConfig)
            else dict(pruner or {}),
            "params": OmegaConf.to_container(params) if isinstance(params, DictConfig)
            else params,
        }
        self.hydra_context: HydraContext | None = None
        self.config: DictConfig | None = None
        self.launcher: Launcher | None = None
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.best_held: tuple[float, list[Any]] | None = None  # light: the best's predictions

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        """Keep Hydra's context and config; make the launcher that runs the jobs."""
        from hydra.core.plugins import Plugins
        from hydra.types import HydraContext

        from ._compose import ReusingConfigLoader
        from ._job import TrialLauncher, is_basic_launcher

        # the checks of the plan and the launcher compose each job's config from one
        # shared composition
        self.hydra_context = HydraContext(
            config_loader=ReusingConfigLoader(  # type: ignore[arg-type]
                hydra_context.config_loader, light=self.settings["trial_output"] == "light"),
            callbacks=hydra_context.callbacks)
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=self.hydra_context, task_function=task_function, config=config)
        if is_basic_launcher(self.launcher):  # the same jobs with fewer config copies
            self.launcher = TrialLauncher()
            self.launcher.setup(hydra_context=self.hydra_context, task_function=task_function,
                                config=config)

    def sweep(self, arguments: list[str]) -> list[Sequence[JobReturn]]:
        """Run the sweep; the job returns of every batch, lean (:func:`~._outcomes.lean_return`).

        Raises
        ------
        RampconfError
            A configuration error found before anything was created (ConfigError,
            DataError, ...), or the sweep ended without a result (SweepError).
        SweepInterrupted
            Ctrl-C: the running trials were recorded as FAIL (interrupted).
        """
        assert self.hydra_context is not None and self.config is not None
        # The checks and the study import scikit-learn, pandas and Optuna: without collections
        # (their full ones walked every object imported, ~0.2 s of the sweep's start). What is
        # loaded by then (Hydra, Optuna, the plugins, scikit-learn) lives as long as the
        # sweep: frozen, out of the full collections, which walked it all between trials
        # (~0.1 s each); the trials' own objects are collected as usual.
        gc.disable()
        try:
            plan = make_plan(self.settings, self.hydra_context, self.config, arguments)
            plan.sweep_dir.mkdir(parents=True, exist_ok=True)
            sampler = TrialSeededSampler(self.settings["sampler"], self.settings["seed"])
            study, storage = open_study(plan, sampler)
            gc.freeze()
        finally:
            gc.enable()  # also when the command took it for a single run (rampconf.cli.main)
        if self.settings["trial_output"] == "light":
            from rampconf.trial import hold_for_sweeper

            hold_for_sweeper()  # trials run here keep their predictions for _keep_if_best
        return self._run(plan, study, storage, sampler)

    def _launch(self, batch: Batch) -> list[JobReturn]:
        """Launch a batch; job number = trial number (consecutive runs launched together)."""
        assert self.launcher is not None
        groups: list[Batch] = []
        for item in batch:
            if groups and item[0].number == groups[-1][-1][0].number + 1:
                groups[-1].append(item)
            else:
                groups.append([item])
        returns: list[JobReturn] = []
        for group in groups:
            returns.extend(self.launcher.launch([overrides for _, overrides in group],
                                                initial_job_idx=group[0][0].number))
        return returns

    def _ask(self, study: optuna.Study, plan: SweepPlan, size: int,
             time_left: float | None) -> Batch:
        from rampconf.trial import trial_override

        limits = [t for t in (self.settings["trial_timeout"], time_left) if t is not None]
        timeout = min(limits) if limits else None
        batch = []
        for _ in range(size):
            trial = study.ask()
            values = {p.name: sample(trial, p) for p in plan.space.params}
            trial.set_user_attr("worker", self.worker)
            overrides = [*plan.space.overrides(values),
                         trial_override(plan.storage, plan.study_name, trial.number,
                                        plan.pruner, timeout, record_each_fold=False,
                                        output=self.settings["trial_output"])]
            batch.append((trial, overrides))
        return batch

    def _keep_if_best(self, plan: SweepPlan, number: int, state: str,
                      value: float | None) -> None:
        """Light output: keep the predictions a trial held if it is the best so far."""
        from rampconf.trial import take_held

        held = take_held(plan.storage, plan.study_name, number)
        if held is None or state != "COMPLETE" or value is None:
            return
        sign = 1.0 if plan.direction == "maximize" else -1.0
        if self.best_held is None or sign * value > sign * self.best_held[0]:
            self.best_held = (value, held)

    def _write_best_predictions(self, console: Any) -> None:
        """Light output: write the predictions of the best trial run here into its directory."""
        from rampconf.outputs import write_held

        if self.best_held is None:
            return
        held, self.best_held = self.best_held[1], None
        write_held(held)
        console.print(f"predictions of the best trial of this sweep: {held[0][0].parent}",
                      highlight=False, soft_wrap=True, markup=False)

    def _interrupted(self, study: optuna.Study, plan: SweepPlan, batch: Batch,
                     exc: BaseException) -> None:
        """Record the trials of a batch that did not finish as FAIL (interrupted, not counted)."""
        from optuna.trial import TrialState

        name = type(exc).__name__
        if isinstance(exc, KeyboardInterrupt):  # Ctrl-C, or SIGTERM stopping a run
            name = "KeyboardInterrupt" if getattr(exc, "signal", 2) == 2 else \
                f"signal {getattr(exc, 'signal', '')}"
        for trial, _ in batch:
            with contextlib.suppress(Exception):
                trial.set_user_attr("error", f"interrupted: {name}")
                trial.set_user_attr("interrupted", True)
                study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
        write_results(study, plan)
        with contextlib.suppress(OSError):
            from rampconf.report import make_console

            self._write_best_predictions(make_console())

    def _run(self, plan: SweepPlan, study: optuna.Study, storage: optuna.storages.BaseStorage,
             sampler: TrialSeededSampler) -> list[Sequence[JobReturn]]:
        from optuna.trial import TrialState

        from rampconf.report import make_console

        assert self.config is not None
        console = make_console()
        OmegaConf.save(self.config, plan.sweep_dir / "multirun.yaml")
        n_trials = self.settings["n_trials"]
        budget = FailureBudget(self.settings["max_failures"], self.settings["max_failure_rate"])
        with storage_lock(plan.storage, plan.study_name):
            there, _ = fail_stale_and_count(study, storage)
        console.print(
            f"sweep: study [bold]{plan.study_name}[/bold] in {plan.storage}: "
            f"{'maximise' if plan.direction == 'maximize' else 'minimise'} the mean valid "
            f"{plan.official}; {there} of {n_trials} trials already there",
            highlight=False)
        all_returns: list[Sequence[JobReturn]] = []
        stop_message = None
        timeout, start = self.settings["timeout"], time.monotonic()
        written = start
        while stop_message is None:
            if timeout is not None and time.monotonic() - start >= timeout:
                console.print(f"hydra.sweeper.timeout={timeout:g} s reached: no new trial",
                              highlight=False)
                break
            with storage_lock(plan.storage, plan.study_name):
                there, running = fail_stale_and_count(study, storage)
                size = min(self.settings["n_jobs"], n_trials - there)
                if size <= 0:
                    if not all_returns:
                        console.print(f"the study has its {n_trials} trials: nothing to run "
                                      "(raise hydra.sweeper.n_trials to run more)",
                                      highlight=False)
                    break
                time_left = None if timeout is None else timeout - (time.monotonic() - start)
                sampler.set_batch(size, running)
                batch = self._ask(study, plan, size, time_left)
            try:
                returns = self._launch(batch)
            except KeyboardInterrupt as exc:
                self._interrupted(study, plan, batch, exc)
                numbers = ", ".join(str(t.number) for t, _ in batch)
                stop = SweepInterrupted(
                    f"trial(s) {numbers} recorded as FAIL (interrupted, not counted in "
                    "n_trials); run the same command to resume")
                stop.exit_code = 128 + getattr(exc, "signal", 2)  # SIGTERM: 143, as a run
                raise stop from exc
            except BaseException as exc:
                self._interrupted(study, plan, batch, exc)
                raise
            for (trial, _), ret in zip(batch, returns, strict=True):
                state, value, error = job_outcome(ret)
                if error is not None:
                    trial.set_user_attr("error", error)
                if ret.hydra_cfg is not None and state != "COMPLETE":  # a complete run wrote it
                    with contextlib.suppress(Exception):
                        trial.set_user_attr("job_dir",
                                            str(ret.hydra_cfg.hydra.runtime.output_dir))
                study.tell(trial, values=value, state=TrialState[state], skip_if_finished=True)
                self._keep_if_best(plan, trial.number, state, value)
                budget.record(state, error, trial.number)
                print_trial(console, plan, trial, state, value, error)
            all_returns.append([lean_return(ret) for ret in returns])
            if time.monotonic() - written >= RESULTS_EVERY:
                write_results(study, plan)
                written = time.monotonic()
            stop_message = budget.exceeded()
        write_results(study, plan)
        self._write_best_predictions(console)
        print_summary(console, study, plan, self.settings["n_best"])
        if stop_message is not None:
            raise SweepError(stop_message)
        if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            raise SweepError(f"no trial of the study {plan.study_name!r} completed "
                             f"(errors in {plan.sweep_dir / 'trials.csv'})")
        return all_returns
