"""A seeded synthetic set of periodic light curves: ``rampconf-data light_curves generate``.

Files (under ``<data_root>/light_curves/``), two per split, joined on ``id``:

* ``{split}_meta.csv``: ``id``, ``class`` and ``mean_error`` (the star's
  photometric error, a scalar feature);
* ``{split}_curves.csv``: ``id``, ``times`` and ``magnitudes``, arrays
  written as ``"[t0, t1, ...]"``, 30 to 120 irregularly sampled points a star.

Classes differ by shape and period range: ``sinusoidal`` (2-10 days),
``pulsating`` (sawtooth: fast rise, slow decline, 0.3-1 day), ``eclipsing``
(flat with a primary and a secondary dip, 0.5-3 days) and ``constant`` (no
variation). Amplitudes, base magnitudes and noise vary from star to star.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from rampconf.datasets import BaseDataset
from rampconf.errors import DataError
from rampconf.outputs import write_atomic

__all__ = ["CLASSES", "LightCurves", "light_curve", "toy_stars"]

#: The classes, in label order.
CLASSES: tuple[str, ...] = ("constant", "eclipsing", "pulsating", "sinusoidal")
#: Period range (days) of each periodic class.
PERIODS: dict[str, tuple[float, float]] = {
    "sinusoidal": (2.0, 10.0), "pulsating": (0.3, 1.0), "eclipsing": (0.5, 3.0)}
#: Observing window (days) and number of points a star.
BASELINE = 100.0
N_POINTS = (30, 120)


def light_curve(kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """``(times, magnitudes, error)`` of one star of class ``kind``."""
    n = int(rng.integers(N_POINTS[0], N_POINTS[1] + 1))
    times = np.sort(rng.uniform(0.0, BASELINE, n))
    error = float(rng.uniform(0.01, 0.05))
    base = rng.uniform(12.0, 16.0)
    if kind == "constant":
        signal: np.ndarray = np.zeros(n)
    else:
        low, high = PERIODS[kind]
        period = float(np.exp(rng.uniform(np.log(low), np.log(high))))
        phase = (times / period + rng.uniform()) % 1.0
        amplitude = rng.uniform(0.2, 0.8)
        if kind == "sinusoidal":
            signal = amplitude * np.sin(2 * np.pi * phase)
        elif kind == "pulsating":  # magnitudes: brightening (down) fast, fading slowly
            rise = 0.15
            signal = amplitude * np.where(phase < rise, 0.5 - phase / rise,
                                          -0.5 + (phase - rise) / (1 - rise))
        else:  # eclipsing: dips (fainter, larger magnitude) at phases 0 and 0.5
            width = rng.uniform(0.04, 0.1)
            primary = np.minimum(phase, 1.0 - phase)
            secondary = np.abs(phase - 0.5)
            signal = amplitude * (np.exp(-0.5 * (primary / width) ** 2)
                                  + 0.5 * np.exp(-0.5 * (secondary / width) ** 2))
    magnitudes = base + signal + rng.normal(0.0, error, n)
    return times, magnitudes, error


def _array_string(values: np.ndarray, decimals: int) -> str:
    return "[" + ", ".join(f"{v:.{decimals}f}" for v in values) + "]"


def toy_stars(n: int, rng: np.random.Generator, first_id: int = 0
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` stars, classes balanced then shuffled: the meta and the curves tables.

    The curves table lists the stars in a different (shuffled) order, so a
    reader must join on ``id``.
    """
    kinds = np.array([CLASSES[i % len(CLASSES)] for i in range(n)])[rng.permutation(n)]
    ids = np.arange(first_id, first_id + n)
    meta, curves = [], []
    for star, kind in zip(ids, kinds, strict=True):
        times, magnitudes, error = light_curve(str(kind), rng)
        meta.append({"id": int(star), "class": str(kind),
                     "mean_error": round(error * rng.uniform(0.9, 1.1), 4)})
        curves.append({"id": int(star), "times": _array_string(times, 4),
                       "magnitudes": _array_string(magnitudes, 4)})
    order = rng.permutation(n)
    return pd.DataFrame(meta), pd.DataFrame(curves).iloc[order].reset_index(drop=True)


class LightCurves(BaseDataset):
    """A seeded synthetic light-curve set (the ``light_curves`` problem's data).

    ``generate(n_train, n_test, seed)`` writes ``{train,test}_meta.csv`` and
    ``{train,test}_curves.csv`` (see :func:`toy_stars`); the same seed gives
    the same files. Nothing is downloaded.
    """

    folder: ClassVar[str] = "light_curves"
    files: ClassVar[tuple[str, ...]] = ("train_meta.csv", "train_curves.csv",
                                        "test_meta.csv", "test_curves.csv")

    def how_to_get(self, problem: str) -> str:
        return (f"to get data: rampconf-data light_curves generate --data-root "
                f"{self.data_root} (a seeded synthetic set)")

    def check(self) -> None:
        expected = {"meta": ["id", "class", "mean_error"],
                    "curves": ["id", "times", "magnitudes"]}
        for name in self.files:
            path = self.path / name
            if not path.exists():
                raise DataError(f"{path} is missing; {self.how_to_get('light_curves')}")
            header = pd.read_csv(path, nrows=0).columns.tolist()
            wanted = expected[name.split("_")[1].removesuffix(".csv")]
            if header != wanted:
                raise DataError(f"{path}: columns {header}, expected {wanted}")

    def generate(self, n_train: int, n_test: int, seed: int = 0) -> list[Path]:
        """Write the four files (``n_train``, ``n_test`` stars); return their paths."""
        if n_train < len(CLASSES) or n_test < len(CLASSES):
            raise DataError(f"n_train and n_test must be >= {len(CLASSES)}, "
                            f"got {n_train} and {n_test}")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"cannot create {self.path}: {exc}") from None
        written = []
        offset = 0
        for index, (split, n) in enumerate((("train", n_train), ("test", n_test))):
            rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
            meta, curves = toy_stars(n, rng, first_id=offset)
            offset += n
            for kind, frame in (("meta", meta), ("curves", curves)):
                path = self.path / f"{split}_{kind}.csv"
                write_atomic(path, frame.to_csv(index=False))
                written.append(path)
        return written
