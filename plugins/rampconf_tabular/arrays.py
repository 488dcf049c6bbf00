"""Arrays written as strings in table cells: ``"[0.1, 0.2, ...]"`` -> 1-D float arrays.

Public API of the tabular plugin for readers of any plugin whose tables hold
one array per cell (spectra, light curves, ...): :func:`parse_array_string`
parses one cell, :func:`parse_array_strings` a column, naming the first bad
row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["parse_array_string", "parse_array_strings"]


def parse_array_string(text: object, sep: str | None = None) -> np.ndarray:
    """One cell, ``"[0.1, 0.2, ...]"`` (brackets optional) -> a 1-D float array.

    Values are parsed with Python's ``float`` (as ramp-workflow does), so
    ``nan``, ``inf`` and exponents are accepted. ``"[]"`` and ``""`` are empty
    arrays.

    Parameters
    ----------
    text
        The cell: a string.
    sep
        Separator of the values: None for commas, ``" "`` (any blank) for runs
        of whitespace, or any other string.

    Raises
    ------
    ValueError
        When the cell is missing (None or NaN), is not a string, or is not a
        ``sep``-separated list of numbers.
    """
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        raise ValueError("missing value (write [] for an empty array)")
    if not isinstance(text, str):
        raise ValueError(f"expected an array written as a string, got {type(text).__name__} "
                         f"{text!r}")
    body = text.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1].strip()
    elif body.startswith("[") or body.endswith("]"):
        raise ValueError(f"unbalanced brackets in {text[:40]!r}")
    if not body:
        return np.empty(0)
    parts = body.split() if sep is not None and not sep.strip() else body.split(sep or ",")
    try:
        return np.array([float(v) for v in parts], dtype=float)
    except ValueError:
        kind = "comma" if sep is None else repr(sep)
        shown = text[:40] + ("..." if len(text) > 40 else "")
        raise ValueError(f"not a {kind}-separated list of numbers: {shown!r}") from None


def parse_array_strings(values: Iterable[object], *, sep: str | None = None,
                        same_length: bool = True) -> list[np.ndarray]:
    """Parse every cell of a column with :func:`parse_array_string`.

    Parameters
    ----------
    values
        The cells, in row order (a ``pandas.Series`` or any iterable). When
        ``values`` is a Series with a named index, errors also name the row's
        index value (``row 3 (id=17)``).
    sep
        Separator of the values, as for :func:`parse_array_string`.
    same_length
        Require every array to have the length of the first.

    Raises
    ------
    ValueError
        ``"row N: ..."`` for the first cell that does not parse, or the first
        row whose length differs.
    """
    arrays = []
    for row, value in enumerate(values):
        try:
            arrays.append(parse_array_string(value, sep))
        except ValueError as exc:
            index = values.index if isinstance(values, pd.Series) else None
            key = "" if index is None or index.name is None else \
                f" ({index.name}={index[row:row + 1].tolist()[0]!r})"
            raise ValueError(f"row {row}{key}: {exc}") from None
    if same_length and arrays:
        lengths = np.array([len(a) for a in arrays])
        bad = np.flatnonzero(lengths != lengths[0])
        if bad.size:
            raise ValueError(f"arrays of different lengths: row 0 has {lengths[0]} values, "
                             f"row {bad[0]} has {lengths[bad[0]]}")
    return arrays
