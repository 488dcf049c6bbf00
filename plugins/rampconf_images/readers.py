"""The ``image_folder`` reader: image files in a folder plus a labels CSV, decoded lazily."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from rampconf.errors import DataError
from rampconf.extras import Extra
from rampconf.plugin import StrictModel
from rampconf.readers import BaseReader, Dataset, Split

__all__ = ["IMAGES", "ImageCollection", "ImageFolder", "ImageFolderParams", "decode_image"]

#: The extra that installs Pillow, which decodes and writes the image files.
IMAGES = Extra("images", ("PIL",))

#: Columns of a labels CSV: the image file name (relative to the folder) and its class.
ID_COLUMN = "id"
CLASS_COLUMN = "class"


def decode_image(path: Path) -> np.ndarray:
    """One image file as a 2-D uint8 array (grey levels; colour images are converted).

    Raises
    ------
    DataError
        When the file is missing or is not an image Pillow can read.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("L"), dtype=np.uint8)
    except FileNotFoundError:
        raise DataError(f"{path}: image file not found") from None
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise DataError(f"{path}: not a readable image ({exc})") from None


class ImageCollection:
    """A lazy, ordered collection of image files (paths only; decoded on iteration).

    Holds the folder and one file name per image; nothing is read from disk
    until :meth:`batches` (or :meth:`load`) is iterated, so a collection of
    any size costs the memory of its file names.

    Parameters
    ----------
    folder
        The folder the names are relative to.
    names
        File names, one per image, in the order of the data set.
    """

    def __init__(self, folder: Path, names: Any) -> None:
        self.folder = Path(folder)
        self.names = np.asarray(names, dtype=str)

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        return f"ImageCollection({str(self.folder)!r}, {len(self)} images)"

    @property
    def paths(self) -> list[Path]:
        """The full path of every image, in order."""
        return [self.folder / name for name in self.names.tolist()]

    def take_rows(self, indices: Any) -> ImageCollection:
        """The images at ``indices`` (in that order), still lazy."""
        return ImageCollection(self.folder, self.names[np.asarray(indices, dtype=np.int64)])

    def missing(self) -> list[Path]:
        """Paths of the images that do not exist on disk."""
        return [path for path in self.paths if not path.is_file()]

    def load(self, index: int) -> np.ndarray:
        """Decode image ``index`` (a 2-D uint8 array)."""
        return decode_image(self.folder / str(self.names[index]))

    def batches(self, batch_size: int = 256) -> Iterator[np.ndarray]:
        """Decoded images in order, ``batch_size`` at a time (the last batch may be smaller).

        Each batch is a uint8 array ``(b, height, width)``; only one batch is
        in memory at a time (plus what the caller keeps).

        Raises
        ------
        DataError
            A missing or unreadable file, or images of different sizes in a batch.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        for start in range(0, len(self), batch_size):
            images = [self.load(i) for i in range(start, min(start + batch_size, len(self)))]
            shapes = {image.shape for image in images}
            if len(shapes) > 1:
                raise DataError(f"{self.folder}: images of different sizes in one batch "
                                f"({sorted(shapes)}); all images must share one size")
            yield np.stack(images)


class ImageFolderParams(StrictModel):
    """Parameters of the ``image_folder`` reader."""

    train_folder: str = Field(description="folder of the training images, relative to "
                                          "data_root")
    train_labels: str = Field(description="labels CSV of the training images: columns id "
                                          "(file name in the folder) and class")
    test_folder: str = Field(description="folder of the test images, relative to data_root")
    test_labels: str = Field(description="labels CSV of the test images")
    labels: list[str | int] | None = Field(None, description="the allowed classes; null: any")


class ImageFolder(BaseReader[ImageFolderParams]):
    """Images as files in a folder (PNG, JPEG, ... anything Pillow reads) plus a labels CSV.

    The labels CSV of a split has a column ``id`` (the image file name,
    relative to the split's folder) and a column ``class``. ``X`` is a lazy
    :class:`ImageCollection` (file names only: a data set larger than memory
    works), ``y`` the class labels. Every listed file must exist (checked at
    load time; the error lists the first missing ones).
    """

    requires = IMAGES

    def files(self) -> dict[str, Path]:
        # Only files are listed (their SHA-256 goes in the run's metadata); the
        # folders are checked by check_files.
        p = self.params
        return {
            "train_labels": self.data_root / p.train_labels,
            "test_labels": self.data_root / p.test_labels,
        }

    def folders(self) -> dict[str, Path]:
        """The image folders, by role."""
        p = self.params
        return {
            "train_folder": self.data_root / p.train_folder,
            "test_folder": self.data_root / p.test_folder,
        }

    def check_files(self) -> None:
        super().check_files()
        missing = {role: path for role, path in self.folders().items() if not path.is_dir()}
        if missing:
            listed = ", ".join(f"{role}: {path}" for role, path in missing.items())
            raise DataError(
                f"missing image folders ({listed}); data_root is {self.data_root}: "
                "set data_root=PATH or the RAMPCONF_DATA_ROOT environment variable")

    def load(self, split: Split) -> Dataset:
        path = self.files()[f"{split}_labels"]
        folder = self.folders()[f"{split}_folder"]
        try:
            frame = pd.read_csv(path, dtype={ID_COLUMN: str})
        except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError,
                pd.errors.EmptyDataError) as exc:
            raise DataError(f"{path}: not a readable CSV file ({exc})") from None
        absent = [c for c in (ID_COLUMN, CLASS_COLUMN) if c not in frame.columns]
        if absent:
            raise DataError(f"{path}: missing column(s) {absent}; the file has "
                            f"{list(frame.columns)}")
        if frame[[ID_COLUMN, CLASS_COLUMN]].isna().any().any():
            raise DataError(f"{path}: empty values in the columns {ID_COLUMN}, {CLASS_COLUMN}")
        allowed = self.params.labels
        y = frame[CLASS_COLUMN].to_numpy()
        if allowed is not None:
            text = {str(label) for label in allowed}
            unknown = sorted({str(v) for v in y.tolist()} - text)
            if unknown:
                raise DataError(f"{path}: classes {unknown[:5]} are not among the labels "
                                f"{list(allowed)}")
        images = ImageCollection(folder, frame[ID_COLUMN].to_numpy(dtype=str))
        missing = images.missing()
        if missing:
            shown = ", ".join(str(p) for p in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise DataError(f"{path}: {len(missing)} image file(s) listed in the labels are "
                            f"missing: {shown}{more}")
        return Dataset(X=images, y=y)
