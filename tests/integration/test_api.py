"""The Python API: same composed, validated config; results as objects and DataFrames."""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd
import pytest

import rampconf
from rampconf.report import main as report_main

pytestmark = pytest.mark.slow


def test_run_returns_frames_and_leaves_the_notebook_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    result = rampconf.run(problem="iris", overrides=["cv=kfold", "cv.n_splits=3",
                                                     "cv.shuffle=true"], quiet=True)
    assert os.getcwd() == str(tmp_path)
    assert root.handlers == handlers and root.level == level
    assert isinstance(result.scores, pd.DataFrame)
    assert set(result.scores["fold"]) == {0, 1, 2}
    mean = result.table("mean")
    assert list(mean.index) == ["train", "valid", "test"] and "acc" in mean.columns
    assert result.objective == pytest.approx(mean.loc["valid", "acc"])
    assert result.run_dir is not None and result.run_dir.is_relative_to(tmp_path / "outputs")
    # the bagging curve ends at the bagged scores
    last = result.bagged[result.bagged["n_folds"] == 3].set_index(["step", "score"])["value"]
    assert last[("test", "acc")] == pytest.approx(result.summary["bagged"]["test"]["acc"])


def test_run_leaves_the_global_random_states_alone(tmp_path, monkeypatch):
    """Folds seed the global RNGs for unseeded submissions, then give the caller's back."""
    import random
    import stat

    monkeypatch.chdir(tmp_path)
    np.random.seed(12345)
    random.seed(12345)
    numpy_state, random_state = np.random.get_state(), random.getstate()
    result = rampconf.run(problem="iris", overrides=["n_jobs=1", "retrain=true"], quiet=True)
    assert result.status == "ok"
    after = np.random.get_state()
    assert after[0] == numpy_state[0] and np.array_equal(after[1], numpy_state[1])
    assert after[2:] == numpy_state[2:]
    assert random.getstate() == random_state
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((result.run_dir / "summary.json").stat().st_mode) == 0o666 & ~mask


def test_run_directory_reloads_and_rebuilds_tables(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    result = rampconf.run(problem="iris", submission="random_forest_10_10",
                          overrides=["retrain=true"], output_dir=tmp_path / "run", quiet=True)
    loaded = rampconf.load_run(tmp_path / "run")
    pd.testing.assert_frame_equal(loaded.scores, result.scores, check_dtype=False)
    for key in ("mean", "std", "bagged", "official_score", "status", "seeds"):
        assert loaded.summary[key] == result.summary[key], key
    assert loaded.config["submission"]["name"] == "random_forest_10_10"
    fold = loaded.predictions(0)
    assert fold["train"].shape == (120, 3) and fold["test"].shape == (30, 3)
    assert set(fold) == {"train", "test", "train_idx", "valid_idx"}
    bagged = loaded.predictions("bagged")
    assert np.isnan(bagged["valid"]).all(axis=1).sum() > 0  # rows never validated
    assert set(loaded.summary["retrain"]) == {"train", "test"}
    assert loaded.predictions("retrain")["test"].shape == (30, 3)
    assert report_main([str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "iris / random_forest_10_10: folds" in out and "retrained on all training data" in out
    assert report_main([str(tmp_path / "nowhere")]) == 2


def test_seeds_make_unseeded_submissions_reproducible(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "submissions" / "iris" / "unseeded"
    folder.mkdir(parents=True)
    (folder / "estimator.py").write_text(
        "from sklearn.ensemble import RandomForestClassifier\n\n"
        "def get_estimator(n_estimators=3):\n"
        "    return RandomForestClassifier(n_estimators=n_estimators)\n")
    runs = [rampconf.run(problem="iris", submission="unseeded", quiet=True,
                         overrides=[f"seed={seed}", "submission.params.n_estimators=2"])
            for seed in (1, 1, 2)]
    values = [r.scores["value"].to_numpy() for r in runs]
    np.testing.assert_array_equal(values[0], values[1])
    assert runs[0].summary["seeds"] == runs[1].summary["seeds"]
    assert runs[0].summary["seeds"] != runs[2].summary["seeds"]


def test_parallel_folds_give_the_same_numbers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one = rampconf.run(problem="iris", quiet=True, overrides=["n_jobs=1"])
    two = rampconf.run(problem="iris", quiet=True, overrides=["n_jobs=2"])
    pd.testing.assert_frame_equal(one.scores, two.scores)


def test_api_errors_are_exceptions(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(rampconf.ConfigError, match=r"cv\.n_splits"):
        rampconf.run(problem="iris", overrides=["cv=kfold", "cv.n_splits=1"], quiet=True)
    with pytest.raises(rampconf.ConfigError, match=r"^problem=nope: unknown problem option 'nope'"):
        rampconf.run(problem="nope", quiet=True)
