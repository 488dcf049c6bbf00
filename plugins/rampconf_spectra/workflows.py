"""The drug spectra workflow: classify, then regress with the class probabilities as features."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from rampconf_tabular.predictions import Multiclass, Regression

from rampconf.workflows import BaseWorkflow, predict_with

if TYPE_CHECKING:
    import pandas as pd

    from rampconf.predictions import BasePrediction
    from rampconf.submission import Submission

__all__ = ["DrugSpectra"]


def _parts(prediction: BasePrediction) -> tuple[Multiclass, Regression]:
    parts = getattr(prediction, "parts", None)
    if (parts is None or len(parts) != 2 or not isinstance(parts[0], Multiclass)
            or not isinstance(parts[1], Regression)):
        raise TypeError("the drug_spectra workflow needs a combined prediction of two parts: "
                        "multiclass then regression (prediction.type: combined)")
    return parts[0], parts[1]


def _with_labels(X: pd.DataFrame, labels: list[Any], values: np.ndarray) -> pd.DataFrame:
    """A copy of ``X`` with one column per label (named by the label) holding ``values``."""
    X = X.copy()
    for j, label in enumerate(labels):
        X[label] = values[:, j]
    return X


class DrugSpectra(BaseWorkflow):
    """RAMP's drug spectra workflow: four elements, classification then regression.

    * ``feature_extractor_clf.py`` (``FeatureExtractor``: ``fit(X_df, y)``,
      ``transform(X_df)``) and ``classifier.py`` (``Classifier``: ``fit``,
      ``predict_proba``) are trained on the first target column (the labels);
    * ``feature_extractor_reg.py`` and ``regressor.py`` (``Regressor``: ``fit``,
      ``predict``) are trained on the second target column (floats), with the
      DataFrame given one extra column per label (named by the label, in the
      problem's label order): the true one-hot labels at training time, the
      classifier's predicted probabilities at prediction time.

    The prediction is the class probabilities followed by the regression value
    (the ``combined`` prediction type of parts ``multiclass`` and ``regression``).
    """

    elements: ClassVar[dict[str, str]] = {
        "feature_extractor_clf": "FeatureExtractor",
        "classifier": "Classifier",
        "feature_extractor_reg": "FeatureExtractor",
        "regressor": "Regressor",
    }

    def train(self, submission: Submission, routed: dict[str, dict[str, Any]], X: Any,
              y: np.ndarray, prediction: BasePrediction) -> Any:
        classes, _ = _parts(prediction)
        y = np.asarray(y)
        y_clf, y_reg = y[:, 0], y[:, 1].astype(float)
        fe_clf = submission.build("feature_extractor_clf", "FeatureExtractor", routed)
        fe_clf.fit(X, y_clf)
        clf = submission.build("classifier", "Classifier", routed)
        clf.fit(fe_clf.transform(X), y_clf)
        labels = list(classes.labels)
        codes = classes.encode_y(y_clf)
        one_hot = codes[:, None] == np.arange(len(labels))[None, :]
        X_reg = _with_labels(X, labels, one_hot)
        fe_reg = submission.build("feature_extractor_reg", "FeatureExtractor", routed)
        fe_reg.fit(X_reg, y_reg)
        reg = submission.build("regressor", "Regressor", routed)
        reg.fit(fe_reg.transform(X_reg), y_reg)
        return fe_clf, clf, fe_reg, reg

    def predict(self, model: Any, X: Any, prediction: BasePrediction) -> Any:
        classes, _ = _parts(prediction)
        fe_clf, clf, fe_reg, reg = model
        proba = np.asarray(predict_with(clf, fe_clf.transform(X), classes, "classifier.py"),
                           dtype=float)
        X_reg = _with_labels(X, list(classes.labels), proba)
        y_reg = np.asarray(reg.predict(fe_reg.transform(X_reg)), dtype=float)
        return np.concatenate([proba, y_reg.reshape(len(proba), -1)], axis=1)
