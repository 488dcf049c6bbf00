"""Tabular readers: CSV (also compressed), Parquet, and scikit-learn's bundled data sets."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from rampconf.errors import DataError
from rampconf.extras import Extra
from rampconf.plugin import StrictModel
from rampconf.readers import BaseReader, Dataset, Split

__all__ = ["CSVFileReader", "CSVFilesParams", "CSVReader", "ParquetReader", "SklearnReader",
           "read_table_file", "require_columns", "split_frame"]


class _ColumnsParams(StrictModel):
    target: str | list[str]  # target column(s); several columns give a 2-D y
    ignore: list[str] = Field(default_factory=list)  # columns dropped from the features
    groups: str | None = None  # column of group labels for group CV; not a feature


class _FilesParams(_ColumnsParams):
    train: str  # training file, relative to data_root
    test: str  # test file, relative to data_root
    extra_files: list[str] = Field(default_factory=list)  # files the submission may read
    read_options: dict[str, Any] = Field(default_factory=dict)  # keyword arguments of pandas


def split_frame(frame: pd.DataFrame, params: _ColumnsParams, source: str) -> Dataset:
    """Cut a table into features, target(s) and groups as a problem declares them."""
    targets = [params.target] if isinstance(params.target, str) else list(params.target)
    wanted = targets + list(params.ignore) + ([params.groups] if params.groups else [])
    require_columns(frame, wanted, Path(source), "data.target / data.ignore / data.groups")
    y = frame[params.target].to_numpy() if isinstance(params.target, str) \
        else frame[targets].to_numpy()
    groups = frame[params.groups].to_numpy() if params.groups else None
    X = frame.drop(columns=[c for c in wanted if c in frame.columns])
    return Dataset(X=X, y=y, groups=groups)


def read_table_file(path: Path, split: str, data_root: Path, read: Any) -> pd.DataFrame:
    """``read(path)``, with a missing or unreadable file reported as a ``DataError``."""
    try:
        return read(path)
    except FileNotFoundError:
        raise DataError(f"data.{split}: file {path} not found (data_root is {data_root})"
                        ) from None
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"{path}: could not read the {split} data: {type(exc).__name__}: "
                        f"{exc}") from None


def require_columns(frame: pd.DataFrame, columns: list[str], path: Path, keys: str) -> None:
    """Raise ``DataError`` naming the ``columns`` missing from ``frame`` (set by ``keys``)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing} named by the problem ({keys}); "
                        f"the file has columns {list(frame.columns)}")


class CSVFilesParams(StrictModel):
    """Files of a reader of one CSV file per split."""

    train: str  # training file, relative to data_root
    test: str  # test file, relative to data_root
    ignore: list[str] = Field(default_factory=list)  # columns that are not features
    read_options: dict[str, Any] = Field(default_factory=dict)  # keyword arguments of pandas


class CSVFileReader(BaseReader):
    """Base of domain readers of one CSV file per split: files, reading, column checks."""

    Params = CSVFilesParams

    def files(self) -> dict[str, Path]:
        p = self.params
        return {"train": self.data_root / p.train, "test": self.data_root / p.test}  # type: ignore[attr-defined]

    def read_csv(self, split: Split, required: list[str], keys: str
                 ) -> tuple[pd.DataFrame, Path]:
        """The table of ``split`` and its path, checked to hold the ``required`` columns."""
        path = self.files()[split]
        options = self.params.read_options  # type: ignore[attr-defined]
        frame = read_table_file(path, split, self.data_root,
                                lambda file: pd.read_csv(file, **options))
        require_columns(frame, required, path, keys)
        return frame, path


class _FileReader(BaseReader):
    """A reader of one table file per split."""

    Params = _FilesParams

    def files(self) -> dict[str, Path]:
        p = self.params
        return {"train": self.data_root / p.train, "test": self.data_root / p.test}  # type: ignore[attr-defined]

    def extra_files(self) -> dict[str, Path]:
        return {Path(f).name: self.data_root / f for f in self.params.extra_files}  # type: ignore[attr-defined]

    def read_table(self, path: Path) -> pd.DataFrame:
        raise NotImplementedError

    def load(self, split: Split) -> Dataset:
        path = self.files()[split]
        frame = read_table_file(path, split, self.data_root, self.read_table)
        return split_frame(frame, self.params, str(path))  # type: ignore[arg-type]


class CSVReader(_FileReader):
    """CSV files, compressed or not (``.gz``, ``.bz2``, ``.zip``, ``.xz``, ``.zst``)."""

    def read_table(self, path: Path) -> pd.DataFrame:
        return pd.read_csv(path, **self.params.read_options)  # type: ignore[attr-defined,return-value]


class ParquetReader(_FileReader):
    """Parquet files (through pyarrow)."""

    requires = Extra("parquet", ("pyarrow",))

    def read_table(self, path: Path) -> pd.DataFrame:
        return pd.read_parquet(path, **self.params.read_options)  # type: ignore[attr-defined]


class SklearnReader(BaseReader):
    """One of scikit-learn's bundled data sets, split into train and test with a seed.

    Classification targets are given as class names (``setosa``, ...) when the
    data set has them. The split is stratified for classification data sets
    when ``stratify`` is true.
    """

    class Params(StrictModel):
        dataset: Literal["iris", "wine", "breast_cancer", "diabetes", "digits"]
        test_size: float = Field(0.2, gt=0, lt=1)
        random_state: int = 42
        stratify: bool = True

    @cached_property
    def _splits(self) -> dict[str, Dataset]:
        from sklearn import datasets
        from sklearn.model_selection import train_test_split

        p = self.params
        bunch = getattr(datasets, f"load_{p.dataset}")(as_frame=True)  # type: ignore[attr-defined]
        X: pd.DataFrame = bunch.data
        y = bunch.target.to_numpy()
        names = getattr(bunch, "target_names", None)
        classification = p.dataset != "diabetes"  # type: ignore[attr-defined]
        if classification and names is not None and len(names) == len(np.unique(y)):
            y = np.asarray(names)[y]
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=p.test_size, random_state=p.random_state,  # type: ignore[attr-defined]
            stratify=y if classification and p.stratify else None)  # type: ignore[attr-defined]
        return {
            "train": Dataset(X_train.reset_index(drop=True), np.asarray(y_train)),
            "test": Dataset(X_test.reset_index(drop=True), np.asarray(y_test)),
        }

    def load(self, split: Split) -> Dataset:
        return self._splits[split]
