"""Higgs toy starting kit: gradient boosting on the four features, fitted on the labels.

``fit(X, y)`` gets the features and the labels (``s`` or ``b``), as in a RAMP
Higgs kit. The event weights are not features: the scores get them from the
data. Run with ``problem.workflow.sample_weight=true`` and ``fit`` also gets
them as ``sample_weight`` (the signal's total weight is small: trained with
the weights, the classifier calls almost everything background).
"""

from sklearn.ensemble import GradientBoostingClassifier


def get_estimator(n_estimators=100, max_depth=3, learning_rate=0.1):
    return GradientBoostingClassifier(n_estimators=n_estimators, max_depth=max_depth,
                                      learning_rate=learning_rate, random_state=0)
