"""Readers of tables whose cells hold arrays written as strings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from pydantic import Field
from rampconf_tabular.arrays import parse_array_strings
from rampconf_tabular.readers import CSVReader, TableFilesParams

from rampconf.errors import DataError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["TypedCSV", "TypedCSVParams"]


class TypedCSVParams(TableFilesParams):
    """Parameters of the ``typed_csv`` reader: the ``csv`` reader's, and the array columns."""

    array_columns: list[str] = Field(default_factory=list,
                                     description="columns whose cells are arrays written as "
                                                 "strings, e.g. \"[0.0267, 0.0272]\"")
    same_length: bool = Field(True, description="every array of a column must have the same "
                                                "length")


class TypedCSV(CSVReader[TypedCSVParams]):
    """CSV files (compressed too) with declared array columns.

    Every column listed in ``array_columns`` holds arrays written as strings
    (``"[0.0267, 0.0272, ...]"``); each cell becomes a 1-D float NumPy array,
    so ``np.stack(X["spectra"])`` is the ``(n_samples, n_values)`` matrix.
    Everything else is the ``csv`` reader: ``target`` (several columns give a
    2-D ``y``), ``ignore``, ``groups``, ``read_options``.
    """

    def read_table(self, path: Path) -> pd.DataFrame:
        frame = super().read_table(path)
        p = self.params
        for column in p.array_columns:
            if column not in frame.columns:
                raise DataError(f"{path}: array column {column!r} (data.array_columns) not "
                                f"found; the file has columns {list(frame.columns)}")
            try:
                arrays = parse_array_strings(frame[column], same_length=p.same_length)
            except ValueError as exc:
                raise DataError(f"{path}: column {column!r}: {exc}") from None
            frame[column] = pd.Series(arrays, index=frame.index, dtype=object)
        return frame
