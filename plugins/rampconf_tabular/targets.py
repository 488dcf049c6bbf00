"""A target derived from a column by a declared mapping (``data.target_map``), never by code.

Two forms, both plain YAML::

    target_map: {0: 1, default: 0}     # a value -> target table; `default` for every other value
    target_map: {above: 0.5}           # a comparison: 1 where the column is > 0.5, else 0

The comparisons are ``above`` (>), ``at_least`` (>=), ``below`` (<) and
``at_most`` (<=), against a number. Values compare as values (``1 == 1.0``).
Without ``default``, a value that the table does not list is a data error
naming the file, the column, the row and the value.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import pandas as pd

from rampconf.errors import DataError

__all__ = ["COMPARISONS", "TargetMapValue", "apply_target_map", "check_target_map"]

#: A value of the column or of the target (YAML scalars).
TargetMapValue = str | int | float | bool

#: Comparison words of ``target_map`` and what they mean.
COMPARISONS = {"above": operator.gt, "at_least": operator.ge, "below": operator.lt,
               "at_most": operator.le}
_DEFAULT = "default"


def _comparison(target_map: dict[Any, Any]) -> tuple[str, Any] | None:
    """``(word, threshold)`` when ``target_map`` is a comparison, else None."""
    if len(target_map) == 1:
        ((key, value),) = target_map.items()
        if key in COMPARISONS:
            return key, value
    return None


def check_target_map(target_map: dict[Any, Any]) -> dict[Any, Any]:
    """Validate the form of a ``target_map`` (a pydantic validator calls it).

    Raises
    ------
    ValueError
        An empty map, a comparison mixed with other keys, or a threshold that is
        not a number.
    """
    if not target_map:
        raise ValueError("must map at least one value, e.g. {0: 1, default: 0} or {above: 0.5}")
    comparison = _comparison(target_map)
    if comparison is not None:
        word, threshold = comparison
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise ValueError(f"{word} compares with a number, got {threshold!r}")
        return target_map
    words = sorted(set(target_map) & set(COMPARISONS))
    if words:
        raise ValueError(f"a comparison ({', '.join(words)}) stands alone: {{{words[0]}: "
                         "NUMBER}; a table of values has values as keys and may add default")
    return target_map


def apply_target_map(values: np.ndarray, target_map: dict[Any, Any], where: str) -> np.ndarray:
    """The target of each value of a column under a checked ``target_map``.

    Parameters
    ----------
    values
        The column's values, one per row.
    where
        The file and column, for errors.

    Raises
    ------
    DataError
        A value missing from a table without ``default`` (first such row named), or a
        column that is not numeric under a comparison.
    """
    comparison = _comparison(target_map)
    if comparison is not None:
        word, threshold = comparison
        numbers = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(np.isnan(numbers))
        if bad.size:
            raise DataError(f"{where}: data.target_map {{{word}: {threshold}}} compares numbers, "
                            f"but row {bad[0]} holds {values[bad[0]]!r}")
        return COMPARISONS[word](numbers, threshold).astype(int)
    table = {key: value for key, value in target_map.items() if key != _DEFAULT}
    has_default = _DEFAULT in target_map
    mapped = []
    for row, value in enumerate(np.asarray(values).tolist()):
        if value in table:
            mapped.append(table[value])
        elif has_default:
            mapped.append(target_map[_DEFAULT])
        else:
            raise DataError(f"{where}: row {row} holds {value!r}, which data.target_map does not "
                            f"list (keys {sorted(map(str, table))}); add it or a default")
    return np.asarray(mapped)
