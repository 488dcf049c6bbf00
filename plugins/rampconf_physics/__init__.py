"""Weighted physics scores (the Higgs challenge's AMS): per-sample weights that are not features.

A score that needs per-sample weights (event weights of a physics simulation,
cross-section x luminosity / events generated) cannot get them from the
engine, which calls ``score(y_true, y_pred)``. So the weights travel inside
the target:

* the ``weighted_csv`` reader returns ``y`` as an ``(n, 2)`` array
  ``(label, weight)`` from a target column and a weight column, and drops the
  weight column from the features (``X`` never holds it);
* the ``weighted_multiclass`` prediction type encodes it as an ``(n, 2)``
  float array ``(label index, weight)`` and otherwise behaves as
  ``multiclass`` (class probabilities, same checks, same bagging);
* the scores ``ams``, ``weighted_accuracy`` and ``weighted_roc_auc`` read the
  label indices from ``y_true[:, 0]`` and the weights from ``y_true[:, 1]``.

The ``higgs_toy`` data set (``rampconf-data higgs_toy generate``) writes a
seeded toy signal/background set in this format.
"""
