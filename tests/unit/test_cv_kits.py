"""The CV schemes real kits use, on small generated data, against scikit-learn's splitters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import model_selection

from rampconf.cv import BaseCV
from rampconf.errors import ConfigError
from rampconf.plugin import make_plugin


def cv(name: str, **params: Any) -> BaseCV:
    return make_plugin("cv", name, params, "cv", BaseCV)


def folds(scheme: BaseCV, n: int, X: Any = None, groups: np.ndarray | None = None
          ) -> list[tuple[list[int], list[int]]]:
    return [(np.asarray(t).tolist(), np.asarray(v).tolist())
            for t, v in scheme.split(X, np.zeros(n), groups)]


def sklearn_folds(splitter: Any, n: int) -> list[tuple[list[int], list[int]]]:
    return [(t.tolist(), v.tolist()) for t, v in splitter.split(np.zeros((n, 1)))]


# --------------------------------------------------------------------------- predefined_split


FOLD_IDS = np.array([0, 1, -1, 2, 1, 0, -1, 2, 2, 0, 1, 1])


def test_predefined_split_from_the_groups_is_sklearns():
    ours = folds(cv("predefined_split"), len(FOLD_IDS), groups=FOLD_IDS)
    assert ours == sklearn_folds(model_selection.PredefinedSplit(FOLD_IDS), len(FOLD_IDS))
    assert len(ours) == 3


def test_predefined_split_from_a_feature_column():
    X = pd.DataFrame({"x": np.arange(12.0), "fold": FOLD_IDS})
    ours = folds(cv("predefined_split", column="fold"), 12, X=X)
    assert ours == sklearn_folds(model_selection.PredefinedSplit(FOLD_IDS), 12)


def test_predefined_split_with_labels_and_other_train_only_values():
    labels = np.array(["2019", "2020", "train", "2019", "2021", "train"])
    ours = folds(cv("predefined_split", train_only=["train"]), 6, groups=labels)
    assert ours == [([1, 2, 4, 5], [0, 3]), ([0, 2, 3, 4, 5], [1]), ([0, 1, 2, 3, 5], [4])]


def test_predefined_split_needs_groups_only_without_a_column():
    assert cv("predefined_split").needs_groups
    assert not cv("predefined_split", column="fold").needs_groups


def test_a_missing_column_lists_the_features():
    X = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    with pytest.raises(ValueError, match=r"no column 'fold' in the training features \(the "
                                         r"features are \['a', 'b'\]\)"):
        folds(cv("predefined_split", column="fold"), 2, X=X)


def test_every_row_train_only_is_refused():
    with pytest.raises(ValueError, match="no fold"):
        folds(cv("predefined_split"), 3, groups=np.array([-1, -1, -1]))


# --------------------------------------------------------------------------- date_intervals


def random_dates(n: int, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2015-03-01 06:30")
    return pd.Series(start + pd.to_timedelta(rng.integers(0, 200 * 24, n), unit="h"))


def kit_equal_day_folds(dates: pd.Series, n_splits: int) -> list[tuple[list[int], list[int]]]:
    """The velib kit's problem.py folds, as its docstring states them: whole-day periods of
    (last - first).days // n_splits days from the first date; rows after the last period
    only train."""
    n_days = (dates.max() - dates.min()).days
    length = pd.Timedelta(days=n_days // n_splits)
    result = []
    for i in range(n_splits):
        valid = (dates >= dates.min() + i * length) & (dates < dates.min() + (i + 1) * length)
        result.append((np.flatnonzero(~valid).tolist(), np.flatnonzero(valid).tolist()))
    return result


def test_date_periods_of_whole_days_are_the_kits_folds():
    dates = random_dates(500)
    X = pd.DataFrame({"date": dates.astype(str), "x": np.arange(500)})
    ours = folds(cv("date_intervals", column="date", n_periods=8, round_to="1D"), 500, X=X)
    expected = kit_equal_day_folds(dates, 8)
    assert ours == expected
    # Whole days leave rows after the last period; they are trained on, never validated.
    never_validated = set(range(500)) - {row for _, valid in ours for row in valid}
    assert never_validated
    assert all(never_validated <= set(train) for train, _ in ours)


@pytest.mark.parametrize("k", [3, 4, 6])
def test_equal_periods_training_on_the_past_are_sklearns_time_series_split(k):
    # Evenly spaced dates, a multiple of k rows: period i holds rows [i m, (i + 1) m).
    n = 12 * k
    X = pd.DataFrame({"day": pd.date_range("2020-01-01", periods=n, freq="D")})
    ours = folds(cv("date_intervals", column="day", n_periods=k, train="past"), n, X=X)
    assert ours == sklearn_folds(model_selection.TimeSeriesSplit(n_splits=k - 1), n)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_equal_periods_training_on_the_rest_are_sklearns_kfold(k):
    n = 10 * k
    X = pd.DataFrame({"day": pd.date_range("2020-01-01", periods=n, freq="6h")})
    ours = folds(cv("date_intervals", column="day", n_periods=k), n, X=X)
    assert ours == sklearn_folds(model_selection.KFold(n_splits=k), n)


def test_date_periods_do_not_depend_on_the_row_order():
    dates = random_dates(300, seed=1)
    order = np.random.default_rng(2).permutation(300)
    scheme = cv("date_intervals", n_periods=4)
    ours = folds(scheme, 300, groups=dates.to_numpy())
    shuffled = folds(scheme, 300, groups=dates.to_numpy()[order])
    for (_, valid), (_, valid_shuffled) in zip(ours, shuffled, strict=True):
        assert sorted(order[valid_shuffled].tolist()) == valid


def test_explicit_date_intervals():
    days = pd.date_range("2021-01-01", periods=10, freq="D").to_numpy()
    scheme = cv("date_intervals", intervals=[["2021-01-03", "2021-01-05"],
                                             ["2021-01-08", "2021-02-01"]])
    assert folds(scheme, 10, groups=days) == [
        ([0, 1, 4, 5, 6, 7, 8, 9], [2, 3]), ([0, 1, 2, 3, 4, 5, 6], [7, 8, 9])]
    past = cv("date_intervals", intervals=[["2021-01-03", "2021-01-05"]], train="past")
    assert folds(past, 10, groups=days) == [([0, 1], [2, 3])]


@pytest.mark.parametrize(("params", "message"), [
    ({"intervals": [["2021-01-05", "2021-01-03"]]}, "must start before it ends"),
    ({"intervals": [["soon", "later"]]}, "is not two dates"),
    ({"intervals": [["2021-01-01", "2021-02-01"]], "n_periods": 3}, "not both"),
    ({"n_periods": None}, "give the validation windows as intervals"),
    ({"n_periods": 3, "round_to": "fortnight"}, "must be a positive duration"),
    ({"n_periods": 3, "train": "future"}, "train:"),
], ids=["reversed", "not-dates", "both", "neither", "bad-duration", "bad-train"])
def test_bad_date_interval_parameters(params, message):
    with pytest.raises(ConfigError) as info:
        cv("date_intervals", **params)
    assert message in str(info.value)


@pytest.mark.parametrize(("values", "message"), [
    (np.array(["2021-01-01", None, "2021-01-03"], dtype=object), "row 1 has no date"),
    (np.array(["a", "b", "c"]), "the column does not hold dates"),
], ids=["missing-date", "not-dates"])
def test_bad_date_columns(values, message):
    with pytest.raises(ValueError, match=message):
        folds(cv("date_intervals", n_periods=2), 3, groups=values)


def test_an_empty_window_and_a_window_without_past_are_named():
    days = pd.date_range("2021-01-01", periods=5, freq="D").to_numpy()
    with pytest.raises(ValueError, match=r"window 0 \[2022-01-01 00:00:00, 2022-02-01 00:00:00\) "
                                         r"holds no row"):
        folds(cv("date_intervals", intervals=[["2022-01-01", "2022-02-01"]]), 5, groups=days)
    with pytest.raises(ValueError, match="has no row dated before it to train on"):
        folds(cv("date_intervals", intervals=[["2020-01-01", "2021-01-03"]], train="past"), 5,
              groups=days)


# --------------------------------------------------------------------------- blocks


@pytest.mark.parametrize(("n", "k"), [(31, 3), (10, 4), (29, 5), (30, 3)])
def test_blocks_spreading_the_remainder_are_sklearns_kfold(n, k):
    ours = folds(cv("blocks", n_blocks=k, remainder="spread"), n)
    assert ours == sklearn_folds(model_selection.KFold(n_splits=k), n)


def test_blocks_keep_the_remainder_in_the_last_block_by_default():
    # RAMP's Mars-crater blocks (the parity tests depend on them): n1 = n // 3 rows each,
    # the last block takes the rest.
    split = folds(cv("blocks"), 31)
    assert [valid for _, valid in split] == [list(range(0, 10)), list(range(10, 20)),
                                             list(range(20, 31))]


# --------------------------------------------------------------------------- time_series_split


def test_time_series_split_keeps_a_seeded_share_of_each_window():
    n = 120
    full = sklearn_folds(model_selection.TimeSeriesSplit(n_splits=4), n)
    ours = folds(cv("time_series_split", n_splits=4, valid_fraction=0.25, random_state=3), n)
    assert ours == folds(cv("time_series_split", n_splits=4, valid_fraction=0.25,
                            random_state=3), n)
    assert ours != folds(cv("time_series_split", n_splits=4, valid_fraction=0.25,
                            random_state=4), n)
    for (train, valid), (full_train, full_valid) in zip(ours, full, strict=True):
        assert train == full_train
        assert set(valid) <= set(full_valid) and valid == sorted(valid)
        assert len(valid) == round(0.25 * len(full_valid))


def test_time_series_split_whole_windows_by_default():
    assert folds(cv("time_series_split", n_splits=3), 40) == \
        sklearn_folds(model_selection.TimeSeriesSplit(n_splits=3), 40)
