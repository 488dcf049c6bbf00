"""El Niño end to end: ramp-workflow's numbers, and the lookahead check on the command line."""

from __future__ import annotations

import pytest

import rampconf

pytestmark = pytest.mark.slow


def test_same_numbers_as_ramp_workflow(kits, reference, tmp_path, monkeypatch):
    expected = reference["el_nino"]["starting_kit"]
    assert expected["deterministic"]
    monkeypatch.chdir(tmp_path)
    result = rampconf.run(problem="el_nino", submission="starting_kit", quiet=True,
                          overrides=[f"data_root={kits}", "compat=ramp"])
    assert result.status == "ok"
    assert result.summary["score_names"] == expected["score_names"] == ["rmse"]
    scores = result.scores.set_index(["fold", "step", "score"])["value"]
    assert len(expected["folds"]) == 3
    for fold, fold_scores in enumerate(expected["folds"]):
        for step in ("train", "valid", "test"):
            assert scores[(fold, step, "rmse")] == pytest.approx(
                fold_scores["rmse"][step], abs=1e-9), (fold, step)
    for stat, key in (("mean", "mean_cv"), ("std", "mean_cv_std")):
        for step in ("train", "valid", "test"):
            assert result.summary[stat][step]["rmse"] == pytest.approx(
                expected[key]["rmse"][step], abs=1e-9), (stat, step)
    for step in ("valid", "test"):
        assert result.summary["bagged"][step]["rmse"] == pytest.approx(
            expected["bagged"]["rmse"][step], abs=1e-9), ("bagged", step)


def test_starting_kit_accepted_on_the_command_line(run_cli, kits):
    proc = run_cli("problem=el_nino", f"data_root={kits}", "progress=false")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "looks ahead" not in proc.stdout + proc.stderr
    assert "0.692" in proc.stdout


def test_illegal_lookahead_rejected_naming_the_check_point(run_cli, kits):
    proc = run_cli("problem=el_nino", "submission=illegal_lookahead", f"data_root={kits}",
                   "progress=false")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "looks ahead" in out
    assert "check point 6 (time index 18, 1701-07-16)" in out


def test_exact_fold_time_is_the_default_and_wins_over_the_switch(kits, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for overrides in ([], ["compat=ramp", "problem.workflow.fold_time=exact"]):
        result = rampconf.run(problem="el_nino", quiet=True,
                              overrides=[f"data_root={kits}", *overrides])
        assert result.status == "ok"
        assert result.summary["mean"]["valid"]["rmse"] == pytest.approx(0.4443, abs=1e-3)
