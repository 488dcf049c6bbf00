"""The ``image_classifier`` workflow: the submission is fed decoded images batch by batch.

Submission contract (``image_classifier.py`` with a class ``ImageClassifier``)
-----------------------------------------------------------------------------
``ImageClassifier(**params)``
    Built fresh for every fold; ``submission.params.NAME=VALUE`` sets a
    keyword argument.
``fit(batches, y)``
    ``batches`` is an :class:`ImageBatches` over the fold's training images:
    iterating it yields ``(images, labels)`` pairs, ``images`` a uint8 array
    ``(b, height, width)`` and ``labels`` the ``b`` raw class labels of those
    images (as in the labels CSV). It can be iterated several times (one pass
    per epoch); each pass decodes the files again, so memory holds one batch.
    ``len(batches)`` is the number of images, ``batches.n_batches`` the number
    of batches, ``batches.batch_size`` their size. ``y`` holds all the labels
    of the fold (small), in image order, for convenience.
``predict_proba(batches)``
    ``batches`` is an :class:`ImageBatches` without labels: iterating it
    yields uint8 arrays ``(b, height, width)`` only, in image order. Return a
    float array ``(len(batches), n_classes)``; columns follow ``classes_``
    when the model has it (put in the problem's label order), else the
    problem's ``labels``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import Field

from rampconf.plugin import StrictModel
from rampconf.workflows import BaseWorkflow, predict_with

if TYPE_CHECKING:
    from rampconf.predictions import BasePrediction
    from rampconf.submission import Submission

__all__ = ["ImageBatches", "ImageClassifier", "ImageClassifierParams"]


class ImageBatches:
    """A re-iterable stream of decoded image batches (with their labels when ``y`` is given).

    Parameters
    ----------
    images
        An :class:`~rampconf_images.readers.ImageCollection` (anything
        with ``__len__`` and ``batches(batch_size)``), or a uint8 array
        ``(n, height, width)`` already in memory.
    y
        Labels, one per image, or None (prediction).
    batch_size
        Images per batch (the last batch may be smaller).
    """

    def __init__(self, images: Any, y: np.ndarray | None = None, batch_size: int = 256) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if y is not None and len(y) != len(images):
            raise ValueError(f"{len(images)} images but {len(y)} labels")
        self.images = images
        self.y = None if y is None else np.asarray(y)
        self.batch_size = batch_size

    def __len__(self) -> int:
        return len(self.images)

    @property
    def n_batches(self) -> int:
        """Number of batches of one pass."""
        return -(-len(self) // self.batch_size)

    def _image_batches(self) -> Iterator[np.ndarray]:
        if hasattr(self.images, "batches"):
            yield from self.images.batches(self.batch_size)
            return
        for start in range(0, len(self), self.batch_size):
            yield np.asarray(self.images[start:start + self.batch_size])

    def __iter__(self) -> Iterator[Any]:
        if self.y is None:
            yield from self._image_batches()
            return
        start = 0
        for batch in self._image_batches():
            yield batch, self.y[start:start + len(batch)]
            start += len(batch)


class ImageClassifierParams(StrictModel):
    """Parameters of the ``image_classifier`` workflow."""

    batch_size: int = Field(256, ge=1, description="images decoded per batch (memory holds "
                                                   "one batch)")


class ImageClassifier(BaseWorkflow[ImageClassifierParams]):
    """``image_classifier.py``: an ``ImageClassifier`` with ``fit(batches, y)``, ``predict_proba``.

    The submission never gets the whole image set: ``fit`` and
    ``predict_proba`` receive an :class:`ImageBatches` that decodes the image
    files ``batch_size`` at a time, on every pass (see the module docstring
    for the full contract). Use with the ``multiclass`` prediction type.
    """

    elements: ClassVar[dict[str, str]] = {"image_classifier": "ImageClassifier"}

    def train(self, submission: Submission, routed: dict[str, dict[str, Any]], X: Any,
              y: np.ndarray, prediction: BasePrediction) -> Any:
        classifier = submission.build("image_classifier", "ImageClassifier", routed)
        batch_size = self.params.batch_size
        classifier.fit(ImageBatches(X, y, batch_size), np.asarray(y))
        return classifier

    def predict(self, model: Any, X: Any, prediction: BasePrediction) -> Any:
        batches = ImageBatches(X, None, self.params.batch_size)
        return predict_with(model, batches, prediction, "the image classifier")
