"""Weighted physics scores (the Higgs challenge's AMS): per-sample weights that are not features.

A score that needs per-sample weights (event weights of a physics simulation,
cross-section x luminosity / events generated) gets them from the engine,
beside ``y_true`` and ``y_pred``, never from the target:

* the ``weighted_csv`` reader returns the labels as ``y`` and the weight
  column as the data set's per-sample weights (``Dataset.weights``), and drops
  the weight column from the features (``X`` never holds it);
* the problem's prediction type is the plain ``multiclass`` (class
  probabilities), so a RAMP Higgs submission's ``fit(X, y)`` gets the labels;
* the scores ``ams``, ``weighted_accuracy`` and ``weighted_roc_auc`` are
  weighted scores (:class:`~rampconf.scores.BaseWeightedScore`): the engine
  gives them the weights of the rows they score;
* ``fit`` gets the weights as ``sample_weight`` only when the workflow says so
  (``problem.workflow.sample_weight=true`` with the tabular workflows).

The ``higgs_toy`` data set (``rampconf-data higgs_toy generate``) writes a
seeded toy signal/background set in this format.
"""
