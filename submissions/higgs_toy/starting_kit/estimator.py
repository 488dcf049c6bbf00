"""Higgs toy starting kit: gradient boosting on the features, fitted on the labels.

The target of the ``higgs_toy`` problem is the pair ``(label, weight)`` per
event (``y[:, 0]``, ``y[:, 1]``); the weight is not a feature, so ``X`` never
holds it. ``LabelOf`` fits a classifier on the labels, using the weights as
``sample_weight`` only when ``use_weights=True`` (the signal's total weight
is small: trained with the weights, the classifier would call almost
everything background).
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import GradientBoostingClassifier


class LabelOf(ClassifierMixin, BaseEstimator):
    """Fit ``classifier`` on ``y[:, 0]`` of a ``(label, weight)`` target."""

    def __init__(self, classifier=None, use_weights=False):
        self.classifier = classifier
        self.use_weights = use_weights

    def fit(self, X, y):
        y = np.asarray(y, dtype=object)
        labels = np.array(y[:, 0].tolist())
        weights = y[:, 1].astype(float) if self.use_weights else None
        self.classifier_ = clone(self.classifier).fit(X, labels, sample_weight=weights)
        self.classes_ = self.classifier_.classes_
        return self

    def predict_proba(self, X):
        return self.classifier_.predict_proba(X)

    def predict(self, X):
        return self.classifier_.predict(X)


def get_estimator(n_estimators=100, max_depth=3, learning_rate=0.1, use_weights=False):
    classifier = GradientBoostingClassifier(
        n_estimators=n_estimators, max_depth=max_depth, learning_rate=learning_rate,
        random_state=0)
    return LabelOf(classifier, use_weights=use_weights)
