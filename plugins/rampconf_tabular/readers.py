"""Tabular readers: CSV (also compressed), Parquet, and scikit-learn's bundled data sets.

This module is also the public toolkit of readers of tables in other plugins:
:class:`ColumnsParams` and :func:`split_frame` (target, ignored and group
columns), :class:`CSVFileReader` and :class:`CSVFilesParams` (one CSV file
per split), :class:`CSVReader` (generic in its parameters, to extend),
:func:`read_table_file` and :func:`require_columns` (errors that name the
file), :func:`check_csv_header` (a header that names a column twice, which
pandas would silently rename ``NAME.1``). Arrays written as strings in cells are parsed by
:mod:`rampconf_tabular.arrays`; CSV reading with the separator hint is
:func:`rampconf_tabular.csvfiles.read_csv_file`; ``data.target_map`` is
:mod:`rampconf_tabular.targets`.
"""

from __future__ import annotations

import abc
from collections import OrderedDict
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar, cast

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from rampconf.errors import DataError
from rampconf.extras import Extra
from rampconf.plugin import StrictModel
from rampconf.readers import BaseReader, Dataset, Split
from rampconf_tabular.csvfiles import check_read_csv_options, header_hint, read_csv_file
from rampconf_tabular.targets import TargetMapValue, apply_target_map, check_target_map

__all__ = ["CSVFileReader", "CSVFilesParams", "CSVParamsT", "CSVReader", "ColumnsParams",
           "ParquetReader", "PickleParams", "PickleReader", "SklearnReader",
           "SklearnReaderParams", "TableFilesParams", "check_csv_header", "read_table_file",
           "require_columns", "sort_frame", "split_frame"]

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
                                                 "schemes (not a feature unless "
                                                 "groups_as_feature); null: none")
    groups_as_feature: bool = Field(False, description="keep the groups column among the "
                                                       "features too (false: removed from X)")
    sort_by: list[str] = Field(
        default_factory=list, description="sort the rows by these columns when read (stable, "
                                          "ascending; a name or a list), e.g. a date; []: the "
                                          "file's order")
    target_map: dict[TargetMapValue, TargetMapValue] | None = Field(
        None, description="derive the target from its column: {VALUE: TARGET, ..., default: "
                          "TARGET} (a table; without default, an unlisted value is an error), "
                          "or {above|at_least|below|at_most: NUMBER} (1 where true, else 0); "
                          "null: the column as it is")

    @field_validator("sort_by", mode="before")
    @classmethod
    def _one_or_more(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("target_map")
    @classmethod
    def _target_map(cls, value: dict[Any, Any] | None) -> dict[Any, Any] | None:
        return None if value is None else check_target_map(value)

    @model_validator(mode="after")
    def _one_target_to_map(self) -> ColumnsParams:
        if self.target_map is not None and isinstance(self.target, list) \
                and len(self.target) != 1:
            raise ValueError(f"target_map derives one target column, but target names "
                             f"{len(self.target)}: {self.target}")
        return self


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


def sort_frame(frame: pd.DataFrame, columns: list[str], source: str) -> pd.DataFrame:
    """``frame`` with its rows sorted by ``columns`` (stable, ascending), numbered 0.. again.

    A frame whose index is a column of the file (``read_options.index_col``)
    keeps it; the default index is renumbered in the new order.
    """
    if not columns:
        return frame
    require_columns(frame, columns, Path(source), "data.sort_by")
    renumber = isinstance(frame.index, pd.RangeIndex)
    return frame.sort_values(columns, kind="stable", ignore_index=renumber)


def split_frame(frame: pd.DataFrame, params: ColumnsParams, source: str) -> Dataset:
    """Cut a table into features, target(s) and groups as a problem declares them.

    The rows are first sorted by ``sort_by``; the target is then derived by
    ``target_map`` when the problem declares one.
    """
    targets = [params.target] if isinstance(params.target, str) else list(params.target)
    wanted = targets + list(params.ignore) + ([params.groups] if params.groups else [])
    require_columns(frame, wanted, Path(source), "data.target / data.ignore / data.groups")
    frame = sort_frame(frame, params.sort_by, source)
    y = frame[params.target].to_numpy() if isinstance(params.target, str) \
        else frame[targets].to_numpy()
    if params.target_map is not None:
        y = apply_target_map(y.reshape(len(frame)), params.target_map,
                             f"{source}, column {targets[0]!r}").reshape(y.shape)
    groups = frame[params.groups].to_numpy() if params.groups else None
    dropped = [c for c in wanted if not (params.groups_as_feature and c == params.groups)]
    X = frame.drop(columns=[c for c in dropped if c in frame.columns])
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
                        f"the file has columns {list(frame.columns)}{header_hint(frame.columns)}")


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

    def __init__(self, params: CSVParamsT | None = None, *, data_root: Path) -> None:
        super().__init__(params, data_root=data_root)
        check_read_csv_options(self.params.read_options, "problem.data.read_options")

    def files(self) -> dict[str, Path]:
        p = self.params
        return {"train": self.data_root / p.train, "test": self.data_root / p.test}

    def read_csv(self, split: Split, required: list[str], keys: str
                 ) -> tuple[pd.DataFrame, Path]:
        """The table of ``split`` and its path, checked to hold the ``required`` columns."""
        path = self.files()[split]
        options = self.params.read_options
        frame = read_table_file(path, split, self.data_root,
                                lambda file: read_csv_file(file, options))
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

    #: Whether a process reuses the tables this reader parsed from files that did not change
    #: (see :func:`reused_table`). Set on the built-in readers only, not inherited: a
    #: subclass's ``read_table`` may read more than its file, so it opts in itself.
    reuse_tables: ClassVar[bool] = False

    def load(self, split: Split) -> Dataset:
        path = self.files()[split]
        if type(self).__dict__.get("reuse_tables", False):
            frame = reused_table(path, (type(self), self.params.model_dump_json()),
                                 lambda: read_table_file(path, split, self.data_root,
                                                         self.read_table))
        else:
            frame = read_table_file(path, split, self.data_root, self.read_table)
        return split_frame(frame, self.params, str(path))


#: Tables parsed from files, by reader and file content; see :func:`reused_table`.
_tables: OrderedDict[tuple[Any, ...], pd.DataFrame] = OrderedDict()
#: Files larger than this (bytes) are parsed for every run, never kept.
REUSE_TABLES_UP_TO = 8 << 20
TABLES_KEPT = 4


def reused_table(path: Path, reader: tuple[Any, ...], read: Any) -> pd.DataFrame:
    """``read()``, or a copy of what it returned for the same file and reader in this process.

    The runs of one process (a sweep's trials, a notebook's runs) read the same
    files again: a file of at most :data:`REUSE_TABLES_UP_TO` bytes whose path
    and SHA-256 are those of a file parsed before is not parsed again. The hash
    is :func:`rampconf.provenance.file_sha256`, the one each run records in
    ``metadata.json``, kept per process while the file is unchanged (a file
    changed moments ago is hashed again). The run gets a deep copy of the table
    parsed first (never the kept one itself, so nothing a run does to its data
    reaches the next run). The last :data:`TABLES_KEPT` tables are kept.
    ``reader`` tells readers and their parameters apart.
    """
    from rampconf.provenance import file_sha256

    try:
        if path.stat().st_size > REUSE_TABLES_UP_TO:
            return read()
        key = (*reader, str(path), file_sha256(path))
    except OSError:  # missing or unreadable: read() reports it
        return read()
    frame = _tables.get(key)
    if frame is None:
        frame = read()
        if not isinstance(frame, pd.DataFrame):
            return frame
        _tables[key] = frame
        while len(_tables) > TABLES_KEPT:
            _tables.popitem(last=False)
    else:
        _tables.move_to_end(key)
    return frame.copy(deep=True)


class CSVReader(_FileReader[_TableParamsT]):
    """CSV files, compressed or not (``.gz``, ``.bz2``, ``.zip``, ``.xz``, ``.zst``).

    Generic: a reader of CSV tables with more parameters derives from
    ``CSVReader[ItsParams]`` (``ItsParams`` a subclass of
    :class:`TableFilesParams`) and post-processes :meth:`read_table`.

    A process parses a file once while it is unchanged (its later runs, e.g.
    a sweep's trials, get a copy; see :func:`reused_table`); a derived reader
    does so only if it sets ``reuse_tables = True``.
    """

    def __init__(self, params: _TableParamsT | None = None, *, data_root: Path) -> None:
        super().__init__(params, data_root=data_root)
        check_read_csv_options(self.params.read_options, "problem.data.read_options")

    reuse_tables = True

    def read_table(self, path: Path) -> pd.DataFrame:
        frame = read_csv_file(path, self.params.read_options)
        check_csv_header(path, self.params.read_options)
        return frame


class ParquetReader(_FileReader[TableFilesParams]):
    """Parquet files (through pyarrow)."""

    requires = Extra("parquet", ("pyarrow",))
    reuse_tables = True

    def read_table(self, path: Path) -> pd.DataFrame:
        return pd.read_parquet(path, **self.params.read_options)


class PickleParams(TableFilesParams):
    """Parameters of the ``pickle`` reader."""

    target: str | list[str] | None = Field(  # type: ignore[assignment]
        None, description="target column(s) of a pickled table; null when the pickle holds "
                          "a pair (X, y)")


class PickleReader(_FileReader[PickleParams]):
    """Pickled data, compressed or not (``.pkl.gz``, ``.pkl.bz2``, ...), read by pandas.

    A pickle holds a table (a DataFrame, cut by ``target``, ``ignore``,
    ``groups``, ... as a CSV file is) or a pair ``(X, y)`` given to the
    submission as it is. ``read_options`` are keyword arguments of
    ``pandas.read_pickle`` (e.g. ``compression``). Loading a pickle runs the
    code it names: read only pickles you trust, as you would run a plugin file.
    """

    def read_table(self, path: Path) -> Any:
        return pd.read_pickle(path, **self.params.read_options)

    def load(self, split: Split) -> Dataset:
        path = self.files()[split]
        data = read_table_file(path, split, self.data_root, self.read_table)
        if isinstance(data, pd.DataFrame):
            if self.params.target is None:
                raise DataError(f"{path}: the pickle holds a table; name its target column(s) "
                                "with data.target")
            return split_frame(data, cast("ColumnsParams", self.params), str(path))
        if isinstance(data, tuple | list) and len(data) == 2:
            table_keys = [key for key in ("target", "groups", "target_map")
                          if getattr(self.params, key)]
            table_keys += [key for key in ("ignore", "sort_by") if getattr(self.params, key)]
            if table_keys:
                raise DataError(f"{path}: the pickle holds a pair (X, y), which has no columns "
                                f"for data.{', data.'.join(table_keys)}; remove them")
            X, y = data
            if len(X) != len(y):
                raise DataError(f"{path}: the pair (X, y) has {len(X)} rows of X and "
                                f"{len(y)} targets")
            return Dataset(X=X, y=np.asarray(y))
        raise DataError(f"{path}: the pickle holds a {type(data).__name__}; expected a table "
                        "(pandas DataFrame) or a pair (X, y)")


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
