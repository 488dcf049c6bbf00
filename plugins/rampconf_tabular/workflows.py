"""Tabular workflows: RAMP's estimator, classifier, regressor and feature-extractor pairs.

Submissions written for ramp-workflow's tabular kits run unchanged. Each
takes ``sample_weight``: whether the model's ``fit`` also gets the data's
per-sample weights (``Dataset.weights``) as ``sample_weight``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from rampconf.plugin import StrictModel
from rampconf.workflows import BaseWorkflow, predict_with

if TYPE_CHECKING:
    import numpy as np

    from rampconf.predictions import BasePrediction
    from rampconf.submission import Submission

__all__ = [
    "Classifier",
    "Estimator",
    "EstimatorExternalData",
    "FeatureExtractorClassifier",
    "FeatureExtractorRegressor",
    "FitParams",
    "Regressor",
]


class FitParams(StrictModel):
    """Parameters of the tabular workflows."""

    sample_weight: bool = Field(
        False, description="also pass the data's per-sample weights to the model's fit as "
                           "sample_weight (false: fit(X, y), as ramp-workflow calls it)")


def _weights(sample_weight: np.ndarray | None) -> dict[str, Any]:
    return {} if sample_weight is None else {"sample_weight": sample_weight}


class _Fitting(BaseWorkflow[FitParams]):
    """A tabular workflow: its model's ``fit`` may get the per-sample weights."""

    def fits_weights(self) -> bool:
        return self.params.sample_weight


class Estimator(_Fitting):
    """``estimator.py`` with ``get_estimator(**params)`` returning a scikit-learn estimator.

    The estimator is fitted on the fold's training rows (``fit(X, y)``, or
    ``fit(X, y, sample_weight=w)`` with ``sample_weight: true``); it predicts
    with ``predict_proba`` for class probabilities and ``predict`` for
    regression.
    """

    elements: ClassVar[dict[str, str]] = {"estimator": "get_estimator"}

    def train(self, submission: Submission, routed: dict[str, dict[str, Any]], X: Any,
              y: np.ndarray, prediction: BasePrediction,
              sample_weight: np.ndarray | None = None) -> Any:
        estimator = submission.build("estimator", "get_estimator", routed)
        if not hasattr(estimator, "fit"):
            raise TypeError(f"get_estimator() in {submission.file('estimator')} returned "
                            f"{type(estimator).__name__}, which has no fit() method")
        return estimator.fit(X, y, **_weights(sample_weight))

    def predict(self, model: Any, X: Any, prediction: BasePrediction) -> Any:
        return predict_with(model, X, prediction, "the estimator")


class EstimatorExternalData(Estimator):
    """:class:`Estimator` whose submission reads the problem's extra files beside itself.

    The problem lists the files in ``data.extra_files``; the submission opens
    them as ``os.path.join(os.path.dirname(__file__), NAME)``, as in RAMP.
    """


class _Pair(_Fitting):
    """A single class element: ``<element>.py`` defining ``<Class>(**params)``."""

    element: ClassVar[str]

    def train(self, submission: Submission, routed: dict[str, dict[str, Any]], X: Any,
              y: np.ndarray, prediction: BasePrediction,
              sample_weight: np.ndarray | None = None) -> Any:
        model = submission.build(self.element, self.elements[self.element], routed)
        model.fit(X, y, **_weights(sample_weight))
        return model

    def predict(self, model: Any, X: Any, prediction: BasePrediction) -> Any:
        return predict_with(model, X, prediction, f"{self.element}.py")


class Classifier(_Pair):
    """``classifier.py`` with a ``Classifier`` class (``fit``, ``predict_proba``)."""

    element = "classifier"
    elements: ClassVar[dict[str, str]] = {"classifier": "Classifier"}


class Regressor(_Pair):
    """``regressor.py`` with a ``Regressor`` class (``fit``, ``predict``)."""

    element = "regressor"
    elements: ClassVar[dict[str, str]] = {"regressor": "Regressor"}


class _FeatureExtractorPair(_Fitting):
    """``feature_extractor.py`` (``FeatureExtractor``: ``fit``, ``transform``) then a model.

    With ``sample_weight: true`` the model (not the feature extractor) gets the weights.
    """

    model_element: ClassVar[str]

    def train(self, submission: Submission, routed: dict[str, dict[str, Any]], X: Any,
              y: np.ndarray, prediction: BasePrediction,
              sample_weight: np.ndarray | None = None) -> Any:
        extractor = submission.build("feature_extractor", "FeatureExtractor", routed)
        extractor.fit(X, y)
        features = extractor.transform(X)
        model = submission.build(self.model_element, self.elements[self.model_element], routed)
        model.fit(features, y, **_weights(sample_weight))
        return extractor, model

    def predict(self, model: Any, X: Any, prediction: BasePrediction) -> Any:
        extractor, estimator = model
        return predict_with(estimator, extractor.transform(X), prediction,
                            f"{self.model_element}.py")


class FeatureExtractorClassifier(_FeatureExtractorPair):
    """``feature_extractor.py`` + ``classifier.py`` (RAMP's feature_extractor_classifier)."""

    model_element = "classifier"
    elements: ClassVar[dict[str, str]] = {
        "feature_extractor": "FeatureExtractor", "classifier": "Classifier"}


class FeatureExtractorRegressor(_FeatureExtractorPair):
    """``feature_extractor.py`` + ``regressor.py`` (RAMP's feature_extractor_regressor)."""

    model_element = "regressor"
    elements: ClassVar[dict[str, str]] = {
        "feature_extractor": "FeatureExtractor", "regressor": "Regressor"}
