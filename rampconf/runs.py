"""Run directories as the database: find runs and sweep trials, tell which are comparable.

Everything here reads what a run wrote (``summary.json``, ``folds.csv``,
``config.yaml``, ``metadata.json``, ``predictions/``); nothing is retrained.
Two runs are *comparable* (ranked together, their fold scores paired) when
they are of the same problem, with the same official score, on the same data
files and on the same folds: every fold's training and valid rows
(``folds.csv``'s ``indices_sha256``; for runs written before that column
existed, computed from their saved fold predictions).

>>> from rampconf.runs import find_runs
>>> runs = find_runs(["outputs", "multirun"])  # doctest: +SKIP
>>> [run.label for run in runs]  # doctest: +SKIP
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rampconf.errors import ConfigError, DataError
from rampconf.outputs import RunResult, fold_indices_sha256, load_run

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rampconf.predictions import BasePrediction
    from rampconf.readers import Dataset
    from rampconf.schema import RunConfig
    from rampconf.scores import BaseScore

__all__ = ["ProblemData", "RunInfo", "SavedFold", "as_run", "find_runs", "load_fold_predictions",
           "load_problem_data", "load_saved"]


@dataclass
class SavedFold:
    """A successful fold read back: its rows and predictions (what the runner's fold result holds).

    ``y_pred_train`` predicts the whole training set, ``y_pred_test`` the test set.
    """

    fold: int
    seed: int
    train_idx: np.ndarray
    valid_idx: np.ndarray
    y_pred_train: np.ndarray
    y_pred_test: np.ndarray
    times: dict[str, float] = field(default_factory=dict)
    status: str = "ok"
    error: list[str] = field(default_factory=list)


@dataclass
class RunInfo:
    """One run directory read back: its results, metadata and place (a sweep's trial or not).

    Attributes
    ----------
    result : RunResult
        Summary, tidy scores, folds and configuration (:func:`rampconf.load_run`).
    metadata : dict
        ``metadata.json`` (overrides, times, versions, data file hashes).
    sweep_dir : pathlib.Path or None
        The sweep directory when the run is a trial of a sweep.
    """

    result: RunResult
    metadata: dict[str, Any] = field(default_factory=dict)
    sweep_dir: Path | None = None

    @property
    def run_dir(self) -> Path:
        """Where the run was written."""
        assert self.result.run_dir is not None
        return self.result.run_dir

    @property
    def summary(self) -> dict[str, Any]:
        return self.result.summary

    @property
    def config(self) -> dict[str, Any]:
        return self.result.config

    @property
    def problem(self) -> str:
        return str(self.summary.get("problem") or self.config.get("problem", {}).get("name"))

    @property
    def submission(self) -> str:
        return str(self.summary.get("submission") or self.config.get("submission", {}).get("name"))

    @property
    def status(self) -> str:
        """``ok``, ``failed``, ``interrupted`` or ``pruned`` (a sweep's trial stopped early)."""
        return str(self.summary.get("status", "unknown"))

    @property
    def official_score(self) -> str:
        return str(self.summary["official_score"])

    @property
    def started(self) -> str:
        """Start time (ISO 8601, UTC) from ``metadata.json``; empty when unknown."""
        return str(self.metadata.get("started", ""))

    @property
    def trial(self) -> int | None:
        """The trial number of a sweep's run (its folder name), else None."""
        if self.sweep_dir is None:
            return None
        trial = self.config.get("trial") or {}
        number = trial.get("number") if isinstance(trial, dict) else None
        if number is None and self.run_dir.name.isdigit():
            number = int(self.run_dir.name)
        return None if number is None else int(number)

    @property
    def label(self) -> str:
        """How tables name the run: the submission, with its sweep trial or its origin."""
        if "blend" in self.metadata:
            return f"blend of {len(self.metadata['blend']['members'])} runs"
        label = self.submission
        if self.trial is not None:
            label += f" (trial {self.trial})"
        if "rescored_from" in self.metadata:
            label += " (rescored)"
        return label

    @property
    def params(self) -> dict[str, Any]:
        """Submission parameters of this run that differ from the submission's defaults.

        The defaults are read from the submission's files without importing
        them (literal keyword defaults only); a parameter whose default cannot
        be read is shown.
        """
        given = dict((self.config.get("submission") or {}).get("params") or {})
        defaults = submission_defaults(self.metadata.get("submission_path"))
        return {key: value for key, value in given.items()
                if key not in defaults or defaults[key] != value}

    def table(self, stat: str) -> dict[str, dict[str, float | None]]:
        """``summary[stat]`` (``mean``, ``std``, ``bagged`` or ``retrain``) by step and score."""
        return self.summary.get(stat) or {}

    def fold_values(self, step: str, score: str) -> dict[int, float]:
        """The score of every successful fold at ``step``: ``{fold: value}`` (NaN kept)."""
        scores = self.result.scores
        if scores.empty:
            return {}
        rows = scores[(scores["step"] == step) & (scores["score"] == score)]
        return {int(f): float(v) for f, v in zip(rows["fold"], rows["value"], strict=True)}

    def mean_times(self) -> tuple[float | None, float | None]:
        """Mean training and predicting (valid + test) seconds over successful folds."""
        folds = self.result.folds
        if folds.empty or "train_time" not in folds:
            return None, None
        ok = folds[folds["status"] == "ok"]
        if ok.empty:
            return None, None
        return (float(ok["train_time"].mean()),
                float((ok["valid_time"] + ok["test_time"]).mean()))

    @cached_property
    def folds_id(self) -> str | None:
        """A hash of every fold's rows (None when not recorded: see :attr:`why_no_folds_id`)."""
        folds = self.result.folds
        if folds.empty:
            return None
        if "indices_sha256" in folds and folds["indices_sha256"].notna().all():
            hashes = [str(h) for h in folds.sort_values("fold")["indices_sha256"]]
        else:  # a run written before folds.csv had the column: from its saved predictions
            hashes = []
            for fold in sorted(int(f) for f in folds["fold"]):
                path = self.run_dir / "predictions" / f"fold_{fold}.npz"
                if not path.is_file():
                    return None
                with np.load(path, allow_pickle=False) as data:
                    hashes.append(fold_indices_sha256(data["train_idx"], data["valid_idx"]))
        n_folds = self.summary.get("n_folds", len(hashes))
        if len(hashes) != n_folds:
            return None
        return hashlib.sha256("\n".join(hashes).encode()).hexdigest()[:12]

    @property
    def why_no_folds_id(self) -> str:
        return ("its folds' rows are not recorded (a run written before folds.csv had "
                "indices_sha256, without saved predictions for every fold)")

    @property
    def data_id(self) -> str:
        """A hash of the data files' SHA-256 (the files' contents, not their paths)."""
        files = self.metadata.get("data_files") or {}
        text = "\n".join(f"{role}={files[role].get('sha256')}" for role in sorted(files))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def comparable_key(self) -> tuple[str, str, str, str]:
        """Runs with equal keys are ranked together and their fold scores paired."""
        return (self.problem, self.official_score, self.data_id,
                self.folds_id or f"unknown:{self.run_dir}")

    @property
    def cv_text(self) -> str:
        """The CV scheme in force, as ``type key=value ...``."""
        spec = self.config.get("cv") or (self.config.get("problem") or {}).get("cv") or {}
        params = " ".join(f"{k}={v}" for k, v in spec.items() if k != "type" and v is not None)
        return f"{spec.get('type', '?')} {params}".strip()


def submission_defaults(path: str | None) -> dict[str, Any]:
    """Literal keyword defaults of the functions and methods in a submission's files."""
    defaults: dict[str, Any] = {}
    if not path or not Path(path).is_dir():
        return defaults
    for file in sorted(Path(path).glob("*.py")):
        try:
            tree = ast.parse(file.read_text(), filename=str(file))
        except (SyntaxError, UnicodeDecodeError, OSError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            pairs = [*zip(positional[len(positional) - len(args.defaults):], args.defaults,
                          strict=True),
                     *((a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
                       if d is not None)]
            for arg, default in pairs:
                try:
                    defaults.setdefault(arg.arg, ast.literal_eval(default))
                except ValueError:
                    continue
    return defaults


def as_run(run: RunInfo | RunResult | str | os.PathLike[str]) -> RunInfo:
    """A :class:`RunInfo` from a run directory path, a :class:`RunResult` or itself."""
    if isinstance(run, RunInfo):
        return run
    result = run if isinstance(run, RunResult) else load_run(run)
    if result.run_dir is None:
        raise ValueError("this run was not written to a run directory")
    folder = result.run_dir
    metadata_path = folder / "metadata.json"
    metadata = json.loads(metadata_path.read_text()) if metadata_path.is_file() else {}
    parent = folder.parent
    is_trial = (parent / "trials.csv").is_file() or (parent / "multirun.yaml").is_file()
    return RunInfo(result=result, metadata=metadata, sweep_dir=parent if is_trial else None)


def find_runs(paths: Iterable[str | os.PathLike[str]], problem: str | None = None
              ) -> list[RunInfo]:
    """Every run directory (one holding ``summary.json``) under ``paths``, sweep trials included.

    Parameters
    ----------
    paths
        Run directories or folders to search (e.g. ``outputs``, ``multirun``).
    problem
        Keep only the runs of this problem.

    Raises
    ------
    FileNotFoundError
        A path that does not exist.
    """
    found: dict[Path, RunInfo] = {}
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or directory")
        candidates = [path] if (path / "summary.json").is_file() else \
            sorted(p.parent for p in path.rglob("summary.json"))
        for folder in candidates:
            if any(part.startswith(".") for part in folder.relative_to(path).parts):
                continue
            try:
                run = as_run(folder)
            except (OSError, ValueError) as exc:  # a summary being written, or not ours
                warnings.warn(f"{folder}: skipped, not readable: {exc}", stacklevel=2)
                continue
            if problem is None or run.problem == problem:
                found[folder.resolve()] = run
    return list(found.values())


@dataclass
class ProblemData:
    """A run's problem, rebuilt from its ``config.yaml``: data, prediction type, scores.

    Attributes
    ----------
    config : RunConfig
    prediction : BasePrediction
        Set up on the training targets, as in the run.
    scores : list of BaseScore
        The problem's scores, the official first.
    train, test : Dataset
    y_train, y_test : numpy.ndarray
        Targets encoded by the prediction type (what scores receive).
    """

    config: RunConfig
    prediction: BasePrediction
    scores: list[BaseScore]
    train: Dataset
    test: Dataset
    y_train: np.ndarray
    y_test: np.ndarray


def build_plugins(config: RunConfig) -> tuple[Any, BasePrediction, list[BaseScore]]:
    """The reader, prediction type and scores of a validated configuration.

    Raises
    ------
    ConfigError
        Unknown plugins or bad parameters, one line each.
    """
    from rampconf.compat import compat_mode
    from rampconf.plugin import make_plugin
    from rampconf.predictions import BasePrediction
    from rampconf.readers import BaseReader
    from rampconf.runner import resolve_data_root
    from rampconf.scores import BaseScore

    problem = config.problem
    errors: list[str] = []

    def build(kind: str, plugin: str, raw: dict[str, Any], path: str, base: Any,
              **context: Any) -> Any:
        try:
            with compat_mode(config.compat):
                return make_plugin(kind, plugin, raw, path, base, **context)
        except ConfigError as exc:
            errors.extend(exc.lines)
            return None

    reader = build("reader", problem.data.reader, problem.data.plugin_params(), "problem.data",
                   BaseReader, data_root=resolve_data_root(config.data_root))
    prediction = build("prediction", problem.prediction.type, problem.prediction.plugin_params(),
                       "problem.prediction", BasePrediction)
    scores = [build("score", spec.type, spec.plugin_params(), f"problem.scores.{key}",
                    BaseScore, name=spec.name or key, precision=spec.precision)
              for key, spec in problem.scores.items()]
    if errors:
        raise ConfigError(errors[0], lines=errors)
    return reader, prediction, scores


def load_problem_data(config: RunConfig, metadata: dict[str, Any] | None = None,
                      where: str = "") -> ProblemData:
    """Read a run's data again and encode its targets, checking the files did not change.

    Parameters
    ----------
    config
        The run's validated configuration.
    metadata
        The run's ``metadata.json``: each data file's SHA-256 there must equal
        the file's now, else its saved predictions do not belong to this data.
    where
        The run directory, named in errors.

    Raises
    ------
    DataError
        A missing data file, or one whose content changed since the run.
    """
    from rampconf.outputs import file_sha256

    reader, prediction, scores = build_plugins(config)
    reader.check_files()
    recorded = (metadata or {}).get("data_files") or {}
    for role, path in {**reader.files(), **reader.extra_files()}.items():
        expected = (recorded.get(role) or {}).get("sha256")
        if expected and file_sha256(Path(path)) != expected:
            raise DataError(f"{where}: the data file {path} ({role}) changed since the run "
                            "(its SHA-256 differs from metadata.json's): the run's saved "
                            "predictions cannot be scored against it")
    train, test = reader.load("train"), reader.load("test")
    prediction.setup(train.y)
    try:
        y_train, y_test = prediction.encode_y(train.y), prediction.encode_y(test.y)
    except ValueError as exc:
        raise DataError(f"problem.prediction: {exc}") from None
    return ProblemData(config=config, prediction=prediction, scores=scores, train=train,
                       test=test, y_train=y_train, y_test=y_test)


def _unpacked(prediction: BasePrediction, data: Any, part: str) -> np.ndarray:
    """The prediction ``part`` (``train``, ``test``, ``valid``) of an opened ``.npz``."""
    arrays = {key[len(part):].lstrip("_"): data[key] for key in data.files
              if (key == part or key.startswith(f"{part}_"))
              and key not in ("train_idx", "valid_idx")}
    return prediction.unpack(arrays)


def load_fold_predictions(run: RunInfo, prediction: BasePrediction) -> list[SavedFold]:
    """The saved predictions of every successful fold.

    Raises
    ------
    DataError
        A successful fold whose predictions were not saved (``save_predictions=false``).
    """
    folds = run.result.folds
    results = []
    for row in folds.sort_values("fold").itertuples():
        if row.status != "ok":
            continue
        path = run.run_dir / "predictions" / f"fold_{row.fold}.npz"
        if not path.is_file():
            raise DataError(f"{run.run_dir}: fold {row.fold} has no saved predictions "
                            f"({path.name} is missing; was the run made with "
                            "save_predictions=false?)")
        with np.load(path, allow_pickle=False) as data:
            results.append(SavedFold(
                fold=int(row.fold), seed=int(row.seed), train_idx=data["train_idx"],
                valid_idx=data["valid_idx"], y_pred_train=_unpacked(prediction, data, "train"),
                y_pred_test=_unpacked(prediction, data, "test"),
                times={step: float(getattr(row, f"{step}_time"))
                       for step in ("train", "valid", "test")}))
    return results


def load_saved(run: RunInfo, prediction: BasePrediction, name: str) -> dict[str, np.ndarray]:
    """The saved ``bagged`` or ``retrain`` predictions, by part (``valid``, ``train``, ``test``)."""
    path = run.run_dir / "predictions" / f"{name}.npz"
    if not path.is_file():
        return {}
    with np.load(path, allow_pickle=False) as data:
        parts = {key.split("_", 1)[0] for key in data.files}
        return {part: _unpacked(prediction, data, part) for part in sorted(parts)}
