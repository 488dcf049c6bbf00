"""Reading CSV files as a problem declares them: any ``pandas.read_csv`` option, clear errors.

``data.read_options`` holds keyword arguments of :func:`pandas.read_csv`
(``sep``, ``index_col``, ``parse_dates``, ``dtype``, ``na_values``, ...); an
unknown one is refused before anything is read, with the closest option. A
file whose rows do not split into the header's fields, or whose header is
one column holding another separator, is reported with the separator the file
seems to use: ``expected 4 fields, saw 6: is the file tab-separated? set
data.read_options.sep``.
"""

from __future__ import annotations

import csv
import difflib
import functools
import inspect
import re
from typing import TYPE_CHECKING, Any

import pandas as pd

from rampconf.errors import ConfigError, DataError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

__all__ = ["check_read_csv_options", "read_csv_file", "separator_hint"]

#: Separators a file is checked for, with the words of the hint.
SEPARATORS = {"\t": "tab", ";": "semicolon", ",": "comma", "|": "pipe"}
_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
#: Names people give the options that the spelling distance would not find.
_SYNONYMS = {"separator": "sep", "seperator": "sep", "delim": "delimiter", "index": "index_col",
             "dates": "parse_dates", "missing": "na_values", "types": "dtype"}


@functools.cache
def _read_csv_options() -> tuple[str, ...]:
    return tuple(name for name in inspect.signature(pd.read_csv).parameters
                 if name != "filepath_or_buffer")


def check_read_csv_options(options: dict[str, Any], path: str) -> None:
    """Raise :class:`ConfigError` for a key of ``options`` that ``pandas.read_csv`` does not take.

    ``path`` is the options' key path in the configuration (``problem.data.read_options``).
    """
    known = _read_csv_options()
    for key in options:
        if key not in known:
            close = [_SYNONYMS[key]] if key in _SYNONYMS else \
                difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(f"{path}.{key}: not an option of pandas.read_csv; {hint}options "
                              "are the keyword arguments of pandas.read_csv (sep, index_col, "
                              "parse_dates, dtype, na_values, ...)")


def _sep_word(sep: str) -> str:
    return f"{SEPARATORS[sep]}-separated" if sep in SEPARATORS else f"separated by {sep!r}"


def _guess_separator(lines: Iterable[str], current: str) -> str | None:
    """The separator found the same number of times (> 0) in each of ``lines``, but ``current``."""
    lines = [line for line in lines if line.strip()]
    if not lines:
        return None
    for sep in SEPARATORS:
        if sep == current:
            continue
        counts = {len(next(csv.reader([line], delimiter=sep))) for line in lines}
        if len(counts) == 1 and counts.pop() > 1:
            return sep
    return None


def separator_hint(path: Path, options: dict[str, Any]) -> str:
    """``: is the file tab-separated? set data.read_options.sep`` when another separator fits.

    The first lines of the file (decompressed as pandas would) are tried with
    each usual separator; empty when none splits every line into the same
    number of fields.
    """
    current = options.get("sep", options.get("delimiter", ","))
    try:
        lines = pd.read_csv(path, header=None, sep="\x1f", nrows=20, dtype=str,
                            quoting=csv.QUOTE_NONE, keep_default_na=False,
                            compression=options.get("compression", "infer"),
                            encoding=options.get("encoding")).iloc[:, 0].tolist()
    except Exception:
        return ""
    sep = _guess_separator(lines, current)
    return "" if sep is None else \
        f": is the file {_sep_word(sep)}? set data.read_options.sep: {sep!r}"


def header_hint(columns: Iterable[Any]) -> str:
    """The separator hint of a table read as one column whose name holds another separator."""
    columns = [str(column) for column in columns]
    if len(columns) != 1:
        return ""
    sep = _guess_separator(columns, ",")
    return "" if sep is None else \
        f"; is the file {_sep_word(sep)}? set data.read_options.sep: {sep!r}"


def read_csv_file(path: Path, options: dict[str, Any]) -> pd.DataFrame:
    """``pandas.read_csv(path, **options)``; rows of the wrong field count are a ``DataError``.

    The error names the line, the field counts and, when another separator
    fits the file, that separator.
    """
    try:
        return pd.read_csv(path, **options)
    except pd.errors.ParserError as exc:
        match = _FIELDS.search(str(exc))
        what = (f"line {match.group(2)} has {match.group(3)} fields where the header has "
                f"{match.group(1)} (expected {match.group(1)} fields, saw {match.group(3)})"
                if match else str(exc).strip())
        raise DataError(f"{path}: {what}{separator_hint(path, options)}") from None
