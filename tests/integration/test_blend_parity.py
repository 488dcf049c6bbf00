"""Blending gives ramp-blend's numbers: the reference notes on iris, and ramp-blend run here."""

from __future__ import annotations

from pathlib import Path

import pytest

import rampconf
from rampconf.blend import blend
from tests.ramp_oracle import IRIS_PROBLEM, TITANIC_PROBLEM, make_kit, ramp_blend

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")]

REPO = Path(__file__).resolve().parents[2]


def our_runs(tmp_path: Path, kits: Path, problem: str, submissions: list[str],
             *overrides: str) -> list[rampconf.RunResult]:
    return [rampconf.run(problem=problem, submission=name,
                         overrides=[f"data_root={kits}", "compat=ramp", "n_figures=0",
                                    *overrides],
                         output_dir=tmp_path / "runs" / name, quiet=True)
            for name in submissions]


def ramp_kit(tmp_path: Path, kits: Path, problem_py: str, data: str, folder: str,
             submissions: list[str]) -> Path:
    files = {name: {"estimator.py": (REPO / "submissions" / folder / name / "estimator.py")
                    .read_text()} for name in submissions}
    return make_kit(tmp_path / "kit", problem_py,
                    {f: kits / data / f for f in ("train.csv", "test.csv")}, files)


def fold_shares(result, submissions: list[str]) -> dict[str, list[float]]:
    table = result.contributivity.pivot(index="submission", columns="fold", values="share")
    return {name: table.loc[name].tolist() for name in submissions}


def test_iris_blend_is_ramp_blends(tmp_path, kits):
    submissions = ["starting_kit", "random_forest_10_10"]
    runs = our_runs(tmp_path, kits, "iris_kit", submissions)
    result = blend([r.run_dir for r in runs], output_dir=tmp_path / "blend")
    # the reference notes: random_forest_10_10 contributes 100 %, bagged acc 0.95 / 0.92
    table = result.contributivity_table().set_index("submission")["contributivity"]
    assert table.to_dict() == {"random_forest_10_10": 100.0, "starting_kit": 0.0}
    bagged = result.run.summary["bagged"]
    assert round(bagged["valid"]["acc"], 2) == 0.95
    assert round(bagged["test"]["acc"], 2) == 0.92
    # ramp-blend itself, run here on a kit of the same data and submissions
    ramp = ramp_blend(ramp_kit(tmp_path, kits, IRIS_PROBLEM, "iris", "iris", submissions),
                      submissions)
    assert fold_shares(result, submissions) == ramp["contributivity"]
    curve = result.run.bagged[result.run.bagged["score"] == "acc"]
    for step in ("valid", "test"):
        ours = curve[curve["step"] == step]["value"].tolist()
        assert ours == pytest.approx(ramp["curve"][step], abs=1e-12)


def test_titanic_blend_of_three_is_ramp_blends(tmp_path, kits):
    """Ensembles that mix members, fold by fold, as ramp-blend chooses them.

    ramp-blend accepts an "improvement" of one unit in the last place (two sums
    of the same probabilities in another order); rampconf calls that a tie.
    ``--min-improvement 1e-9`` makes ramp-blend ignore them too, and listing the
    starting kit first makes its ties go the same way (to the first listed). The
    kit's first 4 folds (the same splits as the first 4 of its 8) keep it short.
    """
    submissions = ["starting_kit", "logistic_regression", "random_forest"]
    runs = our_runs(tmp_path, kits, "titanic", submissions, "problem.cv.n_splits=4")
    result = blend([r.run_dir for r in runs], min_improvement=1e-9,
                   output_dir=tmp_path / "blend")
    problem = TITANIC_PROBLEM.replace("n_splits=8", "n_splits=4")
    assert problem != TITANIC_PROBLEM
    ramp = ramp_blend(ramp_kit(tmp_path, kits, problem, "titanic", "titanic", submissions),
                      submissions, min_improvement=1e-9)
    ours = fold_shares(result, submissions)
    for name in submissions:
        assert ours[name] == pytest.approx(ramp["contributivity"][name], abs=1e-12), name
    assert len({len(chosen) for chosen in result.ensembles.values()}) > 1  # real mixtures
    curve = result.run.bagged[result.run.bagged["score"] == "auc"]
    for step in ("valid", "test"):
        assert curve[curve["step"] == step]["value"].tolist() == \
            pytest.approx(ramp["curve"][step], abs=1e-9)
        foldwise = result.scores[(result.scores["entry"] == "foldwise_best")
                                 & (result.scores["step"] == step)
                                 & (result.scores["score"] == "auc")]["value"].item()
        assert foldwise == pytest.approx(ramp["foldwise_best"][step][-1], abs=1e-9)
