"""CV schemes: how the training set is split into folds (train, valid).

Concrete schemes live in plugins and are registered under ``rampconf.cv``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rampconf.plugin import Plugin

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np

__all__ = ["BaseCV"]


class BaseCV(Plugin):
    """Base class of CV schemes.

    Lifecycle: built once per run; :meth:`split` is called once, in the main
    process, after the training data is loaded and before any fold runs. The
    folds are recorded in the run directory. Every random scheme takes a
    ``random_state`` parameter so that folds are reproducible.
    """

    #: True when the scheme needs the problem's group column.
    needs_groups = False

    def split(
        self, X: Any, y: np.ndarray, groups: np.ndarray | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_indices, valid_indices)`` for each fold."""
        raise NotImplementedError
