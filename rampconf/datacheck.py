"""Checks of the data that hold for every reader and prediction type, before any fold runs.

Bad data is a data error (exit code 2), found once both splits are loaded and
before the run directory is written, never a fold that fails and blames the
submission. A reader checks what belongs to its files (a CSV header that
names a column twice, a missing column); here, the splits are compared with
each other (the same feature columns) and the prediction type encodes the
targets (a label outside the problem's labels, a NaN or infinite regression
target), each error naming the file, the column and the first bad row.
Scores whose parameters must agree with the problem (a score matrix sized
to the labels) are checked last, a configuration error (exit code 2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rampconf.errors import ConfigError, DataError
from rampconf.predictions import TargetError

if TYPE_CHECKING:
    from rampconf.predictions import BasePrediction
    from rampconf.readers import BaseReader, Dataset, Split
    from rampconf.scores import BaseScore

__all__ = ["check_data", "check_features", "check_scores", "check_targets"]


def check_features(reader: BaseReader, train: Dataset, test: Dataset) -> None:
    """Refuse splits whose features differ: other columns, or rows of another shape.

    Tables (anything with ``columns``) must have the same column names;
    arrays the same shape after the sample axis. Other kinds of ``X`` are the
    reader's business.

    Raises
    ------
    DataError
        Naming the test data's file and the columns (or shapes) that differ.
    """
    train_columns = getattr(train.X, "columns", None)
    test_columns = getattr(test.X, "columns", None)
    if train_columns is not None and test_columns is not None:
        train_names, test_names = list(train_columns), list(test_columns)
        missing = [c for c in train_names if c not in test_names]
        extra = [c for c in test_names if c not in train_names]
        if missing or extra:
            parts = ([f"lacks the feature column(s) {missing}"] if missing else []) + \
                ([f"has column(s) {extra} that the training data does not"] if extra else [])
            raise DataError(f"{reader.describe('test')}: the test "
                            f"data {' and '.join(parts)} "
                            f"({reader.describe('train')} has "
                            f"{len(train_names)} feature columns, the test data "
                            f"{len(test_names)}); both splits need the same feature columns")
        return
    train_shape = getattr(train.X, "shape", None)
    test_shape = getattr(test.X, "shape", None)
    if train_shape is not None and test_shape is not None \
            and tuple(train_shape[1:]) != tuple(test_shape[1:]):
        raise DataError(f"{reader.describe('test')}: each test sample has "
                        f"shape {tuple(test_shape[1:])}, each training sample "
                        f"{tuple(train_shape[1:])}; both splits need samples of one shape")


def check_targets(reader: BaseReader, prediction: BasePrediction, train: Dataset,
                  test: Dataset) -> None:
    """Set the prediction type up on the training targets and encode both splits' targets.

    Raises
    ------
    DataError
        A target the prediction type refuses, naming the file, the column
        and the first bad row (counted from 0, header excluded).
    """
    prediction.setup(train.y)
    split: Split
    for split, data in (("train", train), ("test", test)):
        try:
            prediction.encode_y(data.y)
        except TargetError as exc:
            raise DataError(f"{reader.describe_target(split, exc.column)}, row {exc.row}: {exc}"
                            ) from None
        except ValueError as exc:
            raise DataError(f"{reader.describe(split)}: problem.prediction: {exc}") from None


def check_data(reader: BaseReader, prediction: BasePrediction, train: Dataset,
               test: Dataset) -> None:
    """Every check of this module: features first, then targets."""
    check_features(reader, train, test)
    check_targets(reader, prediction, train, test)


def check_scores(scores: dict[str, BaseScore], prediction: BasePrediction) -> None:
    """Every score's parameters agree with the problem (its labels, ...), before any fold.

    ``scores`` maps each key of ``problem.scores`` to its built score;
    ``prediction`` has seen the training targets (see :func:`check_targets`).

    Raises
    ------
    ConfigError
        One line per score that disagrees, naming its key (``problem.scores.KEY``).
    """
    errors = []
    for key, score in scores.items():
        try:
            score.check_prediction(prediction)
        except ValueError as exc:
            errors.append(f"problem.scores.{key}: {exc}")
    if errors:
        raise ConfigError(errors[0], lines=errors)
