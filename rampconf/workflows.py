"""Workflows: how a submission's elements are trained and asked to predict.

Concrete workflows live in plugins and are registered under ``rampconf.workflows``.
:func:`predict_with` is what most workflows call to ask a fitted model for
the prediction type's kind of prediction.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from rampconf.plugin import ParamsT, Plugin
from rampconf.predictions import LabelIndex
from rampconf.submission import route_params

if TYPE_CHECKING:
    from rampconf.predictions import BasePrediction
    from rampconf.submission import Submission

__all__ = ["BaseWorkflow", "predict_with"]


def predict_with(model: Any, X: Any, prediction: BasePrediction, where: str) -> Any:
    """Call the prediction type's method (``predict`` or ``predict_proba``) of ``model``.

    Class probabilities are put in the problem's label order when the model
    tells its classes (``classes_``) and the prediction type its ``labels``,
    so a fold that lacks a class still works.

    Parameters
    ----------
    model
        A fitted model (a submission's estimator, classifier, regressor, ...).
    X
        What to predict.
    prediction
        The problem's prediction type; its ``predict_method`` names the method.
    where
        How errors name the model (``"the estimator"``, ``"classifier.py"``).

    Raises
    ------
    AttributeError
        The model has no such method.
    ValueError
        The model predicts classes that are not among the problem's labels.
    """
    method = getattr(model, prediction.predict_method, None)
    if method is None:
        raise AttributeError(f"{where} has no method {prediction.predict_method}(); "
                             f"the {type(prediction).__name__.lower()} prediction type needs it")
    y_pred = method(X)
    labels = getattr(prediction, "labels", None)
    classes = getattr(model, "classes_", None)
    if labels is None or classes is None or prediction.predict_method != "predict_proba":
        return y_pred
    # Classes compare with the labels as values (1 == 1.0), as the targets were encoded.
    classes = np.asarray(classes).tolist()
    positions = LabelIndex(labels).positions(classes)
    if positions.tolist() == list(range(len(labels))):
        return y_pred
    unknown = [c for c, p in zip(classes, positions.tolist(), strict=True) if p < 0]
    if unknown:
        raise ValueError(f"{where} predicts classes {unknown} that are not among the "
                         f"problem's labels {labels}")
    y_pred = np.asarray(y_pred, dtype=float)
    ordered = np.zeros((y_pred.shape[0], len(labels)))
    for j, position in enumerate(positions.tolist()):
        ordered[:, position] = y_pred[:, j]
    return ordered


class BaseWorkflow(Plugin[ParamsT]):
    """Base class of workflows.

    Lifecycle: built once per run. :meth:`check_submission` runs once, in an
    isolated process of its own (it imports the submission's files), before
    any data is read (files, callables and parameter names are checked
    there); the runner gets only the routed parameter names back. For each
    fold, in a fresh fold process (a pickled copy of the workflow, see
    :mod:`rampconf.isolation`), :meth:`train` fits a fresh model on the
    fold's training rows and :meth:`predict` is then called with that model
    on the whole training set and on the test set (features only); the
    prediction type's ``setup`` has run. What :meth:`predict` returns is
    sent back as plain data and checked by the prediction type's
    ``check_y_pred`` in the runner. An exception raised in either is the
    fold's failure, reported with the submission's traceback. Subclasses
    implement :meth:`train` and :meth:`predict`. A workflow whose
    :meth:`fits_weights` says so also gets the training rows' per-sample
    weights: :meth:`train` is then called with the keyword ``sample_weight``
    (never :meth:`predict`).

    Class attributes
    ----------------
    elements : dict
        Workflow element (file stem) -> name of the callable it must define
        (``{"estimator": "get_estimator"}``). Parameters of these callables
        are the submission's hyperparameters.
    """

    elements: ClassVar[dict[str, str]] = {}

    def check_submission(self, submission: Submission) -> dict[str, dict[str, Any]]:
        """Import every element, check its callable, route parameter overrides.

        Returns
        -------
        dict
            Element -> keyword arguments to pass to its callable.
        """
        return route_params(submission, self.elements)

    def fits_weights(self) -> bool:
        """Whether :meth:`train` gets the data's per-sample weights (``sample_weight=``).

        Asked once in the main process, after the data is read: a workflow
        that says yes on data without weights is a configuration error. The
        default is no.
        """
        return False

    @abc.abstractmethod
    def train(
        self,
        submission: Submission,
        routed: dict[str, dict[str, Any]],
        X: Any,
        y: np.ndarray,
        prediction: BasePrediction,
    ) -> Any:
        """Fit the submission on ``X, y`` (already restricted to the fold's training rows).

        ``y`` holds the raw targets; ``routed`` is what :meth:`check_submission`
        returned. Returns the fitted model (anything :meth:`predict` accepts).
        """

    @abc.abstractmethod
    def predict(self, model: Any, X: Any, prediction: BasePrediction) -> Any:
        """Predict ``X`` with a model returned by :meth:`train` (checked by ``prediction``)."""
