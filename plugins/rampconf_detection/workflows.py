"""The object-detector workflow (RAMP's ``object_detector``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rampconf.workflows import BaseWorkflow

if TYPE_CHECKING:
    import numpy as np

    from rampconf.predictions import BasePrediction
    from rampconf.submission import Submission

__all__ = ["ObjectDetector"]


class ObjectDetector(BaseWorkflow):
    """``object_detector.py`` with an ``ObjectDetector`` class: ``fit(X, y)``, ``predict(X)``.

    ``X`` is the image array (or a view of the memory-mapped file), ``y`` one
    array of objects per image; ``predict`` returns, per image, a list of
    ``(confidence, row, col, radius)`` tuples. RAMP Mars submissions run unchanged.
    """

    elements: ClassVar[dict[str, str]] = {"object_detector": "ObjectDetector"}

    def train(self, submission: Submission, routed: dict[str, dict[str, Any]], X: Any,
              y: np.ndarray, prediction: BasePrediction) -> Any:
        detector = submission.build("object_detector", "ObjectDetector", routed)
        detector.fit(X, y)
        return detector

    def predict(self, model: Any, X: Any, prediction: BasePrediction) -> Any:
        return model.predict(X)
