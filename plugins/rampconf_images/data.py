"""The ``digits_images`` data set: scikit-learn's bundled digits written out as PNG files.

Files (under ``<data_root>/digits_images/``)
--------------------------------------------
``train/``, ``test/``
    One grey-level PNG per image (``00000.png``, ...), ``size`` × ``size``
    pixels (64 by default), dark strokes on a light background.
``train_labels.csv``, ``test_labels.csv``
    Columns ``id`` (the file name in the split's folder) and ``class`` (the
    digit, 0-9).

``rampconf-data digits_images generate --n-train N --n-test M --seed S``
draws each image from one of scikit-learn's 1,797 8×8 digits (the training
and test images come from two disjoint, seeded pools of those digits, 80% and
20%), upscales it with a random scale (±10%), shift (±8% of the size) and
background level, and adds pixel noise, so any number of images are
distinct. Image ``k`` of a split depends only on ``(seed, split, k)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from rampconf.datasets import BaseDataset
from rampconf.errors import DataError
from rampconf.outputs import atomic_path
from rampconf_images.readers import IMAGES

__all__ = ["DigitsImages", "digit_image"]


def digit_image(digit: np.ndarray, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """One 8×8 digit (values 0-16) as a jittered ``size`` × ``size`` uint8 image."""
    from PIL import Image

    ink = Image.fromarray((np.asarray(digit, dtype=float) * (255 / 16)).astype(np.uint8))
    scale = rng.uniform(0.9, 1.1)
    side = max(2, round(size * 0.8 * scale))
    glyph = np.asarray(ink.resize((side, side), Image.Resampling.BILINEAR), dtype=np.float32)
    canvas = np.zeros((size, size), dtype=np.float32)
    shift = 0.08 * size
    top = int(np.clip(round((size - side) / 2 + rng.uniform(-shift, shift)), 0, size - side))
    left = int(np.clip(round((size - side) / 2 + rng.uniform(-shift, shift)), 0, size - side))
    canvas[top:top + side, left:left + side] = glyph
    background = rng.uniform(200.0, 245.0)
    image = background - canvas * (background - rng.uniform(0.0, 40.0)) / 255.0
    image += rng.normal(0.0, 8.0, size=image.shape).astype(np.float32)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


class DigitsImages(BaseDataset):
    """scikit-learn's digits as PNG files plus labels CSVs (``generate`` only; no download)."""

    folder: ClassVar[str] = "digits_images"
    files: ClassVar[tuple[str, ...]] = ("train_labels.csv", "test_labels.csv")
    folders: ClassVar[tuple[str, ...]] = ("train", "test")
    requires = IMAGES

    def how_to_get(self, problem: str) -> str:
        return (f"to get data: rampconf-data digits_images generate --data-root {self.data_root} "
                "(PNG files from scikit-learn's bundled digits)")

    def check(self) -> None:
        """Raise ``DataError`` when a labels file or a listed image is missing."""
        from rampconf_images.readers import ImageFolder, ImageFolderParams

        reader = ImageFolder(ImageFolderParams(
            train_folder=f"{self.folder}/train", train_labels=f"{self.folder}/train_labels.csv",
            test_folder=f"{self.folder}/test", test_labels=f"{self.folder}/test_labels.csv"),
            data_root=self.data_root)
        reader.check_files()
        reader.load("train")
        reader.load("test")

    def generate(self, n_train: int, n_test: int, seed: int = 0, *,
                 size: int = 64) -> list[Path]:
        """Write ``n_train`` + ``n_test`` seeded PNG images and their labels; return the CSVs.

        The labels CSV of a split is written last (under a temporary name, then
        renamed), so a complete CSV means every image it lists is on disk.
        """
        from PIL import Image
        from sklearn.datasets import load_digits

        if n_train < 0 or n_test < 0:
            raise DataError(f"n_train and n_test must be >= 0, got {n_train} and {n_test}")
        if size < 8:
            raise DataError(f"image size must be >= 8 pixels, got {size}")
        digits = load_digits()
        order = np.random.default_rng(np.random.SeedSequence([seed, 99])).permutation(
            len(digits.target))
        cut = int(0.8 * len(order))
        pools = (order[:cut], order[cut:])
        written = []
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"cannot create the data folder {self.path}: {exc}") from exc
        for split, (name, n_images) in enumerate(zip(self.folders, (n_train, n_test),
                                                     strict=True)):
            folder = self.path / name
            folder.mkdir(exist_ok=True)
            width = max(5, len(str(max(n_images - 1, 0))))
            labels = self.path / self.files[split]
            with atomic_path(labels) as part, open(part, "w", encoding="ascii",
                                                   newline="\n") as out:
                out.write("id,class\n")
                for k in range(n_images):
                    rng = np.random.default_rng(np.random.SeedSequence([seed, split, k]))
                    source = int(pools[split][rng.integers(len(pools[split]))])
                    image = digit_image(digits.images[source], rng, size)
                    file_name = f"{k:0{width}d}.png"
                    Image.fromarray(image).save(folder / file_name)
                    out.write(f"{file_name},{int(digits.target[source])}\n")
            written.append(labels)
        return written
