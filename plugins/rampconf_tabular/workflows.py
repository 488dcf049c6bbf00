"""Tabular workflows: RAMP's estimator, classifier, regressor and feature-extractor pairs.

Submissions written for ramp-workflow's tabular kits run unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

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
    "Regressor",
]


class Estimator(BaseWorkflow):
    """``estimator.py`` with ``get_estimator(**params)`` returning a scikit-learn estimator.

    The estimator is fitted on the fold's training rows; it predicts with
    ``predict_proba`` for class probabilities and ``predict`` for regression.
    """

    elements: ClassVar[dict[str, str]] = {"estimator": "get_estimator"}

    def train(self, submission: Submission, routed: dict[str, dict[str, Any]], X: Any,
              y: np.ndarray, prediction: BasePrediction) -> Any:
        estimator = submission.build("estimator", "get_estimator", routed)
        if not hasattr(estimator, "fit"):
            raise TypeError(f"get_estimator() in {submission.file('estimator')} returned "
                            f"{type(estimator).__name__}, which has no fit() method")
        return estimator.fit(X, y)

    def predict(self, model: Any, X: Any, prediction: BasePrediction) -> Any:
        return predict_with(model, X, prediction, "the estimator")


class EstimatorExternalData(Estimator):
    """:class:`Estimator` whose submission reads the problem's extra files beside itself.

    The problem lists the files in ``data.extra_files``; the submission opens
    them as ``os.path.join(os.path.dirname(__file__), NAME)``, as in RAMP.
    """


class _Pair(BaseWorkflow):
    """A single class element: ``<element>.py`` defining ``<Class>(**params)``."""

    element: ClassVar[str]

    def train(self, submission: Submission, routed: dict[str, dict[str, Any]], X: Any,
              y: np.ndarray, prediction: BasePrediction) -> Any:
        model = submission.build(self.element, self.elements[self.element], routed)
        model.fit(X, y)
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


class _FeatureExtractorPair(BaseWorkflow):
    """``feature_extractor.py`` (``FeatureExtractor``: ``fit``, ``transform``) then a model."""

    model_element: ClassVar[str]

    def train(self, submission: Submission, routed: dict[str, dict[str, Any]], X: Any,
              y: np.ndarray, prediction: BasePrediction) -> Any:
        extractor = submission.build("feature_extractor", "FeatureExtractor", routed)
        extractor.fit(X, y)
        features = extractor.transform(X)
        model = submission.build(self.model_element, self.elements[self.model_element], routed)
        model.fit(features, y)
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
