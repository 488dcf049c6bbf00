"""hep_tracking: the starting kit gives ramp-workflow's numbers (fold, mean, std, bagged)."""

from __future__ import annotations

import json

import pytest

import rampconf

pytestmark = pytest.mark.slow

STEPS = ("train", "valid", "test")


def _check(summary: dict, fold_scores: dict, expected: dict) -> None:
    names = expected["score_names"]
    for fold, expected_fold in enumerate(expected["folds"]):
        for name in names:
            for step in STEPS:
                assert fold_scores[(fold, step, name)] == pytest.approx(
                    expected_fold[name][step], abs=1e-9), (fold, step, name)
    for stat, key in (("mean", "mean_cv"), ("std", "mean_cv_std")):
        for name in names:
            for step in STEPS:
                assert summary[stat][step][name] == pytest.approx(
                    expected[key][name][step], abs=1e-9), (stat, step, name)
    for name in names:
        for step in ("valid", "test"):
            assert summary["bagged"][step][name] == pytest.approx(
                expected["bagged"][name][step], abs=1e-9), ("bagged", step, name)


def test_starting_kit_same_numbers_as_ramp_workflow(kits, reference, tmp_path, monkeypatch):
    expected = reference["hep_tracking"]["starting_kit"]
    assert expected["deterministic"]
    monkeypatch.chdir(tmp_path)
    result = rampconf.run(problem="hep_tracking", submission="starting_kit", quiet=True,
                          overrides=[f"data_root={kits}", "compat=ramp"])
    assert result.status == "ok"
    assert result.summary["score_names"] == expected["score_names"]
    scores = result.scores.set_index(["fold", "step", "score"])["value"].to_dict()
    assert len(scores) == len(expected["folds"]) * len(expected["score_names"]) * 3
    _check(result.summary, scores, expected)


def test_command_line_same_numbers_as_ramp_workflow(run_cli, kits, reference, tmp_path):
    import pandas as pd

    proc = run_cli("problem=hep_tracking", f"data_root={kits}", "progress=false", "compat=ramp")
    assert proc.returncode == 0, proc.stderr
    run_dir = next((tmp_path / "outputs").rglob("summary.json")).parent
    summary = json.loads((run_dir / "summary.json").read_text())
    table = pd.read_csv(run_dir / "scores.csv")
    scores = table.set_index(["fold", "step", "score"])["value"].to_dict()
    _check(summary, scores, reference["hep_tracking"]["starting_kit"])
    assert "efficiency" in proc.stdout


def test_two_folds_bag_without_averaging_cluster_ids(kits, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = rampconf.run(problem="hep_tracking", submission="starting_kit", quiet=True,
                          overrides=[f"data_root={kits}", "problem.cv.n_splits=2"])
    assert result.status == "ok"
    for step in ("valid", "test"):
        assert 0.0 <= result.summary["bagged"][step]["efficiency"] <= 1.0
    # The starting kit ignores the training data: every fold predicts the same test ids.
    assert result.summary["bagged"]["test"]["efficiency"] == pytest.approx(
        result.summary["mean"]["test"]["efficiency"], abs=1e-12)
