"""A toy signal/background data set in the Higgs challenge's format: ``rampconf-data higgs_toy``.

Files (under ``<data_root>/higgs_toy/``): ``train.csv`` and ``test.csv`` with
the columns ``EventId``, four features ``mass``, ``pt``, ``eta``, ``met``,
``Weight`` (the event weight) and ``Label`` (``s`` signal, ``b`` background).

Events are drawn from four processes: a signal (a resonance at 125 in
``mass``) and three backgrounds (falling ``mass`` spectra of different
slopes). As in a simulation, an event's weight is its process's cross-section
x luminosity / number of events generated, so weights take one value per
process: the signal is about a third of the events but carries a small total
weight, the background a large one.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from rampconf.datasets import BaseDataset
from rampconf.errors import DataError
from rampconf.outputs import write_atomic

__all__ = ["COLUMNS", "PROCESSES", "HiggsToy", "toy_events"]

#: Columns of a file, in this order.
COLUMNS: tuple[str, ...] = ("EventId", "mass", "pt", "eta", "met", "Weight", "Label")
#: Processes: (label, share of the events, total weight, mass slope or None for the signal).
PROCESSES: tuple[tuple[str, float, float, float | None], ...] = (
    ("s", 0.34, 40.0, None),
    ("b", 0.33, 200.0, 40.0),
    ("b", 0.22, 150.0, 70.0),
    ("b", 0.11, 100.0, 120.0),
)


def toy_events(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` toy events (no ``EventId``): features, ``Weight`` and ``Label``.

    Process ``p`` gets ``round(n * share_p)`` events (the last one the rest,
    at least one each when ``n >= 4``) of weight ``total_weight_p / n_p``.
    """
    counts = [max(1, round(n * share)) if n >= len(PROCESSES) else 0
              for _, share, _, _ in PROCESSES[:-1]]
    counts.append(n - sum(counts))
    if counts[-1] < 0:
        raise DataError(f"need at least {len(PROCESSES)} events, got {n}")
    parts = []
    for (label, _, total, slope), count in zip(PROCESSES, counts, strict=True):
        if count == 0:
            continue
        if slope is None:
            mass = rng.normal(125.0, 12.0, count)
            pt = rng.gamma(4.0, 15.0, count)
            met = rng.gamma(3.0, 12.0, count)
            eta = rng.normal(0.0, 1.0, count)
        else:
            mass = 60.0 + rng.exponential(slope, count)
            pt = rng.gamma(2.5, 15.0, count)
            met = rng.gamma(2.0, 12.0, count)
            eta = rng.normal(0.0, 1.6, count)
        parts.append(pd.DataFrame({
            "mass": mass.round(3), "pt": pt.round(3), "eta": eta.round(3),
            "met": met.round(3), "Weight": np.full(count, total / count),
            "Label": label}))
    frame = pd.concat(parts, ignore_index=True)
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


class HiggsToy(BaseDataset):
    """A seeded toy signal/background set with event weights (the ``higgs_toy`` problem's data).

    ``generate(n_train, n_test, seed)`` writes ``train.csv`` and ``test.csv``
    (see :func:`toy_events`); the same seed gives the same files. Nothing is
    downloaded: the data set is synthetic.
    """

    folder: ClassVar[str] = "higgs_toy"
    files: ClassVar[tuple[str, ...]] = ("train.csv", "test.csv")

    def how_to_get(self, problem: str) -> str:
        return (f"to get data: rampconf-data higgs_toy generate --data-root {self.data_root} "
                "(a seeded synthetic set)")

    def check(self) -> None:
        for name in self.files:
            path = self.path / name
            if not path.exists():
                raise DataError(f"{path} is missing; {self.how_to_get('higgs_toy')}")
            header = pd.read_csv(path, nrows=0).columns.tolist()
            if header != list(COLUMNS):
                raise DataError(f"{path}: columns {header}, expected {list(COLUMNS)}")

    def generate(self, n_train: int, n_test: int, seed: int = 0) -> list[Path]:
        """Write ``train.csv`` and ``test.csv`` (``n_train``, ``n_test`` events); return paths."""
        if n_train < len(PROCESSES) or n_test < len(PROCESSES):
            raise DataError(f"n_train and n_test must be >= {len(PROCESSES)}, "
                            f"got {n_train} and {n_test}")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"cannot create {self.path}: {exc}") from None
        written = []
        offset = 0
        for split, (name, n) in enumerate(zip(self.files, (n_train, n_test), strict=True)):
            rng = np.random.default_rng(np.random.SeedSequence([seed, split]))
            frame = toy_events(n, rng)
            frame.insert(0, "EventId", np.arange(offset, offset + n))
            offset += n
            path = self.path / name
            write_atomic(path, frame.to_csv(index=False))
            written.append(path)
        return written
