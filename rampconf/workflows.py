"""Workflows: how a submission's elements are trained and asked to predict.

Concrete workflows live in plugins and are registered under ``rampconf.workflows``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rampconf.plugin import Plugin
from rampconf.submission import route_params

if TYPE_CHECKING:
    import numpy as np

    from rampconf.predictions import BasePrediction
    from rampconf.submission import Submission

__all__ = ["BaseWorkflow"]


class BaseWorkflow(Plugin):
    """Base class of workflows.

    Lifecycle: built once per run. :meth:`check_submission` runs once in the
    main process before any fold (files, callables and parameter names are
    checked there). For each fold, in a worker, :meth:`train` fits a fresh
    model on the fold's training rows and :meth:`predict` is called on the
    whole training set and on the test set; the result is checked by the
    prediction type.

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

    def train(
        self,
        submission: Submission,
        routed: dict[str, dict[str, Any]],
        X: Any,
        y: np.ndarray,
        prediction: BasePrediction,
    ) -> Any:
        """Fit the submission on ``X, y`` (already restricted to the fold's training rows)."""
        raise NotImplementedError

    def predict(self, model: Any, X: Any, prediction: BasePrediction) -> Any:
        """Predict ``X`` with a model returned by :meth:`train`."""
        raise NotImplementedError
