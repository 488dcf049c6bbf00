"""The ``joined_csv`` reader: several CSV files per split joined on an index column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, field_validator
from rampconf_tabular.readers import _ColumnsParams, split_frame

from rampconf.errors import DataError
from rampconf.readers import BaseReader, Dataset, Split

__all__ = ["JoinedCSV", "parse_array_cell"]


def parse_array_cell(value: object, sep: str | None = None) -> np.ndarray:
    """One cell -> a 1-D float array of any length.

    ``"[0.1, 0.2]"`` (brackets optional) is split on commas when ``sep`` is
    None, on ``sep`` otherwise (``sep=" "`` splits on runs of whitespace).
    ``"[]"`` and ``""`` are empty arrays; a missing cell is an error.

    Raises
    ------
    ValueError
        When the cell is missing or not a list of numbers.
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[call-overload]
        raise ValueError("missing value (write [] for an empty array)")
    if not isinstance(value, str):
        value = str(value)
    body = value.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1].strip()
    elif body.startswith("[") or body.endswith("]"):
        raise ValueError(f"unbalanced brackets in {value[:40]!r}")
    if not body:
        return np.empty(0)
    parts = body.split() if sep is not None and not sep.strip() else body.split(sep or ",")
    try:
        return np.array([float(v) for v in parts], dtype=float)
    except ValueError:
        shown = value[:40] + ("..." if len(value) > 40 else "")
        raise ValueError(f"not a {sep or ','!r}-separated list of numbers: {shown!r}") from None


class _JoinedParams(_ColumnsParams):
    train: list[str]  # training files, relative to data_root, joined on `index`
    test: list[str]  # test files, relative to data_root, joined on `index`
    index: str  # column present in every file; rows are joined on it
    array_columns: list[str] = Field(default_factory=list)  # columns of arrays as strings
    sep: str | None = None  # separator of array values; None: commas
    read_options: dict[str, Any] = Field(default_factory=dict)  # keyword arguments of pandas

    @field_validator("train", "test", mode="before")
    @classmethod
    def _one_or_more(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("train", "test")
    @classmethod
    def _not_empty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one file is needed")
        return value


class JoinedCSV(BaseReader):
    """Several CSV files (compressed too) per split, joined on an index column.

    Rows are those whose index value is in every file (an inner join), in the
    order of the first file; an index value may appear once per file. Columns
    other than the index must not repeat across files. Every column of
    ``array_columns`` holds arrays written as strings, parsed into 1-D float
    NumPy arrays whose length may differ from row to row. ``target``,
    ``ignore`` and ``groups`` are as in the ``csv`` reader; the index column
    stays a feature unless it is listed in ``ignore``.
    """

    Params = _JoinedParams

    def _paths(self, split: Split) -> list[Path]:
        return [self.data_root / f for f in getattr(self.params, split)]

    def files(self) -> dict[str, Path]:
        roles: dict[str, Path] = {}
        for split in ("train", "test"):
            for i, path in enumerate(self._paths(split)):  # type: ignore[arg-type]
                roles[split if i == 0 else f"{split}[{i}]"] = path
        return roles

    def _read(self, path: Path, split: Split) -> pd.DataFrame:
        p: _JoinedParams = self.params  # type: ignore[assignment]
        options = dict(p.read_options)
        dtype = options.pop("dtype", None)
        try:
            header = pd.read_csv(path, nrows=0, **options).columns.tolist()
            arrays = [c for c in p.array_columns if c in header]
            if isinstance(dtype, dict) or dtype is None:
                dtype = {**(dtype or {}), **{c: object for c in arrays}}
            frame = pd.read_csv(path, dtype=dtype, keep_default_na=True, **options)
        except FileNotFoundError:
            raise DataError(f"data.{split}: file {path} not found (data_root is "
                            f"{self.data_root})") from None
        except Exception as exc:
            raise DataError(f"{path}: could not read the {split} data: {type(exc).__name__}: "
                            f"{exc}") from None
        if p.index not in frame.columns:
            raise DataError(f"{path}: index column {p.index!r} (data.index) not found; the "
                            f"file has columns {list(frame.columns)}")
        duplicated = frame[p.index].duplicated()
        if duplicated.any():
            row = int(np.flatnonzero(duplicated.to_numpy())[0])
            raise DataError(f"{path}: index column {p.index!r}: value "
                            f"{frame[p.index].tolist()[row]!r} repeated (row {row})")
        keys = frame[p.index].tolist()
        for column in arrays:
            parsed = []
            for row, value in enumerate(frame[column].tolist()):
                try:
                    parsed.append(parse_array_cell(value, p.sep))
                except ValueError as exc:
                    raise DataError(f"{path}: column {column!r}, row {row} ({p.index}="
                                    f"{keys[row]!r}): {exc}") from None
            frame[column] = pd.Series(parsed, index=frame.index, dtype=object)
        return frame

    def load(self, split: Split) -> Dataset:
        p: _JoinedParams = self.params  # type: ignore[assignment]
        paths = self._paths(split)
        frames = [self._read(path, split) for path in paths]
        found = {c for frame in frames for c in frame.columns}
        missing = [c for c in p.array_columns if c not in found]
        if missing:
            raise DataError(f"data.{split}: array column(s) {missing} (data.array_columns) not "
                            f"found in {[str(path) for path in paths]}")
        joined = frames[0]
        for path, frame in zip(paths[1:], frames[1:], strict=True):
            repeated = sorted((set(joined.columns) & set(frame.columns)) - {p.index})
            if repeated:
                raise DataError(f"{path}: column(s) {repeated} also in an earlier file of "
                                f"data.{split}; only the index column {p.index!r} may repeat")
            if joined[p.index].dtype != frame[p.index].dtype:
                try:
                    frame = frame.astype({p.index: joined[p.index].dtype})
                except (TypeError, ValueError):
                    raise DataError(f"{path}: index column {p.index!r} has values of type "
                                    f"{frame[p.index].dtype}, the first file of data.{split} "
                                    f"{joined[p.index].dtype}") from None
            joined = joined.merge(frame, on=p.index, how="inner", sort=False)
        if not len(joined):
            raise DataError(f"data.{split}: no {p.index!r} value is in every file "
                            f"{[str(path) for path in paths]}")
        joined = joined.reset_index(drop=True)
        return split_frame(joined, p, " + ".join(str(path) for path in paths))
