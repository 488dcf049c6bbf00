"""Tabular CV schemes, built from configuration as a run builds them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rampconf.cv import BaseCV
from rampconf.errors import ConfigError
from rampconf.plugin import make_plugin

N = 60
#: Imbalanced three-class targets (30 / 20 / 10), interleaved.
Y3 = np.array(["a", "b", "a", "c", "b", "a"] * (N // 6))
GROUPS = np.repeat(np.arange(12), N // 12)  # 12 groups of 5 contiguous rows
RNG_GROUPS = np.random.default_rng(0).permutation(GROUPS)  # the same groups, scattered

MARS_FOLDS = [{"train": [0, 1], "valid": [2]}, {"train": [1, 2], "valid": [0]},
              {"train": [0, 2], "valid": [1]}]


def cv(name: str, **params: Any) -> BaseCV:
    return make_plugin("cv", name, params, "cv", BaseCV)


def folds(scheme: BaseCV, y: np.ndarray = Y3, groups: np.ndarray | None = None
          ) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(t), np.asarray(v)) for t, v in scheme.split(None, y, groups)]


def assert_disjoint(split: list[tuple[np.ndarray, np.ndarray]], n: int) -> None:
    for train, valid in split:
        assert len(train) and len(valid)
        assert not set(train.tolist()) & set(valid.tolist())
        assert len(set(train.tolist())) == len(train)
        assert len(set(valid.tolist())) == len(valid)
        assert train.min() >= 0 and valid.min() >= 0
        assert train.max() < n and valid.max() < n


def same_folds(a, b) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(np.sort(ta), np.sort(tb)) and np.array_equal(np.sort(va), np.sort(vb))
        for (ta, va), (tb, vb) in zip(a, b, strict=True))


# --------------------------------------------------------------------------- kfold


@pytest.mark.parametrize("shuffle", [False, True], ids=["contiguous", "shuffled"])
@pytest.mark.parametrize("name", ["kfold", "stratified_kfold"])
def test_kfold_covers_every_row_once_in_valid(name, shuffle):
    split = folds(cv(name, n_splits=4, shuffle=shuffle))
    assert len(split) == 4
    assert_disjoint(split, N)
    valid = np.concatenate([v for _, v in split])
    assert sorted(valid.tolist()) == list(range(N))
    for train, valid in split:
        assert sorted(np.concatenate([train, valid]).tolist()) == list(range(N))


def test_kfold_default_has_five_contiguous_folds():
    split = folds(cv("kfold"))
    assert len(split) == 5
    assert [v.tolist() for _, v in split] == [list(range(i, i + 12)) for i in range(0, N, 12)]


def test_kfold_without_shuffle_ignores_random_state():
    assert same_folds(folds(cv("kfold", random_state=1)), folds(cv("kfold", random_state=2)))


@pytest.mark.parametrize("shuffle", [False, True], ids=["contiguous", "shuffled"])
def test_stratified_kfold_keeps_class_proportions(shuffle):
    split = folds(cv("stratified_kfold", n_splits=5, shuffle=shuffle))
    assert_class_proportions(split, Y3)


def assert_class_proportions(split, y: np.ndarray) -> None:
    labels, counts = np.unique(y, return_counts=True)
    share = dict(zip(labels.tolist(), (counts / len(y)).tolist(), strict=True))
    for train, valid in split:
        for rows in (train, valid):
            got = dict(zip(*np.unique(y[rows], return_counts=True), strict=True))
            for label, p in share.items():
                assert abs(got.get(label, 0) - p * len(rows)) <= 1, (label, got, len(rows))


# --------------------------------------------------------------------------- shuffle splits


@pytest.mark.parametrize("name", ["shuffle_split", "stratified_shuffle_split"])
@pytest.mark.parametrize(("sizes", "expected"), [
    ({"test_size": 0.25}, (45, 15)),
    ({"test_size": 12}, (48, 12)),
    ({"test_size": 0.2, "train_size": 0.5}, (30, 12)),
    ({"test_size": 6, "train_size": 30}, (30, 6)),
], ids=["share", "rows", "both-shares", "both-rows"])
def test_shuffle_split_sizes(name, sizes, expected):
    split = folds(cv(name, n_splits=3, **sizes))
    assert len(split) == 3
    assert_disjoint(split, N)
    assert [(len(t), len(v)) for t, v in split] == [expected] * 3


def test_shuffle_split_defaults_to_ten_folds_of_a_fifth():
    split = folds(cv("shuffle_split"))
    assert [(len(t), len(v)) for t, v in split] == [(48, 12)] * 10


def test_stratified_shuffle_split_keeps_class_proportions():
    split = folds(cv("stratified_shuffle_split", n_splits=6, test_size=0.3))
    assert_class_proportions(split, Y3)


RANDOM_SCHEMES = [
    ("kfold", {"shuffle": True}),
    ("stratified_kfold", {"shuffle": True}),
    ("shuffle_split", {}),
    ("stratified_shuffle_split", {}),
]


@pytest.mark.parametrize(("name", "params"), RANDOM_SCHEMES, ids=[n for n, _ in RANDOM_SCHEMES])
def test_random_schemes_reproducible_by_random_state(name, params):
    first = folds(cv(name, random_state=7, **params))
    again = folds(cv(name, random_state=7, **params))
    other = folds(cv(name, random_state=8, **params))
    assert same_folds(first, again)
    assert not same_folds(first, other)


# --------------------------------------------------------------------------- groups


@pytest.mark.parametrize("groups", [GROUPS, RNG_GROUPS], ids=["contiguous", "scattered"])
def test_group_kfold_never_splits_a_group(groups):
    scheme = cv("group_kfold", n_splits=4)
    assert scheme.needs_groups is True
    split = folds(scheme, groups=groups)
    assert len(split) == 4
    assert_disjoint(split, N)
    for train, valid in split:
        assert not set(groups[train].tolist()) & set(groups[valid].tolist())
    seen = np.concatenate([groups[v] for _, v in split])
    assert sorted(set(seen.tolist())) == list(range(12))
    assert sorted(np.concatenate([v for _, v in split]).tolist()) == list(range(N))


@pytest.mark.parametrize("groups", [GROUPS, RNG_GROUPS], ids=["contiguous", "scattered"])
def test_leave_one_group_out_validates_each_group_once(groups):
    scheme = cv("leave_one_group_out")
    assert scheme.needs_groups is True
    split = folds(scheme, groups=groups)
    assert len(split) == 12
    assert_disjoint(split, N)
    held_out = []
    for train, valid in split:
        assert len(set(groups[valid].tolist())) == 1
        assert not set(groups[train].tolist()) & set(groups[valid].tolist())
        assert len(train) + len(valid) == N
        held_out.append(groups[valid][0])
    assert sorted(held_out) == list(range(12))


@pytest.mark.parametrize("name", ["kfold", "stratified_kfold", "shuffle_split",
                                  "stratified_shuffle_split", "time_series_split", "blocks"])
def test_other_schemes_do_not_need_groups(name):
    assert cv(name).needs_groups is False


# --------------------------------------------------------------------------- time series


@pytest.mark.parametrize("params", [
    {}, {"n_splits": 3}, {"gap": 2}, {"max_train_size": 10}, {"test_size": 5, "n_splits": 4},
], ids=["default", "three", "gap", "max-train", "test-size"])
def test_time_series_split_trains_only_on_the_past(params):
    split = folds(cv("time_series_split", **params))
    assert len(split) == params.get("n_splits", 5)
    assert_disjoint(split, N)
    for train, valid in split:
        assert train.max() < valid.min()
        assert np.array_equal(valid, np.arange(valid.min(), valid.max() + 1))
        assert np.array_equal(train, np.arange(train.min(), train.max() + 1))
        assert valid.min() - train.max() - 1 == params.get("gap", 0)
        if "max_train_size" in params:
            assert len(train) <= params["max_train_size"]
        else:
            assert train.min() == 0
        if "test_size" in params:
            assert len(valid) == params["test_size"]
    assert split[-1][1].max() == N - 1
    starts = [v.min() for _, v in split]
    assert starts == sorted(starts)


# --------------------------------------------------------------------------- blocks


@pytest.mark.parametrize("n", [30, 32])
def test_blocks_mars_fold_order(n):
    split = folds(cv("blocks", n_blocks=3, folds=MARS_FOLDS), y=np.zeros(n))
    n1, n2 = n // 3, 2 * (n // 3)
    r = np.arange
    expected = [
        (r(0, n2), r(n2, n)),
        (r(n1, n), r(0, n1)),
        (np.concatenate([r(0, n1), r(n2, n)]), r(n1, n2)),
    ]
    assert len(split) == 3
    for (train, valid), (want_train, want_valid) in zip(split, expected, strict=True):
        assert train.tolist() == want_train.tolist()
        assert valid.tolist() == want_valid.tolist()


@pytest.mark.parametrize("n", [30, 32])
def test_blocks_without_folds_validates_each_block_once(n):
    split = folds(cv("blocks", n_blocks=3), y=np.zeros(n))
    n1, n2 = n // 3, 2 * (n // 3)
    assert [v.tolist() for _, v in split] == [list(range(0, n1)), list(range(n1, n2)),
                                              list(range(n2, n))]
    for train, valid in split:
        assert sorted(np.concatenate([train, valid]).tolist()) == list(range(n))


@pytest.mark.parametrize(("bad_folds", "problem"), [
    ([{"train": [0, 1], "valid": [3]}], "folds[0] uses a block outside 0..2"),
    ([{"train": [-1, 1], "valid": [2]}], "folds[0] uses a block outside 0..2"),
    ([*MARS_FOLDS[:2], {"train": [0, 1], "valid": [1]}], "folds[2] trains and validates on "
                                                         "the same block"),
    ([{"train": [0, 1], "test": [2]}], "folds[0] must have the keys train and valid"),
    ([{"train": [0, 1], "valid": [2], "extra": [0]}],
     "folds[0] must have the keys train and valid"),
    ([{"train": [0, 1]}], "folds[0] must have the keys train and valid"),
], ids=["unknown-block", "negative-block", "overlap", "wrong-key", "extra-key", "no-valid"])
def test_blocks_bad_folds_rejected(bad_folds, problem):
    with pytest.raises(ConfigError) as info:
        cv("blocks", n_blocks=3, folds=bad_folds)
    assert len(info.value.lines) == 1
    assert info.value.lines[0].startswith("cv")
    assert problem in info.value.lines[0]


@pytest.mark.parametrize("bad_folds", [
    [{"train": [0, 1], "valid": []}],
    [{"train": [], "valid": [2]}],
], ids=["empty-valid", "empty-train"])
def test_blocks_fold_with_no_block_rejected_by_config(bad_folds):
    """A fold must train and validate on at least one block; caught when the config is checked."""
    with pytest.raises(ConfigError) as info:
        cv("blocks", n_blocks=3, folds=bad_folds)
    assert "folds[0]" in info.value.lines[0]


@pytest.mark.parametrize(("params", "key"), [
    ({"n_splits": 1}, "cv.n_splits"),
    ({"n_splits": "five"}, "cv.n_splits"),
], ids=["one-split", "text"])
def test_kfold_bad_params(params, key):
    with pytest.raises(ConfigError) as info:
        cv("kfold", **params)
    assert info.value.lines[0].startswith(f"{key}: ")


def test_blocks_needs_two_blocks():
    with pytest.raises(ConfigError, match=r"^cv.n_blocks: input should be greater than or "
                                          r"equal to 2, got 1$"):
        cv("blocks", n_blocks=1)
