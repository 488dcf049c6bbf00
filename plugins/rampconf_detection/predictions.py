"""Detection predictions: per image, a list of ``(confidence, row, col, radius)`` circles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from rampconf.compat import compat_default
from rampconf.extras import Extra
from rampconf.plugin import StrictModel
from rampconf.predictions import BasePrediction

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = ["Detection", "DetectionParams"]

EXPECTED = "a list of (confidence, row, col, radius) tuples"
PER_IMAGE = "list of (confidence, row, col, radius) tuples"


def _as_image_array(value: Any, image: int) -> np.ndarray:
    try:
        array = np.asarray(value if len(value) else np.empty((0, 4)), dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"image {image}: expected {EXPECTED}, got {type(value).__name__}"
                         f" {str(value)[:60]}") from None
    if array.ndim != 2 or array.shape[1] != 4:
        shown = repr(value[0]) if len(value) else repr(value)
        raise ValueError(f"image {image}: expected {EXPECTED}, got {len(value)} item(s) "
                         f"like {shown[:60]}")
    if not np.isfinite(array).all():
        raise ValueError(f"image {image}: a detection holds NaN or infinite values")
    return array


class DetectionParams(StrictModel):
    """Parameters of the ``detection`` prediction type."""

    iou_formula: Literal["exact", "ramp"] = Field(
        "exact", description="circle IoU that links detections of different folds when "
                             "bagging: exact, or ramp (ramp-workflow 0.7.0's inexact lens "
                             "formula)", json_schema_extra=compat_default(ramp="ramp"))
    unpredicted: Literal["unscored", "no_detections"] = Field(
        "unscored", description="an image that no fold bagged so far predicted (in the bagged "
                                "valid predictions): unscored, or scored as an image without "
                                "detections (ramp-workflow's)",
        json_schema_extra=compat_default(ramp="no_detections"))


class Detection(BasePrediction[DetectionParams]):
    """Object detection of circles.

    ``y_true`` is an object array over images of ``(k, 3)`` arrays
    ``(row, col, radius)``; a prediction is an object array over images of
    ``(m, 4)`` arrays ``(confidence, row, col, radius)``; an image that holds
    no prediction (outside a fold's valid set) is ``None``. Bagging merges
    overlapping detections of different folds as RAMP does; an image that no
    fold predicted stays ``None`` (not scored), or becomes an empty list (scored
    as "no detections", as ramp-workflow) with ``unpredicted: no_detections``.

    Saved predictions (``pack``): ``circles`` (n, 5) with columns image,
    confidence, row, col, radius, and ``predicted`` (one flag per image).
    """

    predict_method: ClassVar[Literal["predict", "predict_proba"]] = "predict"
    figures_require: ClassVar[Extra | None] = Extra("plots", ("matplotlib",))

    def encode_y(self, y: np.ndarray) -> np.ndarray:
        return y

    def check_y_pred(self, y_pred: Any, y_true: np.ndarray) -> np.ndarray:
        try:
            n = len(y_pred)
        except TypeError:
            raise ValueError(f"expected one {PER_IMAGE} per image, got "
                             f"{type(y_pred).__name__}") from None
        if n != len(y_true):
            raise ValueError(f"expected one {PER_IMAGE} per image for {len(y_true)} images, "
                             f"got {n} lists")
        checked = np.empty(n, dtype=object)
        for image in range(n):
            checked[image] = _as_image_array(y_pred[image], image)
        return checked

    def empty(self, n_samples: int, like: np.ndarray) -> np.ndarray:
        return np.full(n_samples, None, dtype=object)

    def has_prediction(self, y_pred: np.ndarray) -> np.ndarray:
        return np.array([p is not None for p in y_pred], dtype=bool)

    def combine(self, y_preds: Sequence[np.ndarray]) -> np.ndarray:
        from rampconf_detection.combine import combine_detections

        combined = combine_detections(list(y_preds), iou_formula=self.params.iou_formula)
        if self.params.unpredicted == "no_detections":
            for image in np.flatnonzero(~self.has_prediction(combined)):
                combined[image] = np.empty((0, 4))
        return combined

    def pack(self, y_pred: np.ndarray) -> dict[str, np.ndarray]:
        predicted = self.has_prediction(y_pred)
        parts = [np.column_stack([np.full(len(p), i, dtype=float), p])
                 for i, p in enumerate(y_pred) if p is not None and len(p)]
        circles = np.concatenate(parts) if parts else np.empty((0, 5))
        return {"circles": circles, "predicted": predicted}

    def unpack(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        predicted = np.asarray(arrays["predicted"], dtype=bool)
        circles = np.asarray(arrays["circles"], dtype=float).reshape(-1, 5)
        images = circles[:, 0].astype(int)
        y_pred = self.empty(len(predicted), like=circles)
        for image in np.flatnonzero(predicted):
            y_pred[image] = circles[images == image, 1:]
        return y_pred

    def save_figures(self, folder: Path, X: Any, y_true: np.ndarray, y_pred: np.ndarray,
                     rows: np.ndarray, fold: int) -> list[Path]:
        """PNG per image: the image, true circles (green), detections (red, ≥ 0.5 solid).

        Drawn on ``matplotlib.figure.Figure`` objects: no pyplot, so the
        caller's backend and open figures are left alone.
        """
        import io

        from matplotlib.figure import Figure
        from matplotlib.patches import Circle

        from rampconf.outputs import write_atomic

        written = []
        for row in rows:
            fig = Figure(figsize=(4, 4), dpi=100)
            ax = fig.subplots()
            ax.imshow(np.asarray(X[row]), cmap="gray")
            for r, c, radius in np.asarray(y_true[row]).reshape(-1, 3):
                ax.add_patch(Circle((c, r), radius, fill=False, color="lime", lw=1.5))
            for conf, r, c, radius in np.asarray(y_pred[row]).reshape(-1, 4):
                ax.add_patch(Circle((c, r), radius, fill=False, color="red",
                                    lw=1.2, ls="-" if conf >= 0.5 else ":",
                                    alpha=float(np.clip(0.3 + conf, 0.3, 1.0))))
            n_true = len(np.asarray(y_true[row]).reshape(-1, 3))
            n_pred = int((np.asarray(y_pred[row]).reshape(-1, 4)[:, 0] >= 0.5).sum())
            ax.set_title(f"fold {fold}, image {row}: {n_true} true (green), "
                         f"{n_pred} detected ≥ 0.5 (red)", fontsize=7)
            ax.set_axis_off()
            png = io.BytesIO()
            fig.savefig(png, format="png", bbox_inches="tight")
            path = folder / f"fold_{fold}_image_{row}.png"
            write_atomic(path, png.getvalue())
            written.append(path)
        return written
