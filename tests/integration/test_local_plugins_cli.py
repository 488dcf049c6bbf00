"""A throwaway problem folder with a local plugin file: a CV scheme and a score named from
YAML, run from the command line, listed by --help and --describe, recorded in the run."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

PLUGINS = '''\
"""Plugins of the seasons problem: folds by season, a score with a tolerance."""
import numpy as np
from pydantic import Field

import rampconf
from rampconf.cv import BaseCV
from rampconf.plugin import StrictModel
from rampconf.scores import BaseScore
from rampconf_tabular.workflows import Estimator, FitParams


class SeasonsParams(StrictModel):
    n_seasons: int = Field(4, ge=2, description="row i belongs to season i % n_seasons")


@rampconf.register("cv", "seasons")
class Seasons(BaseCV[SeasonsParams]):
    """One fold per season: validate on its rows, train on the others."""

    def split(self, X, y, groups=None):
        season = np.arange(len(y)) % self.params.n_seasons
        rows = np.arange(len(y))
        for s in range(self.params.n_seasons):
            yield rows[season != s], rows[season == s]


class WithinParams(StrictModel):
    tolerance: float = Field(1.0, gt=0, description="an error up to this counts as a hit")


class ShrinkParams(FitParams):
    shrink: float = Field(1.0, ge=0, description="predictions are multiplied by this")


@rampconf.register("workflow", "shrunk_estimator")
class ShrunkEstimator(Estimator):
    """The estimator workflow, its predictions shrunk towards 0 (runs where folds run)."""

    Params = ShrinkParams

    def predict(self, model, X, prediction):
        return super().predict(model, X, prediction) * self.params.shrink


@rampconf.register("score", "within")
class Within(BaseScore[WithinParams]):
    """Share of predictions within the tolerance of the truth."""

    def score(self, y_true, y_pred):
        return float(np.mean(np.abs(np.ravel(y_pred) - y_true) <= self.params.tolerance))
'''

PROBLEM = """\
defaults:
  - /score@scores.rmse: rmse
  - _self_
name: seasons
data:
  reader: csv
  train: seasons/train.csv
  test: seasons/test.csv
  target: y
prediction:
  type: regression
scores:
  within:
    type: within            # the local score
    tolerance: 0.5
workflow:
  type: shrunk_estimator    # the local workflow
  shrink: 0.0
cv:
  type: seasons             # the local CV scheme
  n_seasons: 3
"""


def seasons_project(root: Path) -> None:
    rng = np.random.default_rng(0)
    for split, n in (("train", 90), ("test", 30)):
        x = rng.normal(size=n)
        folder = root / "data" / "seasons"
        folder.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"x": x, "y": 2 * x + rng.normal(0, 0.3, n)}).to_csv(
            folder / f"{split}.csv", index=False)
    (root / "conf" / "problem").mkdir(parents=True)
    (root / "conf" / "problem" / "seasons.yaml").write_text(PROBLEM)
    (root / "conf" / "plugins.py").write_text(PLUGINS)
    kit = root / "submissions" / "seasons" / "starting_kit"
    kit.mkdir(parents=True)
    (kit / "estimator.py").write_text("from sklearn.linear_model import LinearRegression\n\n\n"
                                      "def get_estimator():\n    return LinearRegression()\n")


@pytest.mark.parametrize("n_jobs", [1, 2], ids=["in-process", "parallel-workers"])
def test_a_local_cv_scheme_and_score_run_from_yaml(run_cli, tmp_path, n_jobs):
    seasons_project(tmp_path)
    proc = run_cli("problem=seasons", f"n_jobs={n_jobs}", "progress=false")
    assert proc.returncode == 0, proc.stderr
    assert "within" in proc.stdout
    (run_dir,) = [p.parent for p in (tmp_path / "outputs").rglob("summary.json")]
    scores = pd.read_csv(run_dir / "scores.csv")
    assert sorted(scores["fold"].unique()) == [0, 1, 2]
    assert set(scores["score"]) == {"rmse", "within"}
    for fold in range(3):
        saved = np.load(run_dir / "predictions" / f"fold_{fold}.npz")
        assert saved["valid_idx"].tolist() == list(range(fold, 90, 3))
        assert not saved["test"].any()  # the local workflow predicted (shrink: 0.0)
    record = json.loads((run_dir / "metadata.json").read_text())["local_plugins"]
    digest = hashlib.sha256(PLUGINS.encode()).hexdigest()
    assert record == [{"path": str(tmp_path / "conf" / "plugins.py"),
                       "module": f"rampconf_local_plugins_{digest[:12]}", "sha256": digest,
                       "plugins": {"cv": ["seasons"], "score": ["within"],
                                   "workflow": ["shrunk_estimator"]}}]


def test_local_plugins_are_listed_by_help_and_described(run_cli, tmp_path):
    seasons_project(tmp_path)
    proc = run_cli("--help")
    assert proc.returncode == 0, proc.stderr
    digest = hashlib.sha256(PLUGINS.encode()).hexdigest()
    assert f"local plugins of {tmp_path / 'conf' / 'plugins.py'} (sha256 {digest[:12]}): " \
           "score within; cv seasons; workflow shrunk_estimator" in proc.stdout
    options, plugins = [line.split(": ", 1)[1].split(", ")
                        for line in proc.stdout.splitlines() if line.startswith("cv: ")]
    assert "seasons" in plugins and "seasons" not in options  # a plugin, not a YAML option
    proc = run_cli("--describe", "score", "within")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"score within (local plugin Within of "
                                  f"{tmp_path / 'conf' / 'plugins.py'})\n"
                                  "  Share of predictions within the tolerance of the truth.\n"
                                  "  tolerance: float, default 1.0, > 0\n"
                                  "      an error up to this counts as a hit\n")


def test_a_run_of_built_in_plugins_never_runs_the_local_file(run_cli, tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "plugins.py").write_text("raise SystemExit('the local file ran')\n")
    proc = run_cli("progress=false")
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = [p.parent for p in (tmp_path / "outputs").rglob("summary.json")]
    assert json.loads((run_dir / "metadata.json").read_text())["local_plugins"] == []


def test_a_broken_local_file_is_a_config_error_when_needed(run_cli, tmp_path):
    seasons_project(tmp_path)
    (tmp_path / "conf" / "plugins.py").write_text(PLUGINS.replace("np.arange(len(y)) %",
                                                                  "np.arange(len(y)) %%"))
    proc = run_cli("problem=seasons", "progress=false")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"config error: local plugin file {tmp_path / 'conf'}"
                                   "/plugins.py, line 21: SyntaxError: invalid syntax")


def test_the_readmes_local_plugin_runs(run_cli, tmp_path):
    seasons_project(tmp_path)
    readme = (Path(__file__).resolve().parents[2] / "docs" / "guide" / "plugins.md").read_text()
    example = re.search(r"<!-- example: conf/plugins.py -->\n```python\n(.*?)```", readme,
                        re.S).group(1)
    (tmp_path / "conf" / "plugins.py").write_text(example)
    (tmp_path / "conf" / "problem" / "seasons.yaml").write_text(
        PROBLEM.replace("  within:\n    type: within            # the local score\n"
                        "    tolerance: 0.5\n", "  rmse:\n    precision: 3\n")
        .replace("  type: shrunk_estimator    # the local workflow\n  shrink: 0.0\n",
                 "  type: estimator\n"))
    proc = run_cli("problem=seasons", "problem.cv.n_seasons=3", "progress=false")
    assert proc.returncode == 0, proc.stderr
    assert "mean ± std over 3 folds" in proc.stdout
