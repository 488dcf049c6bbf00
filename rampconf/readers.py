"""Data readers: files (or a bundled data set) -> a :class:`Dataset` per split.

Concrete readers live in plugins and are registered under ``rampconf.readers``.
Data paths in a problem are relative to the run's ``data_root``.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from rampconf.errors import DataError
from rampconf.plugin import ParamsT, Plugin

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["BaseReader", "Dataset", "Split", "head_rows", "stage_rows", "take_rows"]

Split = Literal["train", "test"]


@dataclass(frozen=True)
class Dataset:
    """One split of a problem's data.

    Attributes
    ----------
    X : object
        What the workflow passes to the submission (a DataFrame for tabular data).
    y : numpy.ndarray
        Raw targets, first axis the sample.
    groups : numpy.ndarray or None
        Group label of each sample, for group CV schemes.
    weights : numpy.ndarray or None
        Per-sample weights (finite, >= 0), e.g. the event weights of a
        simulation: never a feature and never in ``y``. Scores that need them
        (:class:`~rampconf.scores.BaseWeightedScore`) receive them; ``fit``
        receives them only when the workflow says so (``Estimator`` and the
        other tabular workflows: ``sample_weight: true``).
    """

    X: Any
    y: np.ndarray
    groups: np.ndarray | None = field(default=None)
    weights: np.ndarray | None = field(default=None)

    def __len__(self) -> int:
        return len(self.y)


def take_rows(X: Any, indices: np.ndarray) -> Any:
    """Rows ``indices`` of ``X`` (DataFrame, array, list or anything with ``take_rows``).

    Contiguous increasing indices of an array give a view. Other rows of a
    memory-mapped array are staged in a temporary memory-mapped file (see
    :func:`stage_rows`), so a fold never holds a copy of the data in memory;
    other arrays copy the rows, as NumPy does.
    """
    if hasattr(X, "iloc"):
        return X.iloc[indices]
    if isinstance(X, np.ndarray):
        indices = np.asarray(indices)
        start = int(indices[0]) if len(indices) else 0
        if len(indices) and np.array_equal(indices, np.arange(start, start + len(indices))):
            return X[start:start + len(indices)]
        if isinstance(X, np.memmap):
            return stage_rows(X, indices)
        return X[indices]
    if hasattr(X, "take_rows"):
        return X.take_rows(indices)
    return [X[i] for i in indices]


def head_rows(data: Dataset, n_rows: int) -> Dataset:
    """The first ``n_rows`` samples of ``data`` (all of them when it has fewer).

    What the kits' ``RAMP_TEST_MODE`` does (``X[:N], y[:N]``): deterministic,
    in the data's order, so a time series stays contiguous.
    """
    if len(data) <= n_rows:
        return data
    rows = np.arange(n_rows)
    return Dataset(X=take_rows(data.X, rows), y=data.y[:n_rows],
                   groups=None if data.groups is None else data.groups[:n_rows],
                   weights=None if data.weights is None else data.weights[:n_rows])


def stage_rows(X: np.memmap, indices: np.ndarray) -> np.memmap:
    """Rows ``indices`` of a memory map, written to a temporary memory-mapped file.

    The file is unlinked at once (the mapping keeps it until the array is
    freed), and rows are copied one contiguous run at a time, so memory holds
    at most one run of pages being written, never the whole selection.
    """
    import os
    import tempfile

    fd, path = tempfile.mkstemp(prefix="rampconf-rows-", suffix=".npy")
    os.close(fd)
    try:
        staged = np.lib.format.open_memmap(path, mode="w+", dtype=X.dtype,
                                           shape=(len(indices), *X.shape[1:]))
    finally:
        os.unlink(path)
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    position = 0
    for run in np.split(indices, breaks):
        staged[position:position + len(run)] = X[run[0]:run[0] + len(run)] \
            if np.all(np.diff(run) == 1) else X[run]
        position += len(run)
    staged.flush()
    return staged


class BaseReader(Plugin[ParamsT]):
    """Base class of data readers: ``problem.data`` -> a :class:`Dataset` per split.

    Lifecycle, all in the main process:

    1. built once per run with validated ``params`` and the resolved
       ``data_root`` (an absolute path), before the submission is checked;
       :meth:`extra_files` is asked then, to put those files beside the
       submission;
    2. :meth:`check_files` before anything is read, so that every missing
       file is reported at once (the default checks the paths of
       :meth:`files` and :meth:`extra_files`);
    3. :meth:`load` once for ``"train"`` and once for ``"test"``; it may
       assume the files exist, and raises :class:`~rampconf.errors.DataError`
       naming the file and what is wrong (a missing column, a bad value);
    4. :meth:`files` again for the SHA-256 hashes recorded in the run directory.

    Every path of :meth:`files`, :meth:`extra_files` and :meth:`folders`
    (folders of inputs a fold reads lazily) must stay inside ``data_root``,
    unless the run sets ``allow_outside_data_root=true``.

    Subclasses implement :meth:`load` and, when they read files, :meth:`files`.
    """

    def __init__(self, params: ParamsT | None = None, *, data_root: Path) -> None:
        super().__init__(params)
        self.data_root = data_root

    def files(self) -> dict[str, Path]:
        """Every file this reader reads, by role (``train``, ``test``, ...)."""
        return {}

    def extra_files(self) -> dict[str, Path]:
        """Files the submission may read, by file name."""
        return {}

    def describe(self, split: Split) -> str:
        """Where the data of ``split`` comes from, for error messages (default: its files).

        The default names the file of role ``split`` of :meth:`files`, else
        the ``<split>_*`` files.
        """
        files = self.files()
        paths = [files[split]] if split in files else \
            [path for role, path in files.items() if role.startswith(f"{split}_")]
        return " and ".join(map(str, paths)) or f"the {split} data"

    def describe_target(self, split: Split, column: int | None = None) -> str:
        """:meth:`describe`, and the target column ``column`` (the first when None).

        The default names the column when the reader's parameters name the
        target columns (``target``, a name or a list of names).
        """
        target = getattr(self.params, "target", None)
        names = [target] if isinstance(target, str) else list(target or [])
        if not names:
            return self.describe(split)
        return f"{self.describe(split)}, column {names[min(column or 0, len(names) - 1)]!r}"
    def folders(self) -> dict[str, Path]:
        """Folders whose files the fold reads itself (lazy inputs such as image files), by role.

        They hold features only, never labels: with ``sandbox=bwrap`` they are
        the only data a fold process can see (read-only).
        """
        return {}

    def check_files(self) -> None:
        """Raise :class:`DataError` naming every missing file and where it was looked for."""
        wanted = {**self.files(), **self.extra_files()}
        missing = {role: path for role, path in wanted.items() if not path.exists()}
        if missing:
            listed = ", ".join(f"{role}: {path}" for role, path in missing.items())
            raise DataError(
                f"missing data files ({listed}); data_root is {self.data_root}: "
                "set data_root=PATH or the RAMPCONF_DATA_ROOT environment variable"
            )

    @abc.abstractmethod
    def load(self, split: Split) -> Dataset:
        """Read one split: ``X``, raw ``y`` (first axis the sample), optional groups and weights."""
