"""Same numbers as ramp-workflow: every fold score, mean, std and bagged score.

Compared to 1e-9 with ``reference/ramp_test_scores.json`` (ramp-workflow
0.7.0), or, for the titanic starting kit, whose unconverged logistic
regression gives CPU-dependent numbers, with ramp-workflow 0.7.0 run on this
machine (see ``tests/ramp_oracle.py``).
"""

from __future__ import annotations

import pytest

import rampconf
from rampconf.resources import packaged_submissions_dir
from tests import ramp_oracle

pytestmark = pytest.mark.slow

# Every parity run uses the one switch (e.g. ramp-workflow's Brier reliability,
# every bin centred at 0.005).
RAMP = ["compat=ramp"]

CASES = {
    "iris-starting_kit": ("iris", "iris_kit", "starting_kit", []),
    "iris-random_forest_10_10": ("iris", "iris_kit", "random_forest_10_10", []),
    "titanic_old-starting_kit": ("titanic_old", "titanic_old", "starting_kit", []),
    "boston_housing-starting_kit": ("boston_housing", "boston_housing", "starting_kit", []),
}


def run_kit(problem: str, submission: str, kits, tmp_path, monkeypatch, extra=()):
    monkeypatch.chdir(tmp_path)
    return rampconf.run(problem=problem, submission=submission, quiet=True,
                        overrides=[f"data_root={kits}", *RAMP, *extra])


@pytest.mark.parametrize("case", list(CASES))
def test_same_numbers_as_ramp_workflow(case, kits, reference, tmp_path, monkeypatch):
    kit, problem, submission, extra = CASES[case]
    expected = reference[kit][submission]
    assert expected["deterministic"]
    result = run_kit(problem, submission, kits, tmp_path, monkeypatch, extra)
    assert result.status == "ok"
    assert result.summary["score_names"] == expected["score_names"]
    scores = result.scores.set_index(["fold", "step", "score"])["value"]
    n_checked = 0
    for fold, fold_scores in enumerate(expected["folds"]):
        for name in expected["score_names"]:
            for step in ("train", "valid", "test"):
                assert scores[(fold, step, name)] == pytest.approx(
                    fold_scores[name][step], abs=1e-9), (fold, step, name)
                n_checked += 1
    assert n_checked == len(expected["folds"]) * len(expected["score_names"]) * 3
    for stat, key in (("mean", "mean_cv"), ("std", "mean_cv_std")):
        for name in expected["score_names"]:
            for step in ("train", "valid", "test"):
                assert result.summary[stat][step][name] == pytest.approx(
                    expected[key][name][step], abs=1e-9), (stat, step, name)
    for name in expected["score_names"]:
        for step in ("valid", "test"):
            assert result.summary["bagged"][step][name] == pytest.approx(
                expected["bagged"][name][step], abs=1e-9), ("bagged", step, name)


@pytest.fixture(scope="module")
def titanic_by_ramp_workflow(kits, tmp_path_factory) -> dict:
    """ramp-test's numbers for the titanic starting kit, computed on this machine."""
    kit = ramp_oracle.make_kit(
        tmp_path_factory.mktemp("ramp_titanic"), ramp_oracle.TITANIC_PROBLEM,
        {name: kits / "titanic" / name for name in ("train.csv", "test.csv")},
        {"starting_kit": {"estimator.py": (packaged_submissions_dir() / "titanic" /
                                           "starting_kit" / "estimator.py").read_text()}})
    return ramp_oracle.ramp_test(kit, "starting_kit")


def assert_same_as_ramp_test(result, expected: dict) -> None:
    """Every fold score, mean, population std and bagged score, to 1e-9."""
    scores = result.scores.set_index(["fold", "step", "score"])["value"]
    names = list(expected["folds"][0]["train"])
    assert result.summary["score_names"] == names
    for fold, fold_scores in enumerate(expected["folds"]):
        for step in ("train", "valid", "test"):
            for name in names:
                assert scores[(fold, step, name)] == pytest.approx(
                    fold_scores[step][name], abs=1e-9), (fold, step, name)
    for step in ("train", "valid", "test"):
        for name in names:
            column = [fold[step][name] for fold in expected["folds"]]
            assert result.summary["mean"][step][name] == pytest.approx(
                sum(column) / len(column), abs=1e-9), ("mean", step, name)
    for k, bagged in enumerate(expected["bagging_curve"]):
        for step in ("valid", "test"):
            for name in names:
                assert result.bagged.query("n_folds == @k + 1 and step == @step")  \
                    .set_index("score")["value"][name] == pytest.approx(
                        bagged[step][name], abs=1e-9), ("bagged", k, step, name)


def test_titanic_same_numbers_as_ramp_workflow_here(titanic_by_ramp_workflow, kits, tmp_path,
                                                    monkeypatch):
    result = run_kit("titanic", "starting_kit", kits, tmp_path, monkeypatch)
    assert result.status == "ok"
    assert_same_as_ramp_test(result, titanic_by_ramp_workflow)


def test_air_passengers_within_run_to_run_noise(kits, reference, tmp_path, monkeypatch):
    """Its random forest has no random_state: compare with a tolerance of the fold spread."""
    expected = reference["air_passengers"]["starting_kit"]
    assert not expected["deterministic"]
    result = run_kit("air_passengers", "starting_kit", kits, tmp_path, monkeypatch,
                     ["n_jobs=2"])
    assert result.status == "ok"
    for step in ("train", "valid", "test"):
        spread = max(expected["mean_cv_std"]["rmse"][step], 0.01)
        assert result.summary["mean"][step]["rmse"] == pytest.approx(
            expected["mean_cv"]["rmse"][step], abs=2 * spread), step
    for step in ("valid", "test"):
        assert result.summary["bagged"][step]["rmse"] == pytest.approx(
            expected["bagged"]["rmse"][step], abs=0.03), step


def test_the_command_line_gives_the_same_numbers(run_cli, kits, titanic_by_ramp_workflow,
                                                 tmp_path):
    import json

    proc = run_cli("problem=titanic", f"data_root={kits}", "progress=false", *RAMP)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(next((tmp_path / "outputs").rglob("summary.json")).read_text())
    expected = titanic_by_ramp_workflow["bagged"]["test"]
    for name, value in expected.items():
        assert summary["bagged"]["test"][name] == pytest.approx(value, abs=1e-9), name
