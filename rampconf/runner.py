"""The runner: one CV loop for every problem, workflow and submission.

:func:`prepare` builds every plugin from a validated :class:`RunConfig` and
checks the submission (all before any data is read); :func:`execute` loads
the data once, runs the folds (in parallel with joblib when ``n_jobs != 1``,
BLAS threads capped per worker), scores train / valid / test, bags the fold
predictions and writes the run directory as it goes.
"""

from __future__ import annotations

import os
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rampconf.compat import compat_mode
from rampconf.cv import BaseCV
from rampconf.datacheck import check_data, check_scores
from rampconf.errors import ConfigError, DataError
from rampconf.plugin import make_plugin
from rampconf.predictions import BasePrediction
from rampconf.readers import BaseReader, Dataset, head_rows, take_rows
from rampconf.scores import BaseScore
from rampconf.scoring import Scoring
from rampconf.submission import Submission, find_submission, submission_traceback
from rampconf.workflows import BaseWorkflow

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from rampconf.schema import RunConfig

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
    routed: dict[str, dict[str, Any]]

    @property
    def official(self) -> BaseScore:
        """The official score: the problem's first."""
        return self.scores[0]


@dataclass
class FoldResult:
    """What one fold produced (in a worker): predictions, times, or the error."""

    fold: int
    seed: int
    train_idx: np.ndarray
    valid_idx: np.ndarray
    status: str = "ok"
    times: dict[str, float] = field(default_factory=dict)
    y_pred_train: np.ndarray | None = None
    y_pred_test: np.ndarray | None = None
    error: list[str] = field(default_factory=list)


def resolve_data_root(data_root: str) -> Path:
    """The data root as an absolute path (relative paths are taken from the current directory)."""
    return Path(data_root).expanduser().resolve()


def prepare(config: RunConfig) -> Plan:
    """Build every plugin and check the submission, before any data is read.

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
    scores = [
        build("score", spec.type, spec.plugin_params(), f"problem.scores.{key}", BaseScore,
              name=spec.name or key, precision=spec.precision)
        for key, spec in problem.scores.items()
    ]
    cv_path = "cv" if config.cv is not None else "problem.cv"
    cv = build("cv", config.cv_spec.type, config.cv_spec.plugin_params(), cv_path, BaseCV)
    wf_path = "workflow" if config.workflow is not None else "problem.workflow"
    workflow = build("workflow", config.workflow_spec.type, config.workflow_spec.plugin_params(),
                     wf_path, BaseWorkflow)
    if reader is not None and cv is not None and cv.needs_groups \
            and not getattr(reader.params, "groups", None):
        errors.append(f"{cv_path}.type: {config.cv_spec.type} needs groups; set "
                      "problem.data.groups to the column that holds them, got none")
    if errors:
        raise ConfigError(errors[0], lines=errors)

    folder = find_submission(problem.submissions_folder, config.submission.name,
                             config.submission.path, workflow.elements)
    submission = Submission(name=config.submission.name, path=folder,
                            params=dict(config.submission.params),
                            extra_files=reader.extra_files())
    routed = workflow.check_submission(submission)
    return Plan(config=config, data_root=data_root, reader=reader, prediction=prediction,
                scores=scores, cv=cv, workflow=workflow, submission=submission, routed=routed)


def fold_seeds(seed: int, n_folds: int) -> list[int]:
    """Independent seeds for each fold, derived from the run seed (NumPy SeedSequence)."""
    children = np.random.SeedSequence(seed).spawn(n_folds)
    return [int(child.generate_state(1)[0]) for child in children]


@dataclass
class _FoldTask:
    """The picklable inputs of one fold."""

    fold: int
    seed: int
    train_idx: np.ndarray
    valid_idx: np.ndarray
    blas_threads: int | None


def _predicting_file(plan: Plan) -> Path:
    return plan.submission.file(list(plan.workflow.elements)[-1])


def _checked(plan: Plan, y_pred: Any, y_true: np.ndarray, what: str) -> np.ndarray:
    try:
        return plan.prediction.check_y_pred(y_pred, y_true)
    except ValueError as exc:
        raise _PredictionError(f"{_predicting_file(plan)}: {what}: {exc}") from None


class _PredictionError(Exception):
    """A prediction of the wrong shape or with NaN (reported without our traceback)."""


@contextmanager
def _global_seeds(seed: int) -> Iterator[None]:
    """Seed the global ``random`` and ``np.random`` for one fold; restore them afterwards.

    Submissions without a random_state still get reproducible folds, and the
    caller's process (a notebook, when ``n_jobs=1``) keeps its own random states.
    """
    saved_numpy, saved_random = np.random.get_state(), random.getstate()
    np.random.seed(seed % 2**32)
    random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(saved_numpy)
        random.setstate(saved_random)


def run_fold(plan: Plan, train: Dataset, test: Dataset, y_train: np.ndarray,
             y_test: np.ndarray, task: _FoldTask) -> FoldResult:
    """Train on the fold's training rows, predict the whole training set and the test set."""
    from threadpoolctl import threadpool_limits

    result = FoldResult(fold=task.fold, seed=task.seed, train_idx=task.train_idx,
                        valid_idx=task.valid_idx)
    with _global_seeds(task.seed), threadpool_limits(limits=task.blas_threads):
        try:
            start = time.perf_counter()
            weights = {} if train.weights is None or not plan.workflow.fits_weights() else \
                {"sample_weight": train.weights[task.train_idx]}
            model = plan.workflow.train(plan.submission, plan.routed,
                                        take_rows(train.X, task.train_idx),
                                        train.y[task.train_idx], plan.prediction, **weights)
            result.times["train"] = time.perf_counter() - start
            start = time.perf_counter()
            y_pred = plan.workflow.predict(model, train.X, plan.prediction)
            result.y_pred_train = _checked(plan, y_pred, y_train,
                                           f"fold {task.fold}, predictions on the training data")
            result.times["valid"] = time.perf_counter() - start
            start = time.perf_counter()
            y_pred = plan.workflow.predict(model, test.X, plan.prediction)
            result.y_pred_test = _checked(plan, y_pred, y_test,
                                          f"fold {task.fold}, predictions on the test data")
            result.times["test"] = time.perf_counter() - start
        except _PredictionError as exc:
            result.status = "failed"
            result.error = [str(exc)]
        except Exception as exc:
            result.status = "failed"
            result.error = submission_traceback(exc, plan.submission.path)
    return result


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
) -> dict[str, Any]:
    """Run every fold, score, bag and (optionally) retrain.

    Parameters
    ----------
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
    tasks = [_FoldTask(i, seeds[i], np.asarray(tr), np.asarray(va), _blas_threads(config.n_jobs))
             for i, (tr, va) in enumerate(folds)]
    results: list[FoldResult] = []
    fold_scores: dict[int, dict[str, dict[str, float]]] = {}
    if progress:
        progress(0, len(tasks))
    if config.n_jobs == 1:
        finished = (run_fold(plan, train, test, y_train, y_test, task) for task in tasks)
    else:
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=config.n_jobs, return_as="generator")
        finished = parallel(delayed(run_fold)(plan, train, test, y_train, y_test, task)
                            for task in tasks)
    for result in finished:
        scores = None
        if result.status == "ok":
            assert result.y_pred_train is not None and result.y_pred_test is not None
            try:
                scores = scoring.fold(result.fold, result.train_idx, result.valid_idx,
                                      result.y_pred_train, result.y_pred_test)
            except Exception as exc:  # a score failing on odd predictions is the fold's error
                import traceback

                result.status = "failed"
                result.error = [f"scoring fold {result.fold} failed: {type(exc).__name__}: {exc}",
                                "full traceback:", *traceback.format_exc().splitlines()]
        if scores is not None:
            fold_scores[result.fold] = scores
        results.append(result)
        if on_fold:
            on_fold(result, scores)
        if progress:
            progress(len(results), len(tasks))
    ok = [r for r in results if r.status == "ok"]
    curve, bagged = scoring.bag(plan.prediction, ok) if ok else ([], {})
    retrain: dict[str, Any] | None = None
    if config.retrain:
        every = np.arange(len(train))
        task = _FoldTask(-1, seeds[-1], every, np.array([], dtype=int),
                         _blas_threads(config.n_jobs))
        result = run_fold(plan, train, test, y_train, y_test, task)
        retrain = {"result": result, "scores": None}
        if result.status == "ok":
            assert result.y_pred_train is not None and result.y_pred_test is not None
            retrain["scores"] = scoring.retrain(result.y_pred_train, result.y_pred_test)
    return {"folds": results, "fold_scores": fold_scores, "bagging_curve": curve,
            "bagged_predictions": bagged, "retrain": retrain, "seeds": seeds,
            "y_train": y_train, "y_test": y_test, "undefined": scoring.undefined_records()}
