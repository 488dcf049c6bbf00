"""Run directories as the database: which runs compare, old runs, changed data, detection."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

import rampconf
from rampconf.errors import DataError
from rampconf.leaderboard import Column, make_leaderboard, make_leaderboards
from rampconf.rescore import rescore
from rampconf.runs import as_run, find_runs

pytestmark = pytest.mark.slow


def iris(tmp_path, name, *overrides, submission="starting_kit", kits=None):
    root = [f"data_root={kits}"] if kits else []
    return rampconf.run(problem="iris_kit" if kits else "iris", submission=submission,
                        overrides=[*root, "n_figures=0", *overrides],
                        output_dir=tmp_path / "outputs" / name, quiet=True)


def test_fold_hashes_say_which_runs_compare(tmp_path):
    first = as_run(iris(tmp_path, "a").run_dir)
    again = as_run(iris(tmp_path, "b", submission="random_forest_10_10").run_dir)
    other_seed = as_run(iris(tmp_path, "c", "problem.cv.random_state=7").run_dir)
    assert first.folds_id == again.folds_id and first.comparable_key == again.comparable_key
    assert other_seed.folds_id != first.folds_id
    assert first.result.folds["indices_sha256"].str.fullmatch("[0-9a-f]{64}").all()
    boards = make_leaderboards(paths=[tmp_path / "outputs"])
    assert [len(b.runs) for b in boards] == [2, 1]
    assert boards[0].notes[-1] == ("1 run(s) of iris are on another board: other CV folds "
                                   "(stratified_shuffle_split n_splits=2 test_size=0.2 "
                                   "random_state=7)")


def test_runs_written_before_fold_hashes(tmp_path):
    """Old runs: the hash comes from the saved fold predictions; without them, a board alone."""
    new = iris(tmp_path, "new")
    old = tmp_path / "outputs" / "old"
    shutil.copytree(new.run_dir, old)
    folds = pd.read_csv(old / "folds.csv").drop(columns="indices_sha256")
    folds.to_csv(old / "folds.csv", index=False)
    assert as_run(old).folds_id == as_run(new.run_dir).folds_id
    rescored = rescore(old, output_dir=tmp_path / "old_rescored")  # writes the column again
    assert rescored.folds["indices_sha256"].tolist() == new.folds["indices_sha256"].tolist()
    shutil.rmtree(old / "predictions")
    assert as_run(old).folds_id is None
    boards = make_leaderboards([new.run_dir, old])
    assert len(boards) == 2
    assert any("its folds' rows are not recorded" in note for b in boards for note in b.notes)
    with pytest.raises(DataError, match=r"fold 0 has no saved predictions \(fold_0.npz is "
                                        r"missing; was the run made with save_predictions"):
        rescore(old, output_dir=tmp_path / "nothing")


def test_retrained_model_is_rescored_too(tmp_path):
    source = iris(tmp_path, "retrained", "retrain=true")
    rescored = rescore(source.run_dir, ["~problem.scores.nll"], output_dir=tmp_path / "r")
    assert "nll" not in rescored.summary["score_names"]
    expected = {step: {k: v for k, v in values.items() if k != "nll"}
                for step, values in source.summary["retrain"].items()}
    assert set(rescored.summary["retrain"]) == {"train", "test"}
    for step, values in expected.items():
        assert rescored.summary["retrain"][step] == pytest.approx(values)
    retrain = pd.read_csv(tmp_path / "r" / "retrain_scores.csv")
    assert set(retrain["score"]) == set(rescored.summary["score_names"])
    # a value the run read from the environment is saved as its text, as by the run
    saved = yaml.safe_load((source.run_dir / "config.yaml").read_text())["data_root"]
    assert saved.startswith("${oc.env:")
    assert yaml.safe_load((tmp_path / "r" / "config.yaml").read_text())["data_root"] == saved


def test_data_changed_since_the_run_is_refused(tmp_path, kits):
    data = tmp_path / "data" / "iris"
    data.mkdir(parents=True)
    for name in ("train.csv", "test.csv"):
        shutil.copy(kits / "iris" / name, data / name)
    run = iris(tmp_path, "run", kits=tmp_path / "data")
    with open(data / "test.csv", "a") as handle:
        handle.write("5.0,3.0,1.5,0.2,setosa\n")
    with pytest.raises(DataError, match=r"the data file .*test.csv \(test\) changed since the "
                                        r"run \(its SHA-256 differs from metadata.json's\)"):
        rescore(run.run_dir, output_dir=tmp_path / "rescored")


def test_detection_runs_rescore_as_fresh_runs_do(tmp_path, kits):
    """Saved detections unpack to what was scored: compat=ramp re-scored equals a fresh run."""
    common = [f"data_root={kits}", "n_figures=0"]
    source = rampconf.run(problem="mars_craters", overrides=common,
                          output_dir=tmp_path / "source", quiet=True)
    rescored = rescore(source.run_dir, ["compat=ramp"], output_dir=tmp_path / "rescored")
    fresh = rampconf.run(problem="mars_craters", overrides=[*common, "compat=ramp"],
                         output_dir=tmp_path / "fresh", quiet=True)
    pd.testing.assert_frame_equal(rescored.scores, fresh.scores)
    pd.testing.assert_frame_equal(rescored.bagged, fresh.bagged)
    assert yaml.safe_load((tmp_path / "rescored" / "config.yaml").read_text())["compat"] == "ramp"


def test_a_notebook_ranks_its_own_list_with_its_own_columns(tmp_path, kits):
    """Issue 12's way: explicit runs, a custom column and a part of the test rows."""
    runs = [iris(tmp_path, name, submission=name, kits=kits)
            for name in ("starting_kit", "random_forest_10_10")]
    public = np.arange(0, 12)
    board = make_leaderboard([r.run_dir for r in runs],
                             columns=["bagged.test.acc=test acc", Column("mean", "valid", "nll")],
                             rank_by="bagged.test.acc=test acc", test_rows=public,
                             n_bootstrap=200, random_state=1)
    assert list(board.frame.columns[:4]) == ["rank", "submission", "test acc", "nll valid"]
    assert board.frame["submission"].tolist() == ["random_forest_10_10", "starting_kit"]
    assert "over its rows given (200 resamples, seed 1)" in " ".join(board.notes)
    assert board.rank_by.name == "test acc" and board.greater_is_better
    with pytest.raises(ValueError, match="not comparable"):
        make_leaderboard([runs[0].run_dir, iris(tmp_path, "other", "problem.cv.n_splits=3",
                                                kits=kits).run_dir])
    found = find_runs([tmp_path / "outputs"], problem="iris_kit")
    assert sorted(r.submission for r in found) == ["random_forest_10_10", "starting_kit",
                                                   "starting_kit"]
