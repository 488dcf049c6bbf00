"""Readers of tables whose cells hold arrays written as strings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import Field
from rampconf_tabular.readers import CSVReader

from rampconf.errors import DataError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["TypedCSV", "parse_array_string", "parse_array_strings"]


def parse_array_string(text: object) -> np.ndarray:
    """``"[0.1, 0.2, ...]"`` (brackets optional, commas between values) -> a 1-D float array.

    Values are parsed with Python's ``float`` (as ramp-workflow does), so
    ``nan``, ``inf`` and exponents are accepted. ``"[]"`` is an empty array.

    Raises
    ------
    ValueError
        When the text is not a comma-separated list of numbers.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected an array written as a string, got {type(text).__name__} "
                         f"{text!r}")
    body = text.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1]
    elif body.startswith("[") or body.endswith("]"):
        raise ValueError(f"unbalanced brackets in {text[:40]!r}")
    body = body.strip()
    if not body:
        return np.empty(0)
    try:
        return np.array([float(v) for v in body.split(",")])
    except ValueError:
        raise ValueError(f"not a comma-separated list of numbers: {text[:40]!r}"
                         f"{'...' if len(text) > 40 else ''}") from None


def parse_array_strings(values: pd.Series | list[object], *, same_length: bool = True
                        ) -> list[np.ndarray]:
    """Parse every cell with :func:`parse_array_string`; errors name the first bad row.

    With ``same_length``, every array must have the length of the first.
    """
    arrays = []
    for row, value in enumerate(list(values)):
        try:
            arrays.append(parse_array_string(value))
        except ValueError as exc:
            raise ValueError(f"row {row}: {exc}") from None
    if same_length and arrays:
        lengths = np.array([len(a) for a in arrays])
        bad = np.flatnonzero(lengths != lengths[0])
        if bad.size:
            raise ValueError(f"arrays of different lengths: row 0 has {lengths[0]} values, "
                             f"row {bad[0]} has {lengths[bad[0]]}")
    return arrays


class TypedCSV(CSVReader):
    """CSV files (compressed too) with declared array columns.

    Every column listed in ``array_columns`` holds arrays written as strings
    (``"[0.0267, 0.0272, ...]"``); each cell becomes a 1-D float NumPy array,
    so ``np.stack(X["spectra"])`` is the ``(n_samples, n_values)`` matrix.
    Everything else is the ``csv`` reader: ``target`` (several columns give a
    2-D ``y``), ``ignore``, ``groups``, ``read_options``.
    """

    class Params(CSVReader.Params):  # type: ignore[name-defined,valid-type,misc]
        array_columns: list[str] = Field(default_factory=list)  # columns of arrays as strings
        same_length: bool = True  # every array of a column has the same length

    def read_table(self, path: Path) -> pd.DataFrame:
        frame = super().read_table(path)
        p = self.params
        for column in p.array_columns:  # type: ignore[attr-defined]
            if column not in frame.columns:
                raise DataError(f"{path}: array column {column!r} (data.array_columns) not "
                                f"found; the file has columns {list(frame.columns)}")
            try:
                arrays = parse_array_strings(frame[column],
                                             same_length=p.same_length)  # type: ignore[attr-defined]
            except ValueError as exc:
                raise DataError(f"{path}: column {column!r}: {exc}") from None
            frame[column] = pd.Series(arrays, index=frame.index, dtype=object)
        return frame
