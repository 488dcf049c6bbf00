"""The pre-warmed runner of a command-line run (rampconf.prewarm): same run, other processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import cli_env
from tests.gcwatch import GarbageWatch

pytestmark = pytest.mark.slow


def _run(tmp_path: Path, kits: Path, prewarm: str, name: str) -> tuple[int, list[int], Path]:
    """An iris run whose folds write their process ancestry; (pid, ancestry, run dir)."""
    spy = tmp_path / f"ancestry-{name}.txt"
    env = {**cli_env(), "RAMPCONF_PREWARM": prewarm, "SPY_FILE": str(spy)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rampconf", "problem=iris_kit", f"data_root={kits}",
         "submission=spy", "progress=false", f"hydra.run.dir={name}"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "bagged over folds" in out
    ancestry = [int(word) for word in spy.read_text().split()[:3]]
    return proc.pid, ancestry, tmp_path / name


def test_a_run_is_the_same_with_and_without_the_prewarmed_runner(tmp_path, kits):
    folder = tmp_path / "submissions" / "iris" / "spy"
    folder.mkdir(parents=True)
    (folder / "estimator.py").write_text(textwrap.dedent("""
        import os

        from sklearn.ensemble import RandomForestClassifier


        def _parent(pid):
            with open(f"/proc/{pid}/stat") as stat:
                return int(stat.read().rsplit(")", 1)[1].split()[1])


        def get_estimator():
            server = os.getppid()  # fold process -> fork server -> its parent -> ...
            with open(os.environ["SPY_FILE"], "w") as out:
                out.write(f"{server} {_parent(server)} {_parent(_parent(server))}")
            return RandomForestClassifier(n_estimators=5, random_state=0)
        """))
    pid_on, (server_on, owner_on, above_on), on = _run(tmp_path, kits, "1", "on")
    pid_off, (server_off, owner_off, _), off = _run(tmp_path, kits, "0", "off")
    # with it, the fork server is forked by the runner process, a child of the command's
    assert owner_on != pid_on and above_on == pid_on
    # without it, the fork server is the command's own child
    assert owner_off == pid_off
    assert server_on != server_off
    # and the numbers, the bagged predictions and the files are the same
    for table in ("scores.csv", "bagged_scores.csv"):
        assert (on / table).read_bytes() == (off / table).read_bytes(), table
    folds_on, folds_off = pd.read_csv(on / "folds.csv"), pd.read_csv(off / "folds.csv")
    timing = [c for c in folds_on.columns if "time" in c or c in ("peak_memory", "elapsed")]
    pd.testing.assert_frame_equal(folds_on.drop(columns=timing), folds_off.drop(columns=timing))
    assert sorted(p.name for p in on.iterdir()) == sorted(p.name for p in off.iterdir())


def test_a_config_error_is_reported_once_by_the_command(run_cli, kits, tmp_path):
    proc = run_cli("problem=iris_kit", f"data_root={kits}", "n_jobs=abc")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "config error: n_jobs: input should be a valid integer, unable to parse string as an "
        "integer, got 'abc'"]
    assert not (tmp_path / "outputs").exists()


def test_a_runner_killed_during_the_run_is_one_error_line(run_cli, kits, tmp_path):
    folder = tmp_path / "submissions" / "iris" / "assassin"
    folder.mkdir(parents=True)
    (folder / "estimator.py").write_text(textwrap.dedent("""
        import os
        import signal


        def get_estimator():
            with open(f"/proc/{os.getppid()}/stat") as stat:  # the fork server's parent
                runner = int(stat.read().rsplit(")", 1)[1].split()[1])
            os.kill(runner, signal.SIGKILL)
        """))
    proc = run_cli("problem=iris_kit", f"data_root={kits}", "submission=assassin",
                   "progress=false")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: the process running the run ended without an answer (killed by SIGKILL); "
        "RAMPCONF_PREWARM=0 runs it in this process")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("prewarm", ["1", "0"])
def test_fold_processes_import_nothing_to_fit_a_common_tabular_pipeline(tmp_path, kits, prewarm):
    """The fork server has done scikit-learn's first-time work (lazy imports) once for all."""
    folder = tmp_path / "submissions" / "titanic" / "watched"
    folder.mkdir(parents=True)
    (folder / "estimator.py").write_text(textwrap.dedent("""
        import os
        import sys

        from sklearn.base import BaseEstimator, ClassifierMixin
        from sklearn.compose import make_column_transformer
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler


        class Watched(ClassifierMixin, BaseEstimator):
            def fit(self, X, y):
                before = set(sys.modules)
                self.model_ = make_pipeline(
                    make_column_transformer(
                        (OneHotEncoder(handle_unknown="ignore"), ["Sex", "Pclass", "Embarked"]),
                        (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                         ["Age", "SibSp", "Parch", "Fare"])),
                    LogisticRegression(max_iter=1000)).fit(X, y)
                self.model_.predict_proba(X)
                self.classes_ = self.model_.classes_
                with open(os.environ["SPY_FILE"], "a") as out:
                    out.write(" ".join(sorted(set(sys.modules) - before)) + "\\n")
                return self

            def predict_proba(self, X):
                return self.model_.predict_proba(X)


        def get_estimator():
            return Watched()
        """))
    spy = tmp_path / "imported.txt"
    proc = subprocess.run(
        [sys.executable, "-m", "rampconf", "problem=titanic", f"data_root={kits}",
         "submission=watched", "progress=false"],
        cwd=tmp_path, env={**cli_env(), "RAMPCONF_PREWARM": prewarm, "SPY_FILE": str(spy)},
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = spy.read_text().splitlines()
    assert len(lines) >= 8  # one per fold (and the check's, when it fits)
    assert lines == [""] * len(lines)


@pytest.mark.parametrize("prewarm", ["1", "0"])
def test_the_run_s_process_imports_without_full_collections_and_runs_with_them_frozen(
        tmp_path, kits, prewarm):
    """No full garbage collection walks the imports of the process that runs the run (the
    runner, or the command's own process: three took 0.13 s of an iris run's path); they
    are frozen once imported, and collection is on for the run."""
    folder = tmp_path / "submissions" / "iris" / "spy"
    folder.mkdir(parents=True)
    (folder / "estimator.py").write_text(textwrap.dedent("""
        import os

        from sklearn.linear_model import LogisticRegression


        def get_estimator():
            with open(f"/proc/{os.getppid()}/stat") as stat:  # the fork server's parent
                running = stat.read().rsplit(")", 1)[1].split()[1]
            with open(os.environ["SPY_FILE"], "w") as out:
                out.write(running)
            return LogisticRegression(max_iter=1000)
        """))
    spy, watch = tmp_path / "runner.txt", GarbageWatch(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "rampconf", "problem=iris_kit", f"data_root={kits}",
         "submission=spy", "progress=false"],
        cwd=tmp_path, env={**cli_env(), "RAMPCONF_PREWARM": prewarm, "SPY_FILE": str(spy),
                           **watch.env},
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    watch.assert_frozen_before_full_collections(int(spy.read_text()))
