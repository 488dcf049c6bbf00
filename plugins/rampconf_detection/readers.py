"""Image readers: a stack of images in ``.npy`` plus a labels CSV of circles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import Field

from rampconf.errors import DataError
from rampconf.plugin import StrictModel
from rampconf.readers import BaseReader, Dataset, Split

__all__ = ["NpyImages", "NpyImagesParams", "group_by_image", "load_circle_labels"]


def load_circle_labels(path: Path, n_images: int, index: str, columns: list[str]
                       ) -> np.ndarray:
    """Labels CSV (one row per object) -> object array of per-image ``(k, len(columns))`` arrays.

    Raises
    ------
    DataError
        Missing columns, or an image index outside ``0..n_images-1``.
    """
    frame = pd.read_csv(path)
    missing = [c for c in [index, *columns] if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; the file has {list(frame.columns)}")
    image = frame[index].to_numpy()
    if len(image) and (image.min() < 0 or image.max() >= n_images):
        raise DataError(f"{path}: column {index!r} must hold image indices in 0..{n_images - 1}, "
                        f"got {image.min()}..{image.max()}")
    return group_by_image(image, frame[columns].to_numpy(dtype=float), n_images)


def group_by_image(image: np.ndarray, values: np.ndarray, n_images: int) -> np.ndarray:
    """Rows of ``values`` grouped by their image index: an object array of ``n_images`` arrays.

    Images without a row get an empty ``(0, values.shape[1])`` array; rows keep
    their file order within an image.
    """
    image = np.asarray(image).astype(np.int64)
    order = np.argsort(image, kind="stable")
    bounds = np.searchsorted(image[order], np.arange(n_images + 1))
    grouped = np.empty(n_images, dtype=object)
    for i in range(n_images):
        grouped[i] = values[order[bounds[i]:bounds[i + 1]]]
    return grouped


class NpyImagesParams(StrictModel):
    """Parameters of the ``npy_images`` reader."""

    train_images: str = Field(description=".npy of the training images (n, height, width), "
                                          "relative to data_root")
    train_labels: str = Field(description="labels CSV of the training images, one row per "
                                          "object, relative to data_root")
    test_images: str = Field(description=".npy of the test images, relative to data_root")
    test_labels: str = Field(description="labels CSV of the test images, relative to "
                                         "data_root")
    index: str = Field("i", description="column of the image index (0-based) in the labels "
                                        "CSV")
    columns: list[str] = Field(default_factory=lambda: ["row_p", "col_p", "radius_p"],
                               description="columns of an object in the labels CSV (a "
                                           "circle: row, col, radius)")


class NpyImages(BaseReader[NpyImagesParams]):
    """Images stored as one ``.npy`` array per split (memory-mapped) and a labels CSV.

    The images are opened with ``numpy.load(mmap_mode="r")`` once per split:
    folds and parallel workers share the file instead of copying it. The
    labels CSV holds one row per object: the image index column and the
    object's columns (for circles: row, col, radius).
    """

    def files(self) -> dict[str, Path]:
        p = self.params
        return {
            "train_images": self.data_root / p.train_images,
            "train_labels": self.data_root / p.train_labels,
            "test_images": self.data_root / p.test_images,
            "test_labels": self.data_root / p.test_labels,
        }

    def load(self, split: Split) -> Dataset:
        files = self.files()
        images_path = files[f"{split}_images"]
        try:
            images = np.load(images_path, mmap_mode="r")
        except (OSError, ValueError) as exc:
            raise DataError(f"{images_path}: could not open the {split} images: {exc}") from None
        if images.ndim < 3:
            raise DataError(f"{images_path}: expected images of shape (n, height, width), "
                            f"got shape {images.shape}")
        labels = load_circle_labels(files[f"{split}_labels"], len(images),
                                    self.params.index, self.params.columns)
        return Dataset(X=images, y=labels)
