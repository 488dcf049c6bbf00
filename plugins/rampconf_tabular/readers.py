"""Tabular readers: CSV (also compressed), Parquet, and scikit-learn's bundled data sets.

This module is also the public toolkit of readers of tables in other plugins:
:class:`ColumnsParams` and :func:`split_frame` (target, ignored and group
columns), :class:`CSVFileReader` and :class:`CSVFilesParams` (one CSV file
per split), :class:`CSVReader` (generic in its parameters, to extend),
:func:`read_table_file` and :func:`require_columns` (errors that name the
file), :func:`check_csv_header` (a header that names a column twice, which
pandas would silently rename ``NAME.1``). Arrays written as strings in cells are parsed by
:mod:`rampconf_tabular.arrays`.
"""

from __future__ import annotations

import abc
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd
from pydantic import Field

from rampconf.errors import DataError
from rampconf.extras import Extra
from rampconf.plugin import StrictModel
from rampconf.readers import BaseReader, Dataset, Split

__all__ = ["CSVFileReader", "CSVFilesParams", "CSVParamsT", "CSVReader", "ColumnsParams",
           "ParquetReader", "SklearnReader", "SklearnReaderParams", "TableFilesParams",
           "check_csv_header", "read_table_file", "require_columns", "split_frame"]

#: Options of pandas.read_csv that decide how the header line itself is parsed.
_HEADER_OPTIONS = frozenset({
    "sep", "delimiter", "compression", "encoding", "encoding_errors", "quotechar", "quoting",
    "escapechar", "doublequote", "skipinitialspace", "skiprows", "comment", "engine",
    "dialect", "lineterminator", "skip_blank_lines", "storage_options"})


class ColumnsParams(StrictModel):
    """Which columns of a table are the target, the groups, and not features.

    Public: a reader of another plugin that ends with a table (joined files,
    typed columns, ...) extends this model and calls :func:`split_frame`.
    """

    target: str | list[str] = Field(
        description="target column, or several columns (then y is 2-D)")
    ignore: list[str] = Field(default_factory=list,
                              description="columns dropped from the features")
    groups: str | None = Field(None, description="column of group labels for group CV "
                                                 "schemes (not a feature); null: none")


class TableFilesParams(ColumnsParams):
    """Parameters of the ``csv`` and ``parquet`` readers: one table file per split."""

    train: str = Field(description="training file, relative to data_root")
    test: str = Field(description="test file, relative to data_root")
    extra_files: list[str] = Field(
        default_factory=list,
        description="files, relative to data_root, that the submission may read "
                    "(put beside it)")
    read_options: dict[str, Any] = Field(
        default_factory=dict,
        description="keyword arguments of pandas' reader (read_csv, read_parquet)")


def split_frame(frame: pd.DataFrame, params: ColumnsParams, source: str) -> Dataset:
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


def check_csv_header(path: Path, options: dict[str, Any]) -> None:
    """Raise ``DataError`` when the header of a CSV file names a column twice.

    pandas renames the second ``Age`` to ``Age.1`` without a word, so the
    problem's columns would silently be other data. Nothing is checked when
    ``options`` (keyword arguments of ``pandas.read_csv``) give the names
    themselves or put the header elsewhere than the first line, nor when the
    header cannot be read (the full read then reports why).
    """
    if "names" in options or options.get("header", "infer") not in ("infer", 0):
        return
    try:
        first = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False,
                            **{k: v for k, v in options.items() if k in _HEADER_OPTIONS})
    except Exception:
        return
    seen: dict[str, int] = {}
    for position, name in enumerate(first.iloc[0].tolist() if len(first) else []):
        if name in seen:
            raise DataError(f"{path}: the header (row 0) names column {name!r} twice (columns "
                            f"{seen[name]} and {position}, counted from 0); pandas would read "
                            f"the second as {name}.1: give every column its own name")
        seen[name] = position


def require_columns(frame: pd.DataFrame, columns: list[str], path: Path, keys: str) -> None:
    """Raise ``DataError`` naming the ``columns`` missing from ``frame`` (set by ``keys``)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing} named by the problem ({keys}); "
                        f"the file has columns {list(frame.columns)}")


class CSVFilesParams(StrictModel):
    """Files of a domain reader of one CSV file per split (see :class:`CSVFileReader`)."""

    train: str = Field(description="training file, relative to data_root")
    test: str = Field(description="test file, relative to data_root")
    ignore: list[str] = Field(default_factory=list, description="columns that are not features")
    read_options: dict[str, Any] = Field(default_factory=dict,
                                         description="keyword arguments of pandas.read_csv")


CSVParamsT = TypeVar("CSVParamsT", bound=CSVFilesParams)
_TableParamsT = TypeVar("_TableParamsT", bound=TableFilesParams)


class CSVFileReader(BaseReader[CSVParamsT]):
    """Base of domain readers of one CSV file per split: files, reading, column checks.

    Public: a plugin's reader derives from ``CSVFileReader[ItsParams]``, with
    ``ItsParams`` a subclass of :class:`CSVFilesParams`, and implements
    ``load`` with :meth:`read_csv`.
    """

    def files(self) -> dict[str, Path]:
        p = self.params
        return {"train": self.data_root / p.train, "test": self.data_root / p.test}

    def read_csv(self, split: Split, required: list[str], keys: str
                 ) -> tuple[pd.DataFrame, Path]:
        """The table of ``split`` and its path, checked to hold the ``required`` columns."""
        path = self.files()[split]
        options = self.params.read_options
        frame = read_table_file(path, split, self.data_root,
                                lambda file: pd.read_csv(file, **options))
        check_csv_header(path, options)
        require_columns(frame, required, path, keys)
        return frame, path


class _FileReader(BaseReader[_TableParamsT]):
    """A reader of one table file per split."""

    def files(self) -> dict[str, Path]:
        p = self.params
        return {"train": self.data_root / p.train, "test": self.data_root / p.test}

    def extra_files(self) -> dict[str, Path]:
        return {Path(f).name: self.data_root / f for f in self.params.extra_files}

    @abc.abstractmethod
    def read_table(self, path: Path) -> pd.DataFrame:
        """The whole table of one file."""

    def load(self, split: Split) -> Dataset:
        path = self.files()[split]
        frame = read_table_file(path, split, self.data_root, self.read_table)
        return split_frame(frame, self.params, str(path))


class CSVReader(_FileReader[_TableParamsT]):
    """CSV files, compressed or not (``.gz``, ``.bz2``, ``.zip``, ``.xz``, ``.zst``).

    Generic: a reader of CSV tables with more parameters derives from
    ``CSVReader[ItsParams]`` (``ItsParams`` a subclass of
    :class:`TableFilesParams`) and post-processes :meth:`read_table`.
    """

    def read_table(self, path: Path) -> pd.DataFrame:
        frame: pd.DataFrame = pd.read_csv(path, **self.params.read_options)
        check_csv_header(path, self.params.read_options)
        return frame


class ParquetReader(_FileReader[TableFilesParams]):
    """Parquet files (through pyarrow)."""

    requires = Extra("parquet", ("pyarrow",))

    def read_table(self, path: Path) -> pd.DataFrame:
        return pd.read_parquet(path, **self.params.read_options)


class SklearnReaderParams(StrictModel):
    """Parameters of the ``sklearn`` reader."""

    dataset: Literal["iris", "wine", "breast_cancer", "diabetes", "digits"] = Field(
        description="the data set, loaded with sklearn.datasets.load_<dataset>")
    test_size: float = Field(0.2, gt=0, lt=1, description="share of the rows in the test set")
    random_state: int = Field(42, description="seed of the train/test split")
    stratify: bool = Field(True, description="keep the class proportions in both sets "
                                             "(classification data sets)")


class SklearnReader(BaseReader[SklearnReaderParams]):
    """One of scikit-learn's bundled data sets, split into train and test with a seed.

    Classification targets are given as class names (``setosa``, ...) when the
    data set has them. The split is stratified for classification data sets
    when ``stratify`` is true.
    """

    @cached_property
    def _splits(self) -> dict[str, Dataset]:
        from sklearn import datasets
        from sklearn.model_selection import train_test_split

        p = self.params
        bunch = getattr(datasets, f"load_{p.dataset}")(as_frame=True)
        X: pd.DataFrame = bunch.data
        y = bunch.target.to_numpy()
        names = getattr(bunch, "target_names", None)
        classification = p.dataset != "diabetes"
        if classification and names is not None and len(names) == len(np.unique(y)):
            y = np.asarray(names)[y]
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=p.test_size, random_state=p.random_state,
            stratify=y if classification and p.stratify else None)
        return {
            "train": Dataset(X_train.reset_index(drop=True), np.asarray(y_train)),
            "test": Dataset(X_test.reset_index(drop=True), np.asarray(y_test)),
        }

    def load(self, split: Split) -> Dataset:
        return self._splits[split]
