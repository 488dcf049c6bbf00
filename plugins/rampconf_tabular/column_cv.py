"""CV schemes whose folds come from a column: fold labels, or dates cut into intervals.

The column is a feature of ``X`` (``column: NAME``, a DataFrame column the
submission also sees) or, with ``column: null``, the problem's group column
(``data.groups``, not a feature unless ``data.groups_as_feature``).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from rampconf.cv import BaseCV
from rampconf.plugin import StrictModel

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["DateIntervals", "DateIntervalsParams", "PredefinedSplit", "PredefinedSplitParams",
           "column_values"]

Label = str | int | float | bool


def column_values(X: Any, column: str | None, groups: np.ndarray | None, n: int) -> np.ndarray:
    """The values of ``column`` of ``X``, or the groups when ``column`` is None.

    Raises
    ------
    ValueError
        ``X`` has no such column (its columns are listed), or no groups were given.
    """
    if column is None:
        if groups is None:
            raise ValueError("the scheme reads the group column, but problem.data.groups is "
                             "not set")
        return np.asarray(groups)
    columns = getattr(X, "columns", None)
    if columns is None or column not in columns:
        listed = f"the features are {list(columns)}" if columns is not None else \
            f"X is a {type(X).__name__}, not a table"
        raise ValueError(f"no column {column!r} in the training features ({listed}); set "
                         "cv.column to one of them, or null to use problem.data.groups")
    values = np.asarray(X[column])
    assert len(values) == n
    return values


class _ColumnParams(StrictModel):
    column: str | None = Field(None, description="the feature column the folds come from; "
                                                 "null: the problem's group column "
                                                 "(data.groups)")


_ColumnParamsT = TypeVar("_ColumnParamsT", bound=_ColumnParams)


class _ColumnCV(BaseCV[_ColumnParamsT]):
    """A scheme that reads its folds from a column (a feature or the groups)."""

    @property
    def needs_groups(self) -> bool:  # type: ignore[override]
        """True when the values are the group column (``column: null``)."""
        return self.params.column is None


class PredefinedSplitParams(_ColumnParams):
    """Parameters of the ``predefined_split`` scheme."""

    train_only: list[Label] = Field(
        [-1], description="values whose rows are never validated, only trained on "
                          "(scikit-learn's -1)")


class PredefinedSplit(_ColumnCV[PredefinedSplitParams]):
    """Folds given by a column, as scikit-learn's ``PredefinedSplit``.

    Each distinct value of the column (but ``train_only``) is a fold, in
    sorted order: its rows are validated, every other row is trained on.
    With integer fold numbers and ``train_only: [-1]`` the folds are
    scikit-learn's.
    """

    def split(self, X: Any, y: np.ndarray, groups: np.ndarray | None = None
              ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        values = column_values(X, self.params.column, groups, len(y))
        labels = [label for label in pd.unique(values) if label not in self.params.train_only]
        if not labels:
            raise ValueError(f"every row is train_only {self.params.train_only}: no fold")
        rows = np.arange(len(y))
        for label in sorted(labels):
            valid = values == label
            yield rows[~valid], rows[valid]


class DateIntervalsParams(_ColumnParams):
    """Parameters of the ``date_intervals`` scheme."""

    intervals: list[tuple[str, str]] = Field(
        default_factory=list, description="validation windows [start, end) as dates, e.g. "
                                          "[[2019-01-01, 2019-07-01], ...]; []: use n_periods")
    n_periods: int | None = Field(
        None, ge=1, description="the dates from the first to the last cut into this many "
                                "equal periods, each validated once (with intervals: [])")
    round_to: str | None = Field(
        None, description="a period's length is rounded down to a multiple of this duration "
                          "(a pandas Timedelta, e.g. 1D: whole days; rows after the last "
                          "period are only trained on); null: exact periods, the last one "
                          "ending with the last date")
    train: Literal["rest", "past"] = Field(
        "rest", description="rest: train on every row outside the window; past: only on rows "
                            "dated before it (a period without earlier rows is left out)")

    @field_validator("intervals")
    @classmethod
    def _dates(cls, intervals: list[tuple[str, str]]) -> list[tuple[str, str]]:
        for i, (start, end) in enumerate(intervals):
            try:
                begins, ends = pd.Timestamp(start), pd.Timestamp(end)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"intervals[{i}] = [{start}, {end}] is not two dates: {exc}"
                                 ) from None
            if not begins < ends:
                raise ValueError(f"intervals[{i}] must start before it ends, got [{start}, "
                                 f"{end}]")
        return intervals

    @field_validator("round_to")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                positive = pd.Timedelta(value) > pd.Timedelta(0)
            except ValueError:
                positive = False
            if not positive:
                raise ValueError(f"must be a positive duration such as 1D or 12h, got {value!r}")
        return value

    @model_validator(mode="after")
    def _one_way(self) -> DateIntervalsParams:
        if self.intervals and self.n_periods is not None:
            raise ValueError("give the validation windows either as intervals or as n_periods, "
                             "not both (set n_periods: null to use intervals)")
        if not self.intervals and self.n_periods is None:
            raise ValueError("give the validation windows as intervals ([[start, end], ...]) "
                             "or as n_periods")
        return self


class DateIntervals(_ColumnCV[DateIntervalsParams]):
    """Folds from date intervals of a datetime column.

    Each validation window is one of ``intervals`` (half-open ``[start,
    end)``) or one of ``n_periods`` equal periods from the first date to the
    last (the last period includes the last date unless ``round_to`` made
    the periods shorter). A fold validates on the rows dated in its window and
    trains on the rest (``train: rest``) or on the rows dated before it
    (``train: past``). Rows are taken as they are: the order of the file
    does not matter.
    """

    def windows(self, dates: pd.DatetimeIndex) -> list[tuple[pd.Timestamp, pd.Timestamp, bool]]:
        """``(start, end, end included)`` of each validation window."""
        p = self.params
        if p.intervals:
            return [(pd.Timestamp(a), pd.Timestamp(b), False) for a, b in p.intervals]
        assert p.n_periods is not None
        first, last = dates.min(), dates.max()
        length = (last - first) / p.n_periods
        if p.round_to is not None:
            step = pd.Timedelta(p.round_to)
            length = (length // step) * step
        if length <= pd.Timedelta(0):
            raise ValueError(f"the dates span {last - first}, too short for {p.n_periods} "
                             f"periods{' of whole ' + p.round_to if p.round_to else ''}")
        return [(first + i * length, first + (i + 1) * length,
                 p.round_to is None and i == p.n_periods - 1) for i in range(p.n_periods)]

    def split(self, X: Any, y: np.ndarray, groups: np.ndarray | None = None
              ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        values = column_values(X, self.params.column, groups, len(y))
        try:
            with warnings.catch_warnings():  # pandas' format-inference notice: not the user's
                warnings.simplefilter("ignore", UserWarning)
                dates = pd.DatetimeIndex(pd.to_datetime(values))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"the column does not hold dates: {exc}") from None
        if dates.isna().any():
            raise ValueError(f"row {int(np.flatnonzero(dates.isna())[0])} has no date")
        rows = np.arange(len(y))
        for i, (start, end, closed) in enumerate(self.windows(dates)):
            valid = (dates >= start) & ((dates <= end) if closed else (dates < end))
            train = ~valid if self.params.train == "rest" else dates < start
            if not valid.any():
                raise ValueError(f"window {i} [{start}, {end}) holds no row")
            if not train.any():
                if self.params.n_periods is not None:
                    continue  # the first period has no past
                raise ValueError(f"window {i} [{start}, {end}) has no row dated before it to "
                                 "train on")
            yield rows[train], rows[valid]
