"""A run's saved predictions and the data they score, read back for re-scoring and comparing.

:func:`load_problem_data` rebuilds a run's reader, prediction type and scores
from its configuration, reads the data again and checks that every file is
the one the run used (its SHA-256 in ``metadata.json``);
:func:`load_fold_predictions` and :func:`load_saved` read ``predictions/``
with the prediction type's :meth:`~rampconf.predictions.BasePrediction.unpack`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rampconf.errors import ConfigError, DataError

if TYPE_CHECKING:
    from rampconf.predictions import BasePrediction
    from rampconf.readers import Dataset
    from rampconf.runs import RunInfo
    from rampconf.schema import RunConfig
    from rampconf.scores import BaseScore

__all__ = [
    "ProblemData",
    "SavedFold",
    "build_plugins",
    "load_fold_predictions",
    "load_problem_data",
    "load_run_data",
    "load_saved",
]


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


def load_run_data(run: RunInfo) -> ProblemData:
    """The data, prediction type and scores of a run, rebuilt from its run directory.

    Raises
    ------
    RampconfError
        Bad saved configuration, or missing or changed data files.
    """
    from rampconf.schema import validate_config

    return load_problem_data(validate_config(run.config), run.metadata, str(run.run_dir))
