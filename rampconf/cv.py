"""CV schemes: how the training set is split into folds (train, valid).

Concrete schemes live in plugins and are registered under ``rampconf.cv``.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

from rampconf.plugin import ParamsT, Plugin

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np

__all__ = ["BaseCV"]


class BaseCV(Plugin[ParamsT]):
    """Base class of CV schemes.

    Lifecycle: built once per run, before any data is read; :meth:`split` is
    called once, in the main process, after the training data is loaded and
    encoded and before any fold runs. It receives the training ``X``, the raw
    targets ``y`` and the problem's group labels (None without
    ``problem.data.groups``; a scheme with ``needs_groups`` always gets
    them). The folds are recorded in the run directory. Every random scheme
    takes a ``random_state`` parameter so that folds are reproducible.
    Subclasses implement :meth:`split`.
    """

    #: True when the scheme needs the problem's group column.
    needs_groups = False

    @abc.abstractmethod
    def split(
        self, X: Any, y: np.ndarray, groups: np.ndarray | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_indices, valid_indices)`` for each fold (row positions in ``y``)."""
