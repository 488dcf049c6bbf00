"""Trusted execution: each attack of an adversarial submission (or config) and its safe outcome.

Submissions here are written as an adversarial student would; each test
asserts that the attack does no harm (and, where cheap, that it does harm
with ``unsafe_in_process=true``, so the test can fail).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

import rampconf
from tests.conftest import cli_env

pytestmark = pytest.mark.slow

RF = "from sklearn.ensemble import RandomForestClassifier\n"


def write_submission(root: Path, name: str, code: str, problem: str = "iris") -> Path:
    folder = root / "submissions" / problem / name
    folder.mkdir(parents=True)
    (folder / "estimator.py").write_text(RF + textwrap.dedent(code))
    return folder


def run_api(root: Path, monkeypatch, name: str, *overrides: str, problem: str = "iris"):
    monkeypatch.chdir(root)
    return rampconf.run(problem=problem, submission=name, overrides=list(overrides), quiet=True)


def only_run_dir(root: Path) -> Path:
    runs = [p.parent for p in (root / "outputs").rglob(".rampconf-run")]
    assert len(runs) == 1, runs
    return runs[0]


FRAMES = """
import gc
import sys


class Cheat(RandomForestClassifier):
    def fit(self, X, y):
        frame = sys._getframe()
        while frame is not None:
            seen = sorted(set(frame.f_locals) & {"y_test", "y_train", "plan", "test"})
            module = frame.f_globals.get("__name__", "")
            if seen or module.startswith(("rampconf.runner", "rampconf.api")):
                raise RuntimeError(f"the runner is visible: {module} {seen}")
            frame = frame.f_back
        kinds = {type(obj).__name__ for obj in gc.get_objects()}
        if kinds & {"Plan", "Dataset", "RunWriter", "FoldResult"}:
            raise RuntimeError(f"the runner's objects are visible: {kinds & {'Plan'}}")
        return super().fit(X, y)


def get_estimator():
    return Cheat(n_estimators=2, random_state=0)
"""


def test_the_runner_frames_and_objects_are_not_in_the_fold(tmp_path, monkeypatch):
    write_submission(tmp_path, "frames", FRAMES)
    assert run_api(tmp_path, monkeypatch, "frames").status == "ok"
    unsafe = run_api(tmp_path, monkeypatch, "frames", "unsafe_in_process=true")
    assert unsafe.status == "failed"
    assert "RuntimeError: the runner is visible: rampconf" in \
        (unsafe.run_dir / "errors" / "fold_0.txt").read_text()


def test_no_data_root_in_argv_environment_or_working_directory(run_cli, tmp_path, kits):
    write_submission(tmp_path, "spy", f"""
        import os
        import sys


        def get_estimator():
            leaks = [arg for arg in sys.argv if "data_root" in arg or {str(kits)!r} in arg]
            leaks += [key for key in os.environ if key.startswith("RAMPCONF")]
            leaks += [f"cwd holds {{name}}" for name in os.listdir(".")]
            # nor in the fork server's command line, nor in a descriptor the fold inherited
            with open(f"/proc/{{os.getppid()}}/cmdline", "rb") as cmdline:
                server = cmdline.read().decode()
            leaks += [f"server {{server!r}}" for word in ("data_root", {str(kits)!r})
                      if word in server]
            links = []
            for fd in os.listdir("/proc/self/fd"):
                try:
                    links.append(os.readlink(f"/proc/self/fd/{{fd}}"))
                except OSError:  # the descriptor listdir used, closed since
                    continue
            leaks += [f"descriptor of {{link}}" for link in links
                      if {str(kits)!r} in link or "outputs" in link]
            if leaks:
                raise RuntimeError(f"leaked: {{leaks}}")
            return RandomForestClassifier(n_estimators=2, random_state=0)
        """)
    proc = run_cli("problem=iris_kit", f"data_root={kits}", "submission=spy", "progress=false",
                   env={"RAMPCONF_DATA_ROOT": str(kits)})
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("problem=iris_kit", f"data_root={kits}", "submission=spy", "progress=false",
                   "unsafe_in_process=true", "hydra.run.dir=unsafe")
    assert proc.returncode == 1
    assert "RuntimeError: leaked: ['data_root=" in (tmp_path / "unsafe" / "errors" /
                                                   "fold_0.txt").read_text()


@pytest.mark.parametrize(("attack", "expected"), [
    ("sys.exit(0)", "the submission called sys.exit(0) during fit in fold 0"),
    ("os._exit(0)", "fold 0: the process running the submission ended with exit code 0 before "
                    "it returned predictions"),
    ("ctypes.string_at(0)", "fold 0: the process running the submission was killed by SIGSEGV "
                            "(a segmentation fault"),
    ("os.kill(os.getpid(), signal.SIGKILL)", "was killed by SIGKILL (killed from outside"),
], ids=["sys-exit", "os-exit", "segfault", "killed"])
def test_exits_and_crashes_are_the_fold_failure(tmp_path, monkeypatch, attack, expected):
    write_submission(tmp_path, "quitter", f"""
        import ctypes
        import os
        import signal
        import sys


        def get_estimator():
            {attack}
        """)
    result = run_api(tmp_path, monkeypatch, "quitter")
    assert result.status == "failed"
    assert result.folds["status"].tolist() == ["failed", "failed"]
    assert expected in result.folds["error"].iloc[0]
    assert result.summary["n_folds_ok"] == 0


def test_an_exit_in_a_fold_is_a_failed_run_on_the_command_line(run_cli, tmp_path):
    write_submission(tmp_path, "quitter", """
        import sys


        def get_estimator():
            sys.exit(0)
        """)
    proc = run_cli("submission=quitter", "progress=false")
    assert proc.returncode == 1, proc.stderr
    assert "the submission called sys.exit(0) during fit in fold 0" in proc.stderr
    assert "Traceback" not in proc.stderr
    summary = json.loads((only_run_dir(tmp_path) / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["failed_folds"] == [0, 1]


def test_processes_left_behind_end_with_the_fold(tmp_path, monkeypatch):
    target = tmp_path / "rewritten"
    write_submission(tmp_path, "daemon", f"""
        import os
        import subprocess
        import sys
        import time

        LOOP = "import sys, time\\nwhile True:\\n    open(sys.argv[1], 'a').write('x')\\n" \\
               "    time.sleep(0.02)"


        def get_estimator():
            for own_session in (False, True):  # in the fold's group, and escaping it
                subprocess.Popen([sys.executable, "-c", LOOP, f"{target}-{{own_session}}"],
                                 start_new_session=own_session)
            end = time.monotonic() + 30  # the fold ends once both are writing
            while time.monotonic() < end and not all(
                    os.path.exists(f"{target}-{{own}}") for own in (False, True)):
                time.sleep(0.01)
            return RandomForestClassifier(n_estimators=2, random_state=0)
        """)
    assert run_api(tmp_path, monkeypatch, "daemon").status == "ok"
    files = [Path(f"{target}-False"), Path(f"{target}-True")]
    assert all(f.exists() for f in files)  # the writers did run
    sizes = [f.stat().st_size for f in files]
    time.sleep(0.5)
    assert [f.stat().st_size for f in files] == sizes


def test_a_submission_mutating_its_inputs_gives_the_same_numbers_in_parallel(tmp_path,
                                                                            monkeypatch):
    write_submission(tmp_path, "mutating", """
        class Mutating(RandomForestClassifier):
            def fit(self, X, y):
                X.iloc[:, 0] = 0.0
                return super().fit(X, y)

            def predict_proba(self, X):
                X.iloc[:, 1] = 0.0  # the whole training set: later folds would train on it
                return super().predict_proba(X)


        def get_estimator():
            return Mutating(n_estimators=5, random_state=0)
        """)
    one = run_api(tmp_path, monkeypatch, "mutating", "n_jobs=1", "cv=kfold", "cv.n_splits=4")
    two = run_api(tmp_path, monkeypatch, "mutating", "n_jobs=2", "cv=kfold", "cv.n_splits=4")
    pd.testing.assert_frame_equal(one.scores, two.scores)


SECOND_FOLD = """
import pathlib

MARKER = pathlib.Path(__file__).resolve().parent / "first-fold-done"


def get_estimator():
    if MARKER.exists():
        {second}
    MARKER.touch()
    return RandomForestClassifier(n_estimators=2, random_state=0)
"""


def test_a_hanging_fold_is_stopped_at_fold_timeout(tmp_path, monkeypatch):
    write_submission(tmp_path, "hanging", SECOND_FOLD.format(
        second="import time; time.sleep(600)"))
    start = time.monotonic()
    result = run_api(tmp_path, monkeypatch, "hanging", "fold_timeout=8")
    assert time.monotonic() - start < 120
    assert result.folds["status"].tolist() == ["ok", "timeout"]
    assert "fold 1: ran longer than fold_timeout=8 s" in result.folds["error"].iloc[1]
    assert result.summary["status"] == "failed" and result.summary["n_folds_ok"] == 1


def test_fold_timeout_starts_with_the_task_not_with_the_primed_process(tmp_path, monkeypatch):
    """Each fold's process is forked while the fold before it runs (3 s here), then waits."""
    write_submission(tmp_path, "slow", """
        import time


        def get_estimator():
            time.sleep(3)
            return RandomForestClassifier(n_estimators=2, random_state=0)
        """)
    result = run_api(tmp_path, monkeypatch, "slow", "fold_timeout=5", "cv=kfold",
                     "cv.n_splits=3")
    # counted from the fork, folds 1 and 2 would have run 6 s
    assert result.folds["status"].tolist() == ["ok", "ok", "ok"]


def test_a_fold_over_fold_memory_is_stopped(tmp_path, monkeypatch):
    write_submission(tmp_path, "greedy", """
        import numpy as np


        def get_estimator():
            np.ones(3 * 10**9 // 8)  # 3 GB, every page written
            return RandomForestClassifier(n_estimators=2, random_state=0)
        """)
    result = run_api(tmp_path, monkeypatch, "greedy", "fold_memory=1GB")
    assert result.folds["status"].tolist() == ["out_of_memory", "out_of_memory"]
    assert "fold 0: used more than fold_memory=1.0 GB of memory" in result.folds["error"].iloc[0]


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_keeps_its_finished_folds(tmp_path, signum, code):
    write_submission(tmp_path, "slow", SECOND_FOLD.format(second="import time; time.sleep(600)"))
    proc = subprocess.Popen([sys.executable, "-m", "rampconf", "submission=slow",
                             "progress=false"], cwd=tmp_path, env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # a background job starts with SIGINT ignored: restore it
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    end = time.monotonic() + 120
    while not list((tmp_path / "outputs").rglob("folds.csv")) and time.monotonic() < end:
        time.sleep(0.1)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    name = signal.Signals(signum).name
    assert f"interrupted by {name}; 1 of 2 folds finished, saved in" in err
    run_dir = only_run_dir(tmp_path)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["interrupted_by"] == name
    assert summary["n_folds_done"] == 1 and set(summary["mean"]) == {"train", "valid", "test"}
    assert (run_dir / "predictions" / "fold_0.npz").is_file()
    report = subprocess.run([sys.executable, "-m", "rampconf.report", str(run_dir)],
                            capture_output=True, text=True, env=cli_env(), check=False)
    assert report.returncode == 0, report.stderr
    assert "interrupted after 1 of 2 folds" in report.stdout


def test_two_runs_started_at_once_get_their_own_directories(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-m", "rampconf", "progress=false",
                               "hydra.run.dir=outputs/same"], cwd=tmp_path, env=cli_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    runs = sorted(p.parent.name for p in (tmp_path / "outputs").rglob("summary.json"))
    assert runs == ["same", "same_1"]
    owners = {(tmp_path / "outputs" / run / ".rampconf-run").read_text() for run in runs}
    assert len(owners) == 2  # each claimed by its own process


def test_two_api_runs_with_one_output_dir_get_their_own(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runs = [rampconf.run(problem="iris", quiet=True, output_dir=tmp_path / "run")
            for _ in range(2)]
    assert [r.run_dir for r in runs] == [tmp_path / "run", tmp_path / "run_1"]
    assert all((r.run_dir / "summary.json").is_file() for r in runs)


def test_files_follow_the_umask(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "rampconf", "progress=false"], cwd=tmp_path,
                          env=cli_env(), capture_output=True, text=True, check=False,
                          preexec_fn=lambda: os.umask(0o027))
    assert proc.returncode == 0, proc.stderr
    run_dir = only_run_dir(tmp_path)
    for name in ("summary.json", "scores.csv", "config.yaml", "predictions/fold_0.npz"):
        assert oct((run_dir / name).stat().st_mode & 0o777) == oct(0o640), name


def test_an_unwritable_run_directory_is_one_line_and_exit_2(run_cli, tmp_path):
    (tmp_path / "a-file").write_text("")
    proc = run_cli("progress=false", f"hydra.run.dir={tmp_path / 'a-file' / 'run'}")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'a-file' / 'run'}: cannot create the run directory: "
        "Not a directory"]


def test_a_problem_file_cannot_run_code_through_hydra(run_cli, tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "conf" / "problem").mkdir(parents=True)
    (tmp_path / "conf" / "problem" / "evil.yaml").write_text(textwrap.dedent(f"""\
        # @package _global_
        hydra:
          callbacks:
            x:
              _target_: builtins.open
              _args_: [{marker}, w]
        """))
    proc = run_cli("problem=evil", "progress=false")
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(
        f"config error: {tmp_path}/conf/problem/evil.yaml: hydra.callbacks.x._target_: rampconf "
        "never creates objects from a config (_target_); refused (and 1 more in this file)")
    assert not marker.exists() and not (tmp_path / "outputs").exists()


def test_data_paths_stay_inside_data_root(tmp_path, monkeypatch, kits):
    root = tmp_path / "data"
    (root / "titanic").mkdir(parents=True)
    for name in ("train.csv", "test.csv"):  # symbolic links out of data_root
        (root / "titanic" / name).symlink_to(kits / "titanic" / name)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(rampconf.ConfigError, match=r"the train path .* leaves data_root"):
        rampconf.run(problem="titanic", overrides=[f"data_root={root}"], quiet=True)
    with pytest.raises(rampconf.ConfigError, match=r"etc/passwd leaves data_root"):
        rampconf.run(problem="titanic", quiet=True, overrides=[
            f"data_root={kits}", "problem.data.train=../../../../../../../../etc/passwd"])
    result = rampconf.run(problem="titanic", quiet=True, overrides=[
        f"data_root={root}", "allow_outside_data_root=true", "problem.cv.n_splits=2"])
    assert result.status == "ok"


def test_environment_values_are_not_saved_in_clear(run_cli, tmp_path, kits):
    proc = run_cli("problem=iris_kit", "progress=false", env={"RAMPCONF_DATA_ROOT": str(kits)})
    assert proc.returncode == 0, proc.stderr
    config = (only_run_dir(tmp_path) / "config.yaml").read_text()
    assert "data_root: ${oc.env:RAMPCONF_DATA_ROOT,data}" in config
    assert str(kits) not in config


FULL_DISK = """
import json, os, subprocess, sys
proc = subprocess.run([sys.executable, "-m", "rampconf", "progress=false",
                       "hydra.run.dir=" + sys.argv[1] + "/run"], capture_output=True, text=True)
files = sorted(os.path.relpath(os.path.join(d, f), sys.argv[1])
               for d, _, names in os.walk(sys.argv[1]) for f in names)
print(json.dumps({"code": proc.returncode, "stderr": proc.stderr, "files": files}))
"""


def test_a_full_disk_is_one_line_and_leaves_no_finished_looking_run(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    # a 64 kB file system (bubblewrap mounts it for this run only)
    proc = subprocess.run(["bwrap", "--dev-bind", "/", "/", "--size", "65536", "--tmpfs",
                           str(disk), "--", sys.executable, "-c", FULL_DISK, str(disk)],
                          cwd=tmp_path, env=cli_env(), capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    inside = json.loads(proc.stdout)
    assert inside["code"] == 2
    assert inside["stderr"].strip().splitlines() == [
        f"error: {disk}/run: cannot write the run directory: No space left on device; the run "
        "stopped and left no summary.json"]
    assert "run/summary.json" not in inside["files"] and "run/folds.csv" in inside["files"]
    assert not [name for name in inside["files"] if name.endswith(".tmp")]
