"""The runner: one CV loop for every problem, workflow and submission.

:func:`prepare` builds every plugin from a validated :class:`RunConfig` and
checks the submission in an isolated process (all before any data is read);
:func:`execute` runs the folds as isolated tasks (:mod:`rampconf.isolation`)
on the run's executor (:mod:`rampconf.workers`; ``n_jobs`` at a time, BLAS
threads capped per fold process), checks the predictions it gets back as
plain data, scores train / valid / test, bags the fold predictions and calls
back as each fold ends (the run directory is written as it goes). The runner
holds the labels; a fold process gets only the labels of its training rows.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rampconf.compat import compat_mode
from rampconf.cv import BaseCV
from rampconf.datacheck import check_data, check_scores
from rampconf.errors import ConfigError, DataError, RampconfError, RunInterrupted
from rampconf.plugin import make_plugin
from rampconf.predictions import BasePrediction
from rampconf.readers import BaseReader, Dataset, head_rows
from rampconf.scores import BaseScore
from rampconf.scoring import Bagging, Scoring
from rampconf.submission import Submission
from rampconf.workflows import BaseWorkflow

if TYPE_CHECKING:
    from collections.abc import Callable

    from rampconf.schema import RunConfig
    from rampconf.workers import Executor, Job, Limits

__all__ = ["FoldResult", "Plan", "execute", "fold_seeds", "prepare"]

STEPS = ("train", "valid", "test")


@dataclass
class Plan:
    """Everything a run needs, built and checked before any data is read."""

    config: RunConfig
    data_root: Path
    reader: BaseReader
    prediction: BasePrediction
    scores: list[BaseScore]
    cv: BaseCV
    workflow: BaseWorkflow
    submission: Submission
    executor: Executor
    limits: Limits
    routed: dict[str, dict[str, Any]] = field(default_factory=dict)
    check_job: Job | None = None
    check_key: tuple[Any, ...] | None = None

    @property
    def official(self) -> BaseScore:
        """The official score: the problem's first."""
        return self.scores[0]

    def finish_check(self) -> None:
        """Wait for the submission's check (isolated) and route its parameters.

        Raises
        ------
        ConfigError, SubmissionError
            As the check reported them (unknown parameter, missing file or callable, ...).
        """
        from rampconf.execution import remember_check, routed_parameters

        if self.check_job is None:
            return
        job, self.check_job = self.check_job, None
        while job.outcome is None:
            self.executor.wait([job])
        remember_check(self.check_key, job.outcome)
        self.routed = routed_parameters(self.submission, job.outcome)


@dataclass
class FoldResult:
    """What one fold produced (in its process): checked predictions, times, or the error."""

    fold: int
    seed: int
    train_idx: np.ndarray
    valid_idx: np.ndarray
    status: str = "ok"  # ok, failed, timeout, out_of_memory
    times: dict[str, float] = field(default_factory=dict)
    y_pred_train: np.ndarray | None = None
    y_pred_test: np.ndarray | None = None
    error: list[str] = field(default_factory=list)


def resolve_data_root(data_root: str) -> Path:
    """The data root as an absolute path (relative paths are taken from the current directory)."""
    return Path(data_root).expanduser().resolve()


def prepare(config: RunConfig, wait: bool = True) -> Plan:
    """Build every plugin and check the submission, before any data is read.

    The submission is imported and checked in an isolated process. With
    ``wait=False`` the check runs while the caller goes on (e.g. reads the
    data); :meth:`Plan.finish_check` waits for it.

    Raises
    ------
    ConfigError
        Every unknown plugin name and bad plugin parameter, one line each.
    SubmissionError
        Missing submission folder, file, callable or unknown parameter.
    """
    problem = config.problem
    errors: list[str] = []
    data_root = resolve_data_root(config.data_root)

    def build(kind: str, plugin: str, raw: dict[str, Any], path: str, base: type,
              **context: Any) -> Any:
        try:
            with compat_mode(config.compat):  # parameters left unset take the mode's defaults
                return make_plugin(kind, plugin, raw, path, base, **context)
        except ConfigError as exc:  # once each: a local plugin file's error may come twice
            errors.extend(line for line in exc.lines if line not in errors)
            return None

    reader = build("reader", problem.data.reader, problem.data.plugin_params(),
                   "problem.data", BaseReader, data_root=data_root)
    prediction = build("prediction", problem.prediction.type,
                       problem.prediction.plugin_params(), "problem.prediction", BasePrediction)
    wf_path = "workflow" if config.workflow is not None else "problem.workflow"
    workflow = build("workflow", config.workflow_spec.type, config.workflow_spec.plugin_params(),
                     wf_path, BaseWorkflow)
    # The submission's check starts now, so that the fork server imports the submission's
    # modules while the scores and the CV scheme (scikit-learn's metrics, splitters) are
    # imported here; an error in them is still reported first (the check is then dropped).
    started: tuple[Any, ...] | RampconfError | None = None
    if not errors:
        from rampconf.execution import start_check

        try:
            started = start_check(config, data_root, reader, prediction, workflow)
        except RampconfError as exc:  # reported after the errors of the other plugins
            started = exc
    scores = [
        build("score", spec.type, spec.plugin_params(), f"problem.scores.{key}", BaseScore,
              name=spec.name or key, precision=spec.precision)
        for key, spec in problem.scores.items()
    ]
    cv_path = "cv" if config.cv is not None else "problem.cv"
    cv = build("cv", config.cv_spec.type, config.cv_spec.plugin_params(), cv_path, BaseCV)
    if reader is not None and cv is not None and cv.needs_groups \
            and not getattr(reader.params, "groups", None):
        errors.append(f"{cv_path}.type: {config.cv_spec.type} needs groups; set "
                      "problem.data.groups to the column that holds them, got none")
    if errors:
        raise ConfigError(errors[0], lines=errors)
    if isinstance(started, RampconfError):
        raise started
    assert started is not None
    submission, executor, limits, key, job = started
    plan = Plan(config=config, data_root=data_root, reader=reader, prediction=prediction,
                scores=scores, cv=cv, workflow=workflow, submission=submission,
                executor=executor, limits=limits, check_key=key, check_job=job)
    if wait:
        plan.finish_check()
    return plan


def fold_seeds(seed: int, n_folds: int) -> list[int]:
    """Independent seeds for each fold, derived from the run seed (NumPy SeedSequence)."""
    children = np.random.SeedSequence(seed).spawn(n_folds)
    return [int(child.generate_state(1)[0]) for child in children]


def _blas_threads(n_jobs: int) -> int | None:
    if n_jobs == 1:
        return None
    workers = (os.cpu_count() or 1) if n_jobs < 0 else n_jobs
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def load_data(plan: Plan) -> tuple[Dataset, Dataset]:
    """Read the training and test data once (missing files reported first), and check it.

    Raises
    ------
    DataError
        Missing or unreadable files, or data that the run cannot use (see
        :mod:`rampconf.datacheck`), all before any fold runs.
    """
    try:
        plan.reader.check_files()
    except DataError as exc:
        dataset = plan.config.problem.dataset
        if dataset:
            from rampconf import registry

            helper = registry.get("dataset", dataset)(plan.data_root)
            exc = DataError(f"{exc}; {helper.how_to_get(plan.config.problem.name)}")
        raise exc from None
    train = plan.reader.load("train")
    test = plan.reader.load("test")
    if plan.config.quick:
        train, test = head_rows(train, plan.config.quick_rows), \
            head_rows(test, plan.config.quick_rows)
    if len(train) == 0 or len(test) == 0:
        raise DataError(f"problem.data: the {'training' if len(train) == 0 else 'test'} data "
                        "has no rows")
    check_weights(plan, train, test)
    check_data(plan.reader, plan.prediction, train, test)
    check_scores(dict(zip(plan.config.problem.scores, plan.scores, strict=True)),
                 plan.prediction)
    return train, test


def check_weights(plan: Plan, train: Dataset, test: Dataset) -> None:
    """Scores and a workflow that need per-sample weights get data that has them.

    Raises
    ------
    ConfigError
        A score that needs weights, or a workflow told to fit with them, on data
        without weights.
    DataError
        Weights that are not one finite, non-negative number per sample.
    """
    for split, data in (("training", train), ("test", test)):
        if data.weights is None:
            continue
        weights = np.asarray(data.weights, dtype=float)
        if weights.shape != (len(data),) or not np.isfinite(weights).all() \
                or (weights < 0).any():
            raise DataError(f"problem.data: the {split} data's per-sample weights must be "
                            f"{len(data)} finite numbers >= 0, got shape {weights.shape}")
    if train.weights is not None and test.weights is not None:
        return
    reader = plan.config.problem.data.reader
    needs = [(key, score) for key, score in zip(plan.config.problem.scores, plan.scores,
                                                strict=True) if score.needs_weights]
    if needs:
        key, score = needs[0]
        raise ConfigError(f"problem.scores.{key}: the score {score.name!r} needs per-sample "
                          f"weights, but the reader {reader!r} gives none (use a reader that "
                          "reads them, e.g. weighted_csv with data.weight)")
    if plan.workflow.fits_weights():
        wf_path = "workflow" if plan.config.workflow is not None else "problem.workflow"
        raise ConfigError(f"{wf_path}.sample_weight: true needs per-sample weights, but the "
                          f"reader {reader!r} gives none; set it to false")


def execute(
    plan: Plan,
    train: Dataset,
    test: Dataset,
    on_fold: Callable[[FoldResult, dict[str, dict[str, float]] | None], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    deadline: float | None = None,
    settle: bool = True,
) -> dict[str, Any]:
    """Run every fold, score, bag and (optionally) retrain.

    Parameters
    ----------
    deadline
        ``time.monotonic()`` value when running folds are stopped and the
        others not started (a sweep trial's time limit); None: no limit.
    settle
        False: return before the last fold (and retrain) processes have ended; the caller
        calls ``plan.executor.settle()`` when its own work is done.
    on_fold
        Called in the main process as each fold ends, with its result and
        scores (None for a failed fold), e.g. to write it to disk at once.
    progress
        Called with ``(folds_done, n_folds)``.

    Returns
    -------
    dict
        ``folds`` (FoldResult list), ``fold_scores`` (fold -> step -> score ->
        value), ``bagging_curve``, ``bagged_predictions``, ``retrain``,
        ``seeds``, ``y_train``, ``y_test``, ``undefined`` (the scores recorded as
        NaN because they are undefined: score, reason, where).

    Raises
    ------
    RunInterrupted
        On SIGINT (``KeyboardInterrupt``) or SIGTERM: the running folds are
        stopped; ``partial`` holds what finished (same keys as the result).
    """
    config = plan.config
    plan.prediction.setup(train.y)
    try:
        y_train = plan.prediction.encode_y(train.y)
        y_test = plan.prediction.encode_y(test.y)
    except ValueError as exc:
        raise DataError(f"problem.prediction: {exc}") from None
    scoring = Scoring(plan.scores, y_train, y_test, train.weights, test.weights)
    try:
        folds = list(plan.cv.split(train.X, train.y, train.groups))
    except ValueError as exc:
        raise ConfigError(f"cv: the {config.cv_spec.type} scheme cannot split the training "
                          f"data ({len(train)} rows): {exc}") from None
    seeds = fold_seeds(config.seed, len(folds) + 1)
    from rampconf.execution import fold_result
    from rampconf.isolation import FoldInputs, FoldTask

    plan.finish_check()
    shared = FoldInputs(plan.workflow, plan.submission, plan.routed, plan.prediction,
                        train.X, test.X)
    blas = _blas_threads(config.n_jobs)
    folds = [(np.asarray(tr), np.asarray(va)) for tr, va in folds]
    weights = train.weights if plan.workflow.fits_weights() else None
    tasks = [FoldTask(i, seeds[i], tr, train.y[tr], shared, blas,
                      None if weights is None else weights[tr])
             for i, (tr, _) in enumerate(folds)]
    results: list[FoldResult] = []
    bagging = Bagging(scoring, plan.prediction)  # each ok fold added as it ends
    fold_scores: dict[int, dict[str, dict[str, float]]] = {}
    retrain: dict[str, Any] | None = None
    if progress:
        progress(0, len(tasks))
    try:
        outcomes = plan.executor.run(tasks, config.n_jobs, plan.limits, deadline, settle)
        with contextlib.closing(outcomes):
            for index, outcome in outcomes:
                result = fold_result(plan, FoldResult(index, seeds[index], *folds[index]),
                                     outcome, y_train, y_test)
                scores = None
                if result.status == "ok":
                    assert result.y_pred_train is not None and result.y_pred_test is not None
                    try:
                        scores = scoring.fold(result.fold, result.train_idx, result.valid_idx,
                                              result.y_pred_train, result.y_pred_test)
                    except Exception as exc:  # a score failing on odd predictions: the fold's
                        import traceback

                        result.status = "failed"
                        result.error = [f"scoring fold {result.fold} failed: "
                                        f"{type(exc).__name__}: {exc}", "full traceback:",
                                        *traceback.format_exc().splitlines()]
                if scores is not None:
                    fold_scores[result.fold] = scores
                results.append(result)
                if result.status == "ok":
                    bagging.add(result)
                if on_fold:
                    on_fold(result, scores)
                if progress:
                    progress(len(results), len(tasks))
        if config.retrain:
            every = np.arange(len(train))
            task = FoldTask(-1, seeds[-1], every, train.y, shared, blas, weights)
            for _, outcome in plan.executor.run([task], 1, plan.limits, deadline, settle):
                result = fold_result(plan, FoldResult(-1, seeds[-1], every,
                                                      np.array([], dtype=int)),
                                     outcome, y_train, y_test)
            retrain = {"result": result, "scores": None}
            if result.status == "ok":
                assert result.y_pred_train is not None and result.y_pred_test is not None
                retrain["scores"] = scoring.retrain(result.y_pred_train, result.y_pred_test)
    except KeyboardInterrupt as exc:
        interrupted = exc if isinstance(exc, RunInterrupted) else RunInterrupted()
        # bagged again from the finished folds: the interrupt may have come inside an add
        ok = [r for r in results if r.status == "ok"]
        curve, bagged = scoring.bag(plan.prediction, ok) if ok else ([], {})
        interrupted.partial = {"folds": results, "fold_scores": fold_scores,
                               "bagging_curve": curve, "bagged_predictions": bagged,
                               "retrain": None, "seeds": seeds, "n_folds": len(tasks),
                               "undefined": scoring.undefined_records()}
        raise interrupted from None
    bagging.record_undefined()
    return {"folds": results, "fold_scores": fold_scores, "bagging_curve": bagging.curve,
            "bagged_predictions": bagging.bagged, "retrain": retrain, "seeds": seeds,
            "y_train": y_train, "y_test": y_test, "undefined": scoring.undefined_records()}
