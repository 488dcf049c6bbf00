"""Tabular CV schemes: thin, seeded wrappers of scikit-learn's splitters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field, ValidationInfo, field_validator
from sklearn import model_selection

from rampconf.cv import BaseCV
from rampconf.plugin import StrictModel

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "Blocks",
    "GroupKFold",
    "KFold",
    "LeaveOneGroupOut",
    "ShuffleSplit",
    "StratifiedKFold",
    "StratifiedShuffleSplit",
    "TimeSeriesSplit",
]


class _SklearnCV(BaseCV):
    """A CV scheme that builds a scikit-learn splitter from its parameters."""

    def make_splitter(self) -> Any:
        raise NotImplementedError

    def split(self, X: Any, y: np.ndarray, groups: np.ndarray | None = None
              ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = len(y)
        placeholder = np.zeros((n, 1))  # splitters only need the number of rows
        yield from self.make_splitter().split(placeholder, y, groups)


class _KFoldParams(StrictModel):
    n_splits: int = Field(5, ge=2)
    shuffle: bool = False
    random_state: int | None = 42


class KFold(_SklearnCV):
    """K contiguous folds (``shuffle=True`` shuffles first, seeded by ``random_state``)."""

    Params = _KFoldParams

    def make_splitter(self) -> Any:
        p = self.params
        return model_selection.KFold(p.n_splits, shuffle=p.shuffle,  # type: ignore[attr-defined]
                                     random_state=p.random_state if p.shuffle else None)  # type: ignore[attr-defined]


class StratifiedKFold(KFold):
    """K folds that keep the class proportions of the targets."""

    def make_splitter(self) -> Any:
        p = self.params
        return model_selection.StratifiedKFold(
            p.n_splits, shuffle=p.shuffle,  # type: ignore[attr-defined]
            random_state=p.random_state if p.shuffle else None)  # type: ignore[attr-defined]


class _ShuffleSplitParams(StrictModel):
    n_splits: int = Field(10, ge=1)
    test_size: float | int | None = Field(0.2, gt=0)
    train_size: float | int | None = Field(None, gt=0)
    random_state: int | None = 42


class ShuffleSplit(_SklearnCV):
    """Random train/valid splits, drawn independently (seeded by ``random_state``)."""

    Params = _ShuffleSplitParams

    def make_splitter(self) -> Any:
        return model_selection.ShuffleSplit(**self.params.model_dump())


class StratifiedShuffleSplit(ShuffleSplit):
    """Random train/valid splits that keep the class proportions of the targets."""

    def make_splitter(self) -> Any:
        return model_selection.StratifiedShuffleSplit(**self.params.model_dump())


class GroupKFold(_SklearnCV):
    """K folds that never split a group (groups from the problem's ``data.groups`` column)."""

    class Params(StrictModel):
        n_splits: int = Field(5, ge=2)

    needs_groups = True

    def make_splitter(self) -> Any:
        return model_selection.GroupKFold(n_splits=self.params.n_splits)  # type: ignore[attr-defined]


class LeaveOneGroupOut(_SklearnCV):
    """One fold per group: validate on that group, train on the others."""

    needs_groups = True

    def make_splitter(self) -> Any:
        return model_selection.LeaveOneGroupOut()


class TimeSeriesSplit(_SklearnCV):
    """scikit-learn's expanding-window time-series split (rows in time order)."""

    class Params(StrictModel):
        n_splits: int = Field(5, ge=2)
        max_train_size: int | None = Field(None, ge=1)
        test_size: int | None = Field(None, ge=1)
        gap: int = Field(0, ge=0)

    def make_splitter(self) -> Any:
        return model_selection.TimeSeriesSplit(**self.params.model_dump())


class Blocks(BaseCV):
    """Explicit contiguous blocks: each fold lists the blocks it trains and validates on.

    The rows are cut into ``n_blocks`` contiguous blocks of ``n // n_blocks``
    rows, the last block taking the remainder (as RAMP does). Each
    entry of ``folds`` is ``{train: [blocks], valid: [blocks]}``; when ``folds``
    is empty every block is validated once with the others as training rows.
    RAMP's Mars-crater order is ``n_blocks=3`` with folds
    ``(train [0, 1], valid [2])``, ``(train [1, 2], valid [0])``, ``(train [0, 2], valid [1])``.
    """

    class Params(StrictModel):
        n_blocks: int = Field(3, ge=2)
        folds: list[dict[str, list[int]]] = Field(default_factory=list)

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

    def split(self, X: Any, y: np.ndarray, groups: np.ndarray | None = None
              ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = len(y)
        k = self.params.n_blocks  # type: ignore[attr-defined]
        edges = [b * (n // k) for b in range(k)] + [n]
        blocks = [np.arange(edges[b], edges[b + 1]) for b in range(k)]
        folds = self.params.folds or [  # type: ignore[attr-defined]
            {"train": [b for b in range(k) if b != v], "valid": [v]} for v in range(k)
        ]
        for fold in folds:
            train = np.concatenate([blocks[b] for b in sorted(fold["train"])])
            valid = np.concatenate([blocks[b] for b in sorted(fold["valid"])])
            yield train, valid
