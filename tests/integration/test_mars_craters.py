"""Mars craters end to end: same numbers as ramp-workflow, clear errors, pictures."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import pytest

import rampconf

pytestmark = pytest.mark.slow


def same(ours, theirs) -> bool:
    if theirs is None:  # ramp-workflow's NaN (no matched crater)
        return ours is None or math.isnan(ours)
    return ours is not None and math.isclose(ours, theirs, rel_tol=0, abs_tol=1e-9)


# ramp-workflow's circle IoU adds the lens triangle term instead of subtracting it;
# the parity runs select it (and every other ramp-workflow behaviour) with the switch.
RAMP = ["compat=ramp"]


def test_starting_kit_gives_ramp_workflows_numbers(kits, reference, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    expected = reference["mars_craters"]["starting_kit"]
    result = rampconf.run(problem="mars_craters", quiet=True,
                          overrides=[f"data_root={kits}", *RAMP])
    assert result.status == "ok"
    assert result.summary["score_names"] == expected["score_names"]
    scores = result.scores.set_index(["fold", "step", "score"])["value"]
    for fold, values in enumerate(expected["folds"]):
        for name in expected["score_names"]:
            for step in ("train", "valid", "test"):
                assert same(scores[(fold, step, name)], values[name][step]), (fold, step, name)
    for stat, key in (("mean", "mean_cv"), ("std", "mean_cv_std")):
        for name in expected["score_names"]:
            for step in ("train", "valid", "test"):
                assert same(result.summary[stat][step][name], expected[key][name][step]), \
                    (stat, step, name)
    for name in expected["score_names"]:
        for step in ("valid", "test"):
            assert same(result.summary["bagged"][step][name], expected["bagged"][name][step]), \
                ("bagged", step, name)


def test_the_flagship_command_draws_pictures(run_cli, kits, tmp_path):
    proc = run_cli("problem=mars_craters", "workflow=object_detector", f"data_root={kits}",
                   "progress=false", "n_figures=2")
    assert proc.returncode == 0, proc.stderr
    for header in ("ap", "ospa", "scp", "prec(0.5)", "rec(0.9)", "madc", "madr"):
        assert header in proc.stdout
    run_dir = next((tmp_path / "outputs" / "mars_craters").glob("*/*"))
    pictures = sorted(p.name for p in (run_dir / "figures").glob("*.png"))
    assert pictures == ["fold_0_image_20.png", "fold_0_image_21.png", "fold_1_image_0.png",
                        "fold_1_image_1.png", "fold_2_image_10.png", "fold_2_image_11.png"]
    assert (run_dir / "figures" / pictures[0]).read_bytes()[:4] == b"\x89PNG"
    saved = rampconf.load_run(run_dir).predictions(0)
    assert saved["train_circles"].shape == (30, 5) and saved["train_predicted"].all()
    # The starting kit finds no crater: the output says what it is, how to run the real
    # detector, and why madc / madr have no value, instead of "nan ± nan".
    assert "nan ± nan" not in proc.stdout.lower()
    for name in ("madc", "madr"):
        assert f"warning: {name} is undefined (NaN) in fold 0 train, " in proc.stdout
        assert "no detection matches a true circle with IoU >= 0.5" in proc.stdout
    text = " ".join(proc.stdout.split())
    assert "submission starting_kit: Mars craters starting kit: one fixed circle" in text
    assert "python -m rampconf problem=mars_craters submission=polar_boost" in text


def test_missing_data_says_where_and_how_to_get_it(run_cli, tmp_path):
    proc = run_cli("problem=mars_craters", f"data_root={tmp_path / 'none'}")
    assert proc.returncode == 2
    assert f"train_images: {tmp_path / 'none' / 'mars_craters' / 'data_train_mini.npy'}" \
        in proc.stderr
    assert "labels_test_mini.csv" in proc.stderr
    assert f"rampconf-data mars_craters generate --data-root {tmp_path / 'none'}" in proc.stderr
    assert "problem=mars_craters_full" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_detector_returning_a_wrong_structure_is_named(run_cli, kits, tmp_path):
    folder = tmp_path / "submissions" / "mars_craters" / "bad"
    folder.mkdir(parents=True)
    (folder / "object_detector.py").write_text(textwrap.dedent("""
        class ObjectDetector:
            def fit(self, X, y):
                return self

            def predict(self, X):
                return [[(1.0, 112, 112)] for _ in range(len(X))]
        """))
    proc = run_cli("problem=mars_craters", "submission=bad", f"data_root={kits}",
                   "progress=false")
    assert proc.returncode == 1
    assert str(folder / "object_detector.py") in proc.stderr
    assert ("image 0: expected a list of (confidence, row, col, radius) tuples, got 1 item(s) "
            "like (1.0, 112, 112)") in proc.stderr


def test_generated_data_runs_through_the_same_problem(run_cli, tmp_path):
    from rampconf.datasets import main as data_main

    assert data_main(["mars_craters", "generate", "--data-root", str(tmp_path / "data"),
                      "--n-train", "12", "--n-test", "6", "--quiet"]) == 0
    proc = run_cli("problem=mars_craters", "progress=false", "n_figures=0")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(next((tmp_path / "outputs").rglob("summary.json")).read_text())
    assert summary["n_folds"] == 3 and summary["status"] == "ok"
    assert Path(tmp_path / "data" / "mars_craters").is_dir()


def test_the_real_detector_keeps_its_cross_validation_score(kits, tmp_path, monkeypatch):
    """polar_boost's mean and bagged valid AP over the three folds of the training
    images (exact circle IoU): the CV score it was tuned on (measured 0.615 and 0.407
    with random_state 0; mean valid AP 0.53 to 0.62 over seeds 0-4, against 0.42 for the
    previous defaults).
    The test images chose nothing and nothing here asserts on them."""
    monkeypatch.chdir(tmp_path)
    result = rampconf.run(problem="mars_craters", submission="polar_boost", quiet=True,
                          overrides=[f"data_root={kits}", "n_figures=0",
                                     "save_predictions=false"])
    assert result.status == "ok"
    assert result.summary["mean"]["valid"]["ap"] > 0.45
    assert result.summary["bagged"]["valid"]["ap"] > 0.30
