"""The time-series feature extractor + regressor workflow (RAMP's El Niño workflow)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from rampconf.compat import compat_default
from rampconf.plugin import StrictModel
from rampconf.workflows import BaseWorkflow, predict_with
from rampconf_timeseries.readers import TimeSeriesData

if TYPE_CHECKING:
    from rampconf.predictions import BasePrediction
    from rampconf.submission import Submission

__all__ = ["LookaheadError", "TSFeatureExtractorRegressor", "TSFeatureExtractorRegressorParams",
           "check_lookahead", "features_of"]


class LookaheadError(AssertionError):
    """The feature extractor uses data after the time step of a feature."""


def _as_dataset(X: Any) -> Any:
    return X.dataset() if isinstance(X, TimeSeriesData) else X


def time_label(ds: Any, index: int) -> str:
    """The date of time index ``index`` of ``ds`` (day precision), or its raw value."""
    value = ds["time"].values[index]
    if isinstance(value, np.datetime64):
        return str(np.datetime_as_string(value, unit="D"))
    return str(value)


def features_of(fe: Any, ds: Any) -> np.ndarray:
    """``fe.transform(ds)`` as a 2-D array with one row per time step after the burn-in."""
    n_rows = int(ds.sizes["time"]) - int(ds.attrs["n_burn_in"])
    X = np.asarray(fe.transform(ds))
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2 or X.shape[0] != n_rows:
        raise ValueError(
            f"FeatureExtractor.transform must return one row per time step after the burn-in, "
            f"i.e. {n_rows} rows ({ds.sizes['time']} time steps, n_burn_in="
            f"{ds.attrs['n_burn_in']}), got shape {X.shape}")
    return X


def check_lookahead(fe: Any, ds: Any, X: np.ndarray, check_points: list[int]) -> None:
    """Raise :class:`LookaheadError` when features change once the future is cut off.

    For each check point ``c`` (a row, i.e. a time step after the burn-in)
    with later rows, the features are recomputed on ``ds`` truncated after
    time index ``n_burn_in + c`` and compared (exactly, NaN equal to NaN)
    with the first ``c + 1`` rows of ``X``, the features of all of ``ds``.
    """
    n_burn_in = int(ds.attrs["n_burn_in"])
    for c in check_points:
        if c >= len(X) - 1:
            continue
        end = n_burn_in + c
        truncated = features_of(fe, ds.isel(time=slice(0, end + 1)))
        full = X[:c + 1]
        same = (truncated == full) | (_isnan(truncated) & _isnan(full))
        changed = np.flatnonzero(~np.all(same, axis=1))
        if len(changed):
            first = int(changed[0])
            raise LookaheadError(
                f"the feature extractor looks ahead: at check point {c} (time index {end}, "
                f"{time_label(ds, end)}) its features change when the data after the check "
                f"point is removed (first changed row {first}, time index {n_burn_in + first}, "
                f"{time_label(ds, n_burn_in + first)}); the features of a time step may use "
                "only the data up to that time step")


def _isnan(a: np.ndarray) -> np.ndarray:
    try:
        return np.isnan(a)
    except TypeError:
        return np.zeros(a.shape, dtype=bool)


class TSFeatureExtractorRegressorParams(StrictModel):
    """Parameters of the ``ts_feature_extractor_regressor`` workflow."""

    check_points: list[int] = Field(
        default_factory=lambda: [6, 13, 24, 35],
        description="rows (time steps after the burn-in) where the lookahead check cuts the "
                    "data; negative ones are skipped")
    check_on_predict: bool = Field(True, description="also check the features of the data "
                                                     "predicted (training and test sets)")
    fold_time: Literal["ramp", "exact"] = Field(
        "exact", description="time steps given to a fold: exact (the fold's range and its "
                             "burn-in) or ramp (ramp-workflow's selection, which repeats the "
                             "fold's last step and leaves out the true last one)",
        json_schema_extra=compat_default(ramp="ramp"))


class TSFeatureExtractorRegressor(BaseWorkflow[TSFeatureExtractorRegressorParams]):
    """``ts_feature_extractor.py`` (``FeatureExtractor``) + ``regressor.py`` (``Regressor``).

    ``FeatureExtractor.fit(X_ds, y)`` (optional) gets the fold's
    ``xarray.Dataset`` (its time steps with the burn-in before them) and
    targets; ``transform(X_ds)`` returns one feature row per time step after
    the burn-in and may use only data up to that time step: after ``fit``
    and before every prediction the features are recomputed on the dataset
    cut after each check point and compared (see :func:`check_lookahead`).
    ``Regressor.fit(X, y)`` and ``predict(X)`` work on the feature arrays.
    """

    elements: ClassVar[dict[str, str]] = {
        "ts_feature_extractor": "FeatureExtractor", "regressor": "Regressor"}

    def train(self, submission: Submission, routed: dict[str, dict[str, Any]], X: Any,
              y: np.ndarray, prediction: BasePrediction) -> Any:
        p = self.params
        ds = X.dataset(p.fold_time) if isinstance(X, TimeSeriesData) else X
        fe = submission.build("ts_feature_extractor", "FeatureExtractor", routed)
        if hasattr(fe, "fit"):
            fe.fit(ds, np.asarray(y))
        features = features_of(fe, ds)
        check_lookahead(fe, ds, features, [c for c in p.check_points if c >= 0])
        regressor = submission.build("regressor", "Regressor", routed)
        regressor.fit(features, np.asarray(y))
        return fe, regressor

    def predict(self, model: Any, X: Any, prediction: BasePrediction) -> Any:
        p = self.params
        fe, regressor = model
        ds = _as_dataset(X)
        features = features_of(fe, ds)
        if p.check_on_predict:
            check_lookahead(fe, ds, features, [c for c in p.check_points if c >= 0])
        return predict_with(regressor, features, prediction, "Regressor")
