"""The ``joined_csv`` reader: several CSV files per split joined on an index column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, field_validator
from rampconf_tabular.arrays import parse_array_strings
from rampconf_tabular.readers import ColumnsParams, check_csv_header, split_frame

from rampconf.errors import DataError
from rampconf.readers import BaseReader, Dataset, Split

__all__ = ["JoinedCSV", "JoinedCSVParams"]


class JoinedCSVParams(ColumnsParams):
    """Parameters of the ``joined_csv`` reader."""

    train: list[str] = Field(description="training files, relative to data_root, joined on "
                                         "index (one file may be given as a string)")
    test: list[str] = Field(description="test files, relative to data_root, joined on index")
    index: str = Field(description="column present in every file; rows are joined on it")
    array_columns: list[str] = Field(default_factory=list,
                                     description="columns whose cells are arrays written as "
                                                 "strings, e.g. \"[0.1, 0.2]\"")
    sep: str | None = Field(None, description="separator of the values of an array; null: "
                                              "commas, \" \": whitespace")
    read_options: dict[str, Any] = Field(default_factory=dict,
                                         description="keyword arguments of pandas.read_csv")

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


class JoinedCSV(BaseReader[JoinedCSVParams]):
    """Several CSV files (compressed too) per split, joined on an index column.

    Rows are those whose index value is in every file (an inner join), in the
    order of the first file; an index value may appear once per file. Columns
    other than the index must not repeat across files. Every column of
    ``array_columns`` holds arrays written as strings, parsed into 1-D float
    NumPy arrays whose length may differ from row to row. ``target``,
    ``ignore`` and ``groups`` are as in the ``csv`` reader; the index column
    stays a feature unless it is listed in ``ignore``.
    """

    def _paths(self, split: Split) -> list[Path]:
        names = self.params.train if split == "train" else self.params.test
        return [self.data_root / f for f in names]

    def files(self) -> dict[str, Path]:
        roles: dict[str, Path] = {}
        splits: tuple[Split, ...] = ("train", "test")
        for split in splits:
            for i, path in enumerate(self._paths(split)):
                roles[split if i == 0 else f"{split}[{i}]"] = path
        return roles

    def _read(self, path: Path, split: Split) -> pd.DataFrame:
        p = self.params
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
        check_csv_header(path, options)
        if p.index not in frame.columns:
            raise DataError(f"{path}: index column {p.index!r} (data.index) not found; the "
                            f"file has columns {list(frame.columns)}")
        duplicated = frame[p.index].duplicated()
        if duplicated.any():
            row = int(np.flatnonzero(duplicated.to_numpy())[0])
            raise DataError(f"{path}: index column {p.index!r}: value "
                            f"{frame[p.index].tolist()[row]!r} repeated (row {row})")
        keys = pd.Index(frame[p.index], name=p.index)  # errors name the row's index value
        for column in arrays:
            try:
                parsed = parse_array_strings(frame[column].set_axis(keys), sep=p.sep,
                                             same_length=False)
            except ValueError as exc:
                raise DataError(f"{path}: column {column!r}, {exc}") from None
            frame[column] = pd.Series(parsed, index=frame.index, dtype=object)
        return frame

    def load(self, split: Split) -> Dataset:
        p = self.params
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
