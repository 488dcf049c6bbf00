"""The Mars craters data set: download the public RAMP files or generate a synthetic set.

Files (under ``<data_root>/mars_craters/``)
-------------------------------------------
``data_train.npy``, ``data_test.npy``
    uint8 arrays of shape ``(n_images, H, W)`` with ``H == W`` (224 in the
    RAMP data): grey-level images of the Martian surface.
``labels_train.csv``, ``labels_test.csv``
    One row per crater with the columns ``i,row_p,col_p,radius_p``: the index
    of the image in the matching ``.npy`` file, the centre (row, column, in
    pixels) and the radius (pixels).

The mini set of the ramp-kits (30 + 30 images) uses the same format with the
names ``data_train_mini.npy``, ... (:attr:`MarsCraters.mini_files`), which the
``mars_craters`` problem reads by default; ``download`` and ``check`` take
``mini=True`` to work on those names instead.

A generated set is written under both names by default (the ``_mini`` names
are hard links to the full names, copies where links are not supported), so
the problem's default paths and configurations naming the full files both
find it; ``generate(..., names="full")`` or ``names="mini"`` writes one set.

``rampconf-data mars_craters download`` fetches ``<base_url>/<file>`` for each
file with the engine's downloader (resume, progress, SHA-256 check of the mini
files, rename into place); ``rampconf-data mars_craters generate``
writes a seeded synthetic set in the same format (see
:func:`synthetic_image`) for offline demos and tests.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from rampconf.datasets import BaseDataset
from rampconf.errors import DataError
from rampconf.outputs import atomic_path

__all__ = [
    "LABEL_COLUMNS",
    "MarsCraters",
    "check_images",
    "check_labels",
    "load_labels",
    "synthetic_image",
    "synthetic_terrain",
]

#: Columns of a labels file, in this order.
LABEL_COLUMNS: tuple[str, ...] = ("i", "row_p", "col_p", "radius_p")

# Synthetic craters: radius range, expected count per image and its cap, and the
# outer edge of a crater's footprint (in radii): beyond it a crater changes nothing.
MIN_RADIUS = 4.0
MAX_RADIUS = 20.0
MEAN_CRATERS = 3.0
MAX_CRATERS = 8
RIM_EXTENT = 1.3


# ---------------------------------------------------------------------------
# Checking and reading files
# ---------------------------------------------------------------------------


def check_images(path: str | os.PathLike[str]) -> int:
    """Check that ``path`` is a complete ``.npy`` of uint8 square images; return how many.

    Raises
    ------
    DataError
        When the file does not load (truncated, not a ``.npy``), is not uint8,
        is not 3-D ``(n, H, W)`` with ``H == W``, or has trailing bytes.
    """
    path = Path(path)
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npy file ({exc})") from exc
    if not isinstance(array, np.ndarray):
        raise DataError(f"{path}: expected one array, got {type(array).__name__}")
    if array.dtype != np.uint8:
        raise DataError(f"{path}: expected dtype uint8, got {array.dtype}")
    if array.ndim != 3 or array.shape[1] != array.shape[2]:
        raise DataError(
            f"{path}: expected shape (n_images, H, W) with H == W, got {array.shape}")
    offset = getattr(array, "offset", None)
    if offset is not None and path.stat().st_size != offset + array.nbytes:
        raise DataError(
            f"{path}: {path.stat().st_size} bytes on disk, "
            f"expected {offset + array.nbytes} for shape {array.shape}")
    return int(array.shape[0])


def _read_labels(path: Path, n_images: int | None) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc})") from exc
    columns = [str(column) for column in frame.columns]
    if columns != list(LABEL_COLUMNS):
        raise DataError(
            f"{path}: expected columns {','.join(LABEL_COLUMNS)}, got {','.join(columns)}")
    try:
        values = frame.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{path}: non-numeric values in the labels ({exc})") from exc
    if not np.isfinite(values).all():
        raise DataError(f"{path}: missing or infinite values in the labels")
    index, radius = values[:, 0], values[:, 3]
    if (index != np.round(index)).any() or (index < 0).any():
        raise DataError(f"{path}: column i must hold image indices (integers >= 0)")
    if (radius <= 0).any():
        raise DataError(f"{path}: column radius_p must be > 0")
    if n_images is not None and len(index) and index.max() >= n_images:
        raise DataError(
            f"{path}: image index {int(index.max())} out of range; "
            f"the images file holds {n_images} images")
    return frame


def check_labels(path: str | os.PathLike[str], n_images: int | None = None) -> int:
    """Check a labels CSV (columns exactly ``i,row_p,col_p,radius_p``); return its row count.

    Parameters
    ----------
    path
        The CSV file.
    n_images
        Number of images of the matching ``.npy``; when given, every ``i``
        must be below it.

    Raises
    ------
    DataError
        When the file does not parse, has other columns, non-numeric or missing
        values, non-integer or out-of-range indices, or radii that are not > 0.
    """
    return len(_read_labels(Path(path), n_images))


def load_labels(path: str | os.PathLike[str], n_images: int) -> list[np.ndarray]:
    """Read a Mars craters labels CSV into one array per image.

    Parameters
    ----------
    path
        CSV with the columns ``i,row_p,col_p,radius_p``, one row per crater.
    n_images
        Number of images (of the matching ``.npy``); images without a crater
        get an empty array.

    Returns
    -------
    list of numpy.ndarray
        ``n_images`` float arrays of shape ``(k, 3)``: per crater its row,
        column and radius, in the order of the file.

    Raises
    ------
    DataError
        When the file is not a valid labels file (see :func:`check_labels`).
    """
    from rampconf_detection.readers import group_by_image

    values = _read_labels(Path(path), n_images).to_numpy(dtype=float)
    return list(group_by_image(values[:, 0], values[:, 1:].reshape(-1, 3), n_images))


# ---------------------------------------------------------------------------
# Synthetic images
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _knots(size: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel: the coarse-grid knot on its left and its eased weight towards the next one."""
    position = np.arange(size) * cells / max(size - 1, 1)
    left = np.minimum(np.floor(position).astype(int), cells - 1)
    t = position - left
    return left, (1 - np.cos(np.pi * t)) / 2  # cosine easing: smooth across the knots


def _upsample(coarse: np.ndarray, size: int) -> np.ndarray:
    """Smoothly interpolate a ``(cells + 1, cells + 1)`` grid to ``(size, size)`` pixels.

    Separable and element-wise (no BLAS call: small matrix products spawn
    threads that crawl on a busy machine).
    """
    left, t = _knots(size, coarse.shape[0] - 1)
    t = t.astype(coarse.dtype)
    rows = coarse[left] * (1 - t)[:, None] + coarse[left + 1] * t[:, None]
    return rows[:, left] * (1 - t) + rows[:, left + 1] * t


#: Octaves of the terrain: (coarse grid cells, standard deviation in grey levels).
_OCTAVES = ((3, 18.0), (10, 9.0), (40, 6.0))
_PIXEL_NOISE = 6.0


def synthetic_terrain(rng: np.random.Generator, size: int = 224) -> np.ndarray:
    """A crater-free terrain: pixel noise plus smooth low-frequency noise (float32, unclipped).

    :func:`synthetic_image` draws the terrain first with the same generator, so
    ``synthetic_terrain(np.random.default_rng(s), n)`` is exactly the
    background of ``synthetic_image(np.random.default_rng(s), n)``.
    """
    image = rng.standard_normal((size, size), dtype=np.float32)
    image *= _PIXEL_NOISE
    image += rng.uniform(105.0, 150.0)
    for cells, std in _OCTAVES:
        coarse = rng.standard_normal((cells + 1, cells + 1), dtype=np.float32)
        image += _upsample(coarse * np.float32(std), size)
    return image


def _draw_crater(image: np.ndarray, row: float, col: float, radius: float,
                 sun: tuple[float, float], amplitude: float) -> None:
    """Add one sun-lit crater to ``image`` in place (footprint: ``RIM_EXTENT`` radii)."""
    size = image.shape[0]
    reach = RIM_EXTENT * radius
    r0, r1 = max(int(np.floor(row - reach)), 0), min(int(np.ceil(row + reach)) + 1, size)
    c0, c1 = max(int(np.floor(col - reach)), 0), min(int(np.ceil(col + reach)) + 1, size)
    if r0 >= r1 or c0 >= c1:
        return
    dy = np.arange(r0, r1)[:, None] - row
    dx = np.arange(c0, c1)[None, :] - col
    dist = np.hypot(dy, dx)
    d = dist / radius
    # u: cosine between the pixel's offset from the centre and the direction of the sun.
    u = (dy * sun[0] + dx * sun[1]) / np.maximum(dist, 1e-9)
    # Inside: a dark floor; the wall on the sun's side lies in shadow, the far wall is lit.
    inside = -0.35 - 0.85 * u * np.sqrt(d)
    # Raised rim: bright overall, brightest where its outer slope faces the sun.
    rim = (0.4 + 0.25 * u) * (1 - (d - 1) / (RIM_EXTENT - 1))
    delta = np.where(d < 1, inside, np.where(d < RIM_EXTENT, rim, 0.0))
    image[r0:r1, c0:c1] += amplitude * delta


def _round(value: float, digits: int) -> float:
    """Round through the decimal text so the CSV round-trips to exactly this float."""
    return float(f"{value:.{digits}f}")


def synthetic_image(rng: np.random.Generator, size: int = 224) -> tuple[np.ndarray, np.ndarray]:
    """One synthetic crater image and its labels.

    The terrain is :func:`synthetic_terrain`. The number of craters is Poisson
    with mean ``MEAN_CRATERS`` capped at ``MAX_CRATERS`` (so 0 happens); radii
    follow a power law on ``[MIN_RADIUS, MAX_RADIUS]`` (small craters are more
    common); centres are uniform over the image, so a crater near the border
    is partly outside it (its centre is always inside, ``0 <= row, col <=
    size - 1``). Craters do not overlap: their footprints (``RIM_EXTENT``
    radii) are disjoint. Each is lit by a sun roughly from the left: a dark
    floor, a shadowed wall on the sun's side, a bright far wall and a bright
    raised rim; pixels beyond ``RIM_EXTENT`` radii of every crater are terrain.

    Returns
    -------
    image : numpy.ndarray
        uint8 array ``(size, size)``.
    circles : numpy.ndarray
        float array ``(k, 3)``: row, column, radius of each drawn crater
        (exactly the values used to draw it; row and column to 0.1 pixel,
        radius to 0.01).
    """
    image = synthetic_terrain(rng, size)
    angle = np.pi + rng.normal(0.0, 0.3)  # sun towards -column: light from the left
    sun = (float(np.sin(angle)), float(np.cos(angle)))
    wanted = min(int(rng.poisson(MEAN_CRATERS)), MAX_CRATERS)
    circles: list[tuple[float, float, float]] = []
    for _ in range(4 * wanted):
        if len(circles) == wanted:
            break
        radius = _round(MIN_RADIUS * (MAX_RADIUS / MIN_RADIUS) ** (rng.random() ** 1.6), 2)
        row = _round(rng.uniform(0, size - 1), 1)
        col = _round(rng.uniform(0, size - 1), 1)
        if any(np.hypot(row - r, col - c) < RIM_EXTENT * (radius + q) for r, c, q in circles):
            continue
        circles.append((row, col, radius))
        _draw_crater(image, row, col, radius, sun, rng.uniform(45.0, 80.0))
    pixels = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return pixels, np.array(circles, dtype=float).reshape(-1, 3)


# ---------------------------------------------------------------------------
# The data set plugin
# ---------------------------------------------------------------------------


def _labels_for(name: str) -> str | None:
    """``data_train.npy`` for ``labels_train.csv`` (None for an images file)."""
    if name.startswith("labels_") and name.endswith(".csv"):
        return "data_" + name[len("labels_"):-len(".csv")] + ".npy"
    return None


class MarsCraters(BaseDataset):
    """Mars craters (RAMP ``mars_craters``): download the public files or generate a set.

    ``download`` is the engine's (:meth:`BaseDataset.fetch`): it resumes an
    interrupted file (HTTP ``Range``), checks each file's SHA-256 (the mini
    set's are known: :attr:`sha256`) and that it loads before giving it its
    final name, and skips files already present and valid. ``generate``
    writes a seeded synthetic set in the same format, by default under both
    the full names and the ``_mini`` names of the ramp-kits mini set (the
    problem's default).
    """

    folder: ClassVar[str] = "mars_craters"
    files: ClassVar[tuple[str, ...]] = (
        "data_train.npy", "data_test.npy", "labels_train.csv", "labels_test.csv")
    mini_files: ClassVar[tuple[str, ...]] = (
        "data_train_mini.npy", "data_test_mini.npy",
        "labels_train_mini.csv", "labels_test_mini.csv")
    default_base_url: ClassVar[str | None] = "https://storage.ramp.studio/mars_craters_2"
    #: The public mini files of the ramp-kits (30 + 30 images).
    sha256: ClassVar[Mapping[str, str]] = {
        "data_train_mini.npy": "3029244eda580a560341f7b52ad2025f7d555b85dbffdfaaaf31b82a22e3e77c",
        "data_test_mini.npy": "959c77c564e9d5052e35a501537d983b229ebf20d29b02b5acddacd8da16a6e3",
        "labels_train_mini.csv":
            "698b28146f36aaa6453deb72b042d2e15d9e9614d30d7d8d00018e199ad9a796",
        "labels_test_mini.csv":
            "76f5c1bb4abecfa38547c15dd163f17373a97b9e888581fd0a6a3ba1844bafba",
    }

    def file_names(self, mini: bool = False) -> tuple[str, ...]:
        """The file names: images first, then labels (the mini set's with ``mini=True``)."""
        return self.mini_files if mini else self.files

    def _make_folder(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"cannot create the data folder {self.path}: {exc}") from exc

    # -- checking -------------------------------------------------------

    def verify_file(self, name: str, path: Path) -> None:
        """Check one file (``path`` may be a ``.part``) as the file ``name``."""
        images = _labels_for(name)
        if images is None:
            check_images(path)
            return
        try:
            n_images: int | None = check_images(self.path / images)
        except DataError:
            n_images = None  # missing or invalid: reported on its own
        check_labels(path, n_images)

    def how_to_get(self, problem: str) -> str:
        root = self.data_root
        if problem == "mars_craters_full":
            return (f"to get them: rampconf-data mars_craters download --data-root {root} "
                    "(the public RAMP files)")
        return (f"the mini set is in RAMP's mars_craters kit; or run rampconf-data "
                f"mars_craters generate --data-root {root} (a synthetic set under both "
                f"names), or rampconf-data mars_craters download --data-root {root} "
                "(the full public files) and use problem=mars_craters_full")

    def check(self, *, mini: bool = False) -> None:
        """Raise ``DataError`` listing every missing or invalid file (all are checked)."""
        problems = []
        for name in self.file_names(mini):
            path = self.path / name
            if not path.is_file():
                problems.append(f"{name}: missing")
                continue
            try:
                self.verify_file(name, path)
            except DataError as exc:
                problems.append(str(exc))
        if problems:
            hint = ("fetch them with `rampconf-data mars_craters download` or write a synthetic "
                    "set with `rampconf-data mars_craters generate`")
            message = f"mars_craters data in {self.path} is incomplete: {'; '.join(problems)}"
            raise DataError(f"{message}; {hint}", lines=[*problems, hint])

    # -- downloading ----------------------------------------------------

    def download(self, base_url: str | None = None, quiet: bool = False, *,
                 mini: bool = False) -> list[Path]:
        """Fetch every missing or invalid file from ``<base_url>/<file>``; return the paths.

        ``mini=True`` fetches the ``_mini`` files instead (their SHA-256 is
        checked). See :meth:`BaseDataset.fetch`: partial files are resumed,
        and a file is renamed into place only once it passes its checks.
        """
        return self.fetch(self.file_names(mini), base_url, quiet,
                          rerun="rampconf-data mars_craters download" + (" --mini" if mini else ""))

    # -- generating -----------------------------------------------------

    def generate(self, n_train: int, n_test: int, seed: int = 0, *, size: int = 224,
                 names: str = "both") -> list[Path]:
        """Write a seeded synthetic set in the RAMP format; return the paths written.

        ``names`` chooses the file names: ``"full"`` writes ``data_train.npy``,
        ``data_test.npy``, ``labels_train.csv`` and ``labels_test.csv`` under
        :attr:`path`; ``"mini"`` the ``_mini`` names of the ramp-kits mini set
        (the ``mars_craters`` problem's default paths); ``"both"`` (default)
        the full names plus the ``_mini`` names as hard links to them (copies
        where links are not supported).

        Image ``k`` of a split is :func:`synthetic_image` with the generator
        ``np.random.default_rng(np.random.SeedSequence([seed, split, k]))``,
        ``split`` 0 for train and 1 for test: the same seed gives the same
        bytes. Images are written one by one into a ``.npy`` laid out by
        ``np.lib.format.open_memmap`` (memory holds one image at a time); every
        file is written under a temporary name and renamed when all are complete.
        """
        if names not in ("full", "mini", "both"):
            raise DataError(f"names must be 'full', 'mini' or 'both', got {names!r}")
        if n_train < 0 or n_test < 0:
            raise DataError(f"n_train and n_test must be >= 0, got {n_train} and {n_test}")
        if size < 16:
            raise DataError(f"image size must be >= 16 pixels, got {size}")
        self._make_folder()
        written = [self.path / name for name in self.file_names(names == "mini")]
        links = [self.path / name for name in self.mini_files] if names == "both" else []
        with contextlib.ExitStack() as stack:  # every file renamed at the end, or none
            tmp = {path: stack.enter_context(atomic_path(path)) for path in written + links}
            for split, n_images in enumerate((n_train, n_test)):
                self._write_split(tmp[written[split]], tmp[written[2 + split]], n_images,
                                  seed, split, size)
            for source, link in zip(written, links, strict=False):
                tmp[link].unlink()
                try:
                    os.link(tmp[source], tmp[link])
                except OSError:
                    shutil.copyfile(tmp[source], tmp[link])
        return written + links

    @staticmethod
    def _write_split(images: Path, labels: Path, n_images: int, seed: int, split: int,
                     size: int) -> None:
        # open_memmap writes the .npy header and sizes the file; the images then go in
        # one by one through a plain file handle, so memory stays at one image whatever n.
        header = np.lib.format.open_memmap(
            images, mode="w+", dtype=np.uint8, shape=(n_images, size, size))
        offset = int(header.offset)
        del header  # unmaps the file
        with open(images, "r+b") as pixels, \
                open(labels, "w", encoding="ascii", newline="\n") as out:
            pixels.seek(offset)
            out.write(",".join(LABEL_COLUMNS) + "\n")
            for k in range(n_images):
                rng = np.random.default_rng(np.random.SeedSequence([seed, split, k]))
                image, circles = synthetic_image(rng, size)
                pixels.write(image.tobytes())
                for row, col, radius in circles:
                    out.write(f"{k},{float(row)!r},{float(col)!r},{float(radius)!r}\n")
