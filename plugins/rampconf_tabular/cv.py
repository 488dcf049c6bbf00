"""Tabular CV schemes: thin, seeded wrappers of scikit-learn's splitters."""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np
from pydantic import Field, ValidationInfo, field_validator
from sklearn import model_selection

from rampconf.cv import BaseCV
from rampconf.plugin import NoParams, StrictModel

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "Blocks",
    "BlocksParams",
    "GroupKFold",
    "GroupKFoldParams",
    "KFold",
    "KFoldParams",
    "LeaveOneGroupOut",
    "ShuffleSplit",
    "ShuffleSplitParams",
    "StratifiedKFold",
    "StratifiedShuffleSplit",
    "TimeSeriesSplit",
    "TimeSeriesSplitParams",
]

_ParamsT = TypeVar("_ParamsT", bound=StrictModel)

class _SklearnCV(BaseCV[_ParamsT]):
    """A CV scheme that builds a scikit-learn splitter from its parameters."""

    @abc.abstractmethod
    def make_splitter(self) -> Any:
        """The scikit-learn splitter of the parameters."""

    def split(self, X: Any, y: np.ndarray, groups: np.ndarray | None = None
              ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = len(y)
        placeholder = np.zeros((n, 1))  # splitters only need the number of rows
        yield from self.make_splitter().split(placeholder, y, groups)


class KFoldParams(StrictModel):
    """Parameters of the ``kfold`` and ``stratified_kfold`` schemes."""

    n_splits: int = Field(5, ge=2, description="number of folds")
    shuffle: bool = Field(False, description="shuffle the rows before cutting the folds "
                                             "(stratified: the rows of each class)")
    random_state: int | None = Field(42, description="seed of the shuffle (used only when "
                                                     "shuffle is true)")


class KFold(_SklearnCV[KFoldParams]):
    """K contiguous folds (``shuffle=True`` shuffles first, seeded by ``random_state``)."""

    def make_splitter(self) -> Any:
        p = self.params
        return model_selection.KFold(p.n_splits, shuffle=p.shuffle,
                                     random_state=p.random_state if p.shuffle else None)


class StratifiedKFold(KFold):
    """K folds that keep the class proportions of the targets."""

    def make_splitter(self) -> Any:
        p = self.params
        return model_selection.StratifiedKFold(
            p.n_splits, shuffle=p.shuffle, random_state=p.random_state if p.shuffle else None)


class ShuffleSplitParams(StrictModel):
    """Parameters of the ``shuffle_split`` and ``stratified_shuffle_split`` schemes."""

    n_splits: int = Field(10, ge=1, description="number of folds")
    test_size: float | int | None = Field(
        0.2, gt=0, description="valid share of each fold (a float) or number of valid rows "
                               "(an int); null: the complement of train_size")
    train_size: float | int | None = Field(
        None, gt=0, description="training share (a float) or number of training rows (an "
                                "int); null: the complement of test_size")
    random_state: int | None = Field(42, description="seed of the splits")


class ShuffleSplit(_SklearnCV[ShuffleSplitParams]):
    """Random train/valid splits, drawn independently (seeded by ``random_state``)."""

    def make_splitter(self) -> Any:
        return model_selection.ShuffleSplit(**self.params.model_dump())


class StratifiedShuffleSplit(ShuffleSplit):
    """Random train/valid splits that keep the class proportions of the targets."""

    def make_splitter(self) -> Any:
        return model_selection.StratifiedShuffleSplit(**self.params.model_dump())


class GroupKFoldParams(StrictModel):
    """Parameters of the ``group_kfold`` scheme."""

    n_splits: int = Field(5, ge=2, description="number of folds")


class GroupKFold(_SklearnCV[GroupKFoldParams]):
    """K folds that never split a group (groups from the problem's ``data.groups`` column)."""

    needs_groups = True

    def make_splitter(self) -> Any:
        return model_selection.GroupKFold(n_splits=self.params.n_splits)


class LeaveOneGroupOut(_SklearnCV[NoParams]):
    """One fold per group: validate on that group, train on the others."""

    needs_groups = True

    def make_splitter(self) -> Any:
        return model_selection.LeaveOneGroupOut()


class TimeSeriesSplitParams(StrictModel):
    """Parameters of the ``time_series_split`` scheme."""

    n_splits: int = Field(5, ge=2, description="number of folds")
    max_train_size: int | None = Field(None, ge=1, description="most training rows of a fold; "
                                                               "null: no cap")
    test_size: int | None = Field(None, ge=1, description="valid rows of each fold; null: "
                                                          "n_samples // (n_splits + 1)")
    gap: int = Field(0, ge=0, description="rows left out between the training and valid rows")
    valid_fraction: float = Field(
        1.0, gt=0, le=1, description="share of each validation window kept (a seeded random "
                                     "choice, in time order; the other rows of the window are "
                                     "neither trained nor validated on); 1: the whole window")
    random_state: int | None = Field(42, description="seed of the rows kept when "
                                                     "valid_fraction < 1")


class TimeSeriesSplit(_SklearnCV[TimeSeriesSplitParams]):
    """scikit-learn's expanding-window time-series split (rows in time order).

    With ``valid_fraction < 1`` each fold validates on a random share of its
    window (``round(valid_fraction * window)`` rows, at least one), drawn
    with NumPy's generator seeded by ``[random_state, fold]``, so a fold's
    rows do not depend on the number of folds before it.
    """

    def make_splitter(self) -> Any:
        return model_selection.TimeSeriesSplit(
            **self.params.model_dump(exclude={"valid_fraction", "random_state"}))

    def split(self, X: Any, y: np.ndarray, groups: np.ndarray | None = None
              ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        p = self.params
        for fold, (train, valid) in enumerate(super().split(X, y, groups)):
            if p.valid_fraction < 1:
                rng = np.random.default_rng(
                    None if p.random_state is None else (p.random_state, fold))
                n_kept = max(1, round(p.valid_fraction * len(valid)))
                valid = np.sort(rng.choice(valid, size=n_kept, replace=False))
            yield train, valid


class BlocksParams(StrictModel):
    """Parameters of the ``blocks`` scheme."""

    n_blocks: int = Field(3, ge=2, description="the rows are cut into this many contiguous "
                                               "blocks")
    remainder: Literal["last", "spread"] = Field(
        "last", description="where the n % n_blocks rows left over go: last: all to the last "
                            "block (RAMP's Mars craters); spread: one each to the first blocks, "
                            "as scikit-learn's KFold")
    folds: list[dict[str, list[int]]] = Field(
        default_factory=list, description="each fold's blocks, [{train: [0, 1], valid: [2]}, "
                                          "...]; empty: validate each block once")

    @field_validator("folds")
    @classmethod
    def _check_folds(cls, folds: list[dict[str, list[int]]], info: ValidationInfo
                     ) -> list[dict[str, list[int]]]:
        n_blocks = info.data.get("n_blocks", 3)
        for i, fold in enumerate(folds):
            if set(fold) != {"train", "valid"}:
                raise ValueError(f"folds[{i}] must have the keys train and valid, "
                                 f"not {sorted(fold)}")
            if not fold["train"] or not fold["valid"]:
                raise ValueError(f"folds[{i}] must train and validate on at least one block")
            used = fold["train"] + fold["valid"]
            if any(not 0 <= b < n_blocks for b in used):
                raise ValueError(f"folds[{i}] uses a block outside 0..{n_blocks - 1}")
            if set(fold["train"]) & set(fold["valid"]):
                raise ValueError(f"folds[{i}] trains and validates on the same block")
        return folds


class Blocks(BaseCV[BlocksParams]):
    """Explicit contiguous blocks: each fold lists the blocks it trains and validates on.

    The rows are cut into ``n_blocks`` contiguous blocks of ``n // n_blocks``
    rows; the ``n % n_blocks`` rows left over go to the last block
    (``remainder: last``, as RAMP's Mars craters) or one each to the first
    blocks (``remainder: spread``, as scikit-learn's ``KFold``, so that
    with empty ``folds`` the scheme gives ``KFold``'s folds). Each
    entry of ``folds`` is ``{train: [blocks], valid: [blocks]}``; when ``folds``
    is empty every block is validated once with the others as training rows.
    RAMP's Mars-crater order is ``n_blocks=3`` with folds
    ``(train [0, 1], valid [2])``, ``(train [1, 2], valid [0])``, ``(train [0, 2], valid [1])``.
    """

    def split(self, X: Any, y: np.ndarray, groups: np.ndarray | None = None
              ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = len(y)
        k = self.params.n_blocks
        sizes = np.full(k, n // k)
        if self.params.remainder == "spread":
            sizes[:n % k] += 1
        else:
            sizes[-1] += n % k
        edges = np.concatenate([[0], np.cumsum(sizes)])
        blocks = [np.arange(edges[b], edges[b + 1]) for b in range(k)]
        folds = self.params.folds or [
            {"train": [b for b in range(k) if b != v], "valid": [v]} for v in range(k)
        ]
        for fold in folds:
            train = np.concatenate([blocks[b] for b in sorted(fold["train"])])
            valid = np.concatenate([blocks[b] for b in sorted(fold["valid"])])
            yield train, valid
