"""Titanic hyperparameter search: ramp-hyperopt (ramp-workflow 0.7.0) against our sweep.

The same search space on both sides: the logistic regression of
``submissions/titanic/logistic_regression`` (one-hot Sex / Pclass /
Embarked, imputed and scaled numbers, ``LogisticRegression(C, max_iter=1000)``),
``C`` on a log scale from 0.001 to 100 and the imputer strategy (mean or
median), scored by the mean valid ROC AUC over RAMP's titanic CV
(StratifiedShuffleSplit, 8 splits, 20 % valid, random_state 57).

Three runs, one after the other, each with the same wall-clock budget
(``--budget`` seconds, process start to end):

* ``ramp-hyperopt --engine random`` in a separate virtual environment
  (``benchmarks/.ramp-workflow-env``, created here with ``pip install
  ramp-workflow==0.7.0`` when missing), on a RAMP kit written into a temporary
  folder: ``problem.py``, ``data/{train,test}.csv`` and a submission declaring
  ``C`` (a grid of ``--grid`` values, log-spaced) and ``imputer`` as
  ``Hyperparameter`` objects. ramp-hyperopt has no time limit, only
  ``--n-iter`` (folds), so a short calibration run measures its start-up and
  per-fold cost and the real run gets the number of whole configurations
  (8 folds each) that fits in the budget (at most the whole grid);
* ``python -m rampconf -m ... hydra/sweeper=rampconf`` with
  ``C=tag(log, interval(0.001, 100))`` and ``imputer=choice(mean, median)``,
  without pruning and with the median pruner, each stopped at the budget; the
  trials are read back from the study's SQLite storage.

It prints, per run: wall seconds, start-up (process start to the first
fold), seconds per fully evaluated configuration, configurations evaluated,
best mean valid AUC, folds saved by pruning, and the time (from the process
start) to its own best and to a configuration at least as good as
ramp-hyperopt's best; then a verdict against the goal "a better or equal best
score in half the time or less": one of our sweeps meets it when it reaches
ramp-hyperopt's best score within half of ramp-hyperopt's wall time.

With ``--before DIR`` (a source tree, e.g. ``git archive <commit> | tar -x
-C DIR``) each of our sweeps runs twice, that tree's code first, then this
one's, one after the other: a before / after comparison against the same
ramp-hyperopt run.

With ``--journal``, a third sweep without pruning stores its study in an
Optuna journal file (``hydra.sweeper.storage=journal://...``) instead of the
default SQLite file: what a storage costs per trial.

    python benchmarks/bench_sweep.py [--budget 120] [--grid 30] [--seed 0] [--keep DIR]
                                     [--before DIR] [--journal]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import math
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _common import REPO, checkout_env, kits_root, ramp_python, single_thread_env

HERE = Path(__file__).resolve().parent
SWEEPER = REPO / "hydra_plugins" / "rampconf_sweeper"
N_FOLDS = 8
SUBMISSION = "logreg_search"
FOLD_TAG = "bench-sweep-fold"
#: Scores equal within this count as "reached" (same folds, same model: same floats).
TOLERANCE = 1e-9

# RAMP's titanic problem, with the score types of our titanic problem (the
# official ROC AUC first) so that both sides compute the same scores per fold.
PROBLEM_PY = '''\
"""Titanic survival, RAMP kit written by rampconf's bench_sweep.py."""
import os

import numpy as np
import pandas as pd
import rampwf as rw
from sklearn.model_selection import StratifiedShuffleSplit

problem_title = "Titanic survival"
_target_column_name = "Survived"
_ignore_column_names = ["PassengerId"]
_prediction_label_names = [0, 1]

Predictions = rw.prediction_types.make_multiclass(label_names=_prediction_label_names)
workflow = rw.workflows.Estimator()
score_types = [
    rw.score_types.ROCAUC(name="auc"),
    rw.score_types.Accuracy(name="acc"),
    rw.score_types.NegativeLogLikelihood(name="nll"),
    rw.score_types.ClassificationError(name="error"),
    rw.score_types.F1Above(name="f1_70", threshold=0.7),
    rw.score_types.BrierSkillScore(name="BSS", precision=3),
    rw.score_types.BrierScore(name="BS", precision=3),
    rw.score_types.BrierScoreReliability(name="BS Rel", precision=5),
    rw.score_types.BrierScoreResolution(name="BS Res", precision=3),
    rw.score_types.NormalizedGini(name="ngini"),
    rw.score_types.BalancedAccuracy(name="bac"),
    rw.score_types.MacroAveragedRecall(name="mar"),
]

# ramp-hyperopt has no seed option; its random engine draws from NumPy's
# global generator, which is seeded here (problem.py is read before it draws).
np.random.seed(__SEED__)


def get_cv(X, y):
    cv = StratifiedShuffleSplit(n_splits=8, test_size=0.2, random_state=57)
    return cv.split(X, y)


def _read_data(path, f_name):
    data = pd.read_csv(os.path.join(path, "data", f_name))
    y_array = data[_target_column_name].values
    X_df = data.drop([_target_column_name, *_ignore_column_names], axis=1)
    return X_df, y_array


def get_train_data(path="."):
    return _read_data(path, "train.csv")


def get_test_data(path="."):
    return _read_data(path, "test.csv")
'''

# The same model as submissions/titanic/logistic_regression, its two
# hyperparameters declared for ramp-hyperopt. The print (one line per fold, on
# stderr) is how this script learns when each configuration ran: ramp-hyperopt
# itself reports nothing until its final summary.
ESTIMATOR_PY = '''\
"""Titanic: scaled logistic regression, C and the imputer searched by ramp-hyperopt."""
import sys
import time

from rampwf.hyperopt import Hyperparameter
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

CATEGORICAL = ["Sex", "Pclass", "Embarked"]
NUMERICAL = ["Age", "SibSp", "Parch", "Fare"]

# RAMP START HYPERPARAMETERS
C = Hyperparameter(dtype="float", default=__C_DEFAULT__, values=__C_VALUES__)
imputer = Hyperparameter(dtype="object", default="median", values=["mean", "median"])
# RAMP END HYPERPARAMETERS


def get_estimator():
    print("__TAG__", repr(time.time()), repr(float(C)), str(imputer),
          file=sys.stderr, flush=True)
    preprocessor = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        (make_pipeline(SimpleImputer(strategy=str(imputer)), StandardScaler()), NUMERICAL),
    )
    return Pipeline([
        ("transformer", preprocessor),
        ("classifier", LogisticRegression(C=float(C), max_iter=1000)),
    ])
'''


@dataclass
class Result:
    """What one run reached within its budget."""

    tool: str
    wall: float  # process start to end (or to the stop at the budget)
    startup: float  # process start to the first fold
    per_config: float  # mean seconds of a fully evaluated configuration
    n_configs: int  # configurations evaluated (ours: completed + pruned)
    n_pruned: int
    best: float  # best mean valid AUC over fully evaluated configurations
    folds_saved: int
    to_best: float  # seconds from the process start to its own best
    to_target: float | None  # seconds from the process start to ramp-hyperopt's best
    note: str = ""
    fit: float | None = None  # mean seconds of the submission's own fits and predictions
    span: float | None = None  # seconds from the first configuration's start to the last's
    # end, per configuration (ours: between trials included; ramp-hyperopt's per_config is this)


# --------------------------------------------------------------------- ramp side


def c_grid(n_values: int) -> list[float]:
    """``n_values`` log-spaced values of C from 0.001 to 100 (6 significant digits)."""
    return [float(f"{c:.6g}") for c in np.logspace(-3, 2, n_values)]


def write_kit(kit: Path, titanic: Path, grid: list[float], seed: int) -> None:
    """A RAMP kit: problem.py, data/{train,test}.csv, submissions/SUBMISSION/estimator.py."""
    (kit / "data").mkdir(parents=True)
    for name in ("train.csv", "test.csv"):
        shutil.copyfile(titanic / name, kit / "data" / name)
    (kit / "problem.py").write_text(PROBLEM_PY.replace("__SEED__", str(seed)))
    default = min(grid, key=lambda c: abs(math.log(c)))  # the grid value closest to 1
    estimator = (ESTIMATOR_PY.replace("__C_DEFAULT__", repr(default))
                 .replace("__C_VALUES__", "[" + ", ".join(map(repr, grid)) + "]")
                 .replace("__TAG__", FOLD_TAG))
    (kit / "submissions" / SUBMISSION).mkdir(parents=True)
    (kit / "submissions" / SUBMISSION / "estimator.py").write_text(estimator)


def ramp_command(python: Path, kit: Path, n_iter: int) -> list[str]:
    # ramp-hyperopt reads the data from <ramp-kit-dir>/data (problem.get_train_data(
    # path=ramp_kit_dir)) and finds submissions/ relative to its working directory.
    return [str(python.parent / "ramp-hyperopt"), "--submission", SUBMISSION,
            "--ramp-kit-dir", str(kit), "--ramp-data-dir", str(kit),
            "--engine", "random", "--n-iter", str(n_iter), "--save-best"]


@dataclass
class RampRun:
    """One ramp-hyperopt process: its wall time, fold log and summary."""

    wall: float
    folds: list[tuple[float, float, str]]  # (seconds after process start, C, imputer)
    summary: Path

    def fold_seconds(self) -> float:
        starts = [t for t, _, _ in self.folds]
        return float(np.median(np.diff(starts))) if len(starts) > 1 else 0.0

    def config_ends(self) -> list[tuple[float, float, str]]:
        """(seconds after process start, C, imputer) at which each configuration was done.

        The random engine finishes a configuration's folds before it draws the
        next one, so the log is blocks of 8 folds; a configuration is done when
        the next one starts (the last one: one median fold later).
        """
        ends = []
        for i in range(0, len(self.folds), N_FOLDS):
            end = (self.folds[i + N_FOLDS][0] if i + N_FOLDS < len(self.folds)
                   else self.folds[-1][0] + self.fold_seconds())
            ends.append((end, self.folds[i][1], self.folds[i][2]))
        return ends


def run_ramp(python: Path, kit: Path, n_iter: int) -> RampRun:
    """Run ramp-hyperopt with ``--n-iter n_iter`` (folds)."""
    command = ramp_command(python, kit, n_iter)
    epoch, start = time.time(), time.perf_counter()
    proc = subprocess.run(command, cwd=kit, env=single_thread_env(), capture_output=True,
                          text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"ramp-hyperopt failed ({proc.returncode}): {' '.join(command)}\n"
                 f"{proc.stderr[-3000:]}")
    folds = []
    for line in proc.stderr.splitlines():
        if line.startswith(FOLD_TAG + " "):
            _, stamp, c, imputer = line.split()
            folds.append((float(stamp) - epoch, float(c), imputer))
    if len(folds) != n_iter:
        sys.exit(f"ramp-hyperopt ran {len(folds)} folds, expected {n_iter}:\n"
                 f"{proc.stderr[-3000:]}")
    summary = kit / "submissions" / f"{SUBMISSION}_hyperopt" / "hyperopt_output" / "summary.csv"
    return RampRun(wall, folds, summary)


def ramp_within_budget(python: Path, kit: Path, budget: float, grid_folds: int) -> RampRun:
    """ramp-hyperopt with as many whole configurations as fit in ``budget`` seconds.

    It has no time limit, only ``--n-iter``: a calibration run of two
    configurations gives its start-up and per-fold cost, hence a first
    ``--n-iter``. Its per-fold cost grows as its table of scores grows, so when
    that run overshoots the budget by more than 5 %, it is run again with the
    configurations that ended in time in the first one (the seeded engine draws
    the same sequence, so it is the same run, cut).
    """
    calibration = run_ramp(python, kit, 2 * N_FOLDS)
    per_fold = calibration.fold_seconds()
    tail = calibration.wall - calibration.config_ends()[-1][0]  # summary, best submission
    n_iter = int((budget - calibration.folds[0][0] - tail) / per_fold) // N_FOLDS * N_FOLDS
    n_iter = min(max(n_iter, N_FOLDS), grid_folds)
    print(f"ramp-hyperopt calibration: start-up {calibration.folds[0][0]:.1f} s, "
          f"{per_fold * 1000:.0f} ms per fold -> --n-iter {n_iter}", file=sys.stderr)
    run = run_ramp(python, kit, n_iter)
    if run.wall > 1.05 * budget:
        tail = run.wall - run.config_ends()[-1][0]
        fit = sum(end + tail <= budget for end, _, _ in run.config_ends())
        n_iter = max(fit, 1) * N_FOLDS
        print(f"ramp-hyperopt took {run.wall:.1f} s; again with --n-iter {n_iter}",
              file=sys.stderr)
        run = run_ramp(python, kit, n_iter)
    return run


def ramp_result(run: RampRun, grid_size: int) -> Result:
    """Best mean valid AUC of ramp-hyperopt and when it was reached."""
    with run.summary.open(newline="") as f:
        rows = list(csv.DictReader(f))
    means = {(float(r["C"]), r["imputer"]): float(r["valid_auc_m"])
             for r in rows if int(r["n_folds"]) == N_FOLDS}
    ends = run.config_ends()
    done = [(end, means[c, imputer]) for end, c, imputer in ends]
    best = max(score for _, score in done)
    to_best = next(t for t, score in done if score >= best - TOLERANCE)
    per_config = (ends[-1][0] - run.folds[0][0]) / len(ends)
    note = (f"--n-iter {len(run.folds)}"
            + (", the whole grid (nothing left to try)" if len(done) >= grid_size else ""))
    return Result("ramp-hyperopt (random)", run.wall, run.folds[0][0], per_config, len(done),
                  0, best, 0, to_best, to_best, note)


# ---------------------------------------------------------------------- our side


def sweeper_options(checkout: Path | None = None) -> set[str]:
    """The options of our sweeper (``hydra.sweeper.*``); exits clearly when it is missing."""
    if checkout is not None:  # that tree's sweeper, asked in a process of its own
        code = ("import dataclasses; from hydra_plugins.rampconf_sweeper import "
                "RampconfSweeperConf as C; print(' '.join(f.name for f in dataclasses.fields(C)))")
        proc = subprocess.run([sys.executable, "-c", code], env=checkout_env(checkout),
                              cwd=checkout, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.exit(f"--before {checkout}: no sweeper there: {proc.stderr[-500:]}")
        return set(proc.stdout.split())
    try:
        from hydra_plugins.rampconf_sweeper import RampconfSweeperConf
    except ImportError as exc:
        sys.exit(f"our Optuna sweeper (hydra/sweeper=rampconf, {SWEEPER}) is missing or "
                 f"broken: {exc}")
    return {f.name for f in dataclasses.fields(RampconfSweeperConf)}


def our_command(kits: Path, storage: str, study: str, pruner: str, seed: int,
                sweep_dir: Path, options: set[str], budget: float) -> list[str]:
    command = [
        sys.executable, "-m", "rampconf", "-m", "problem=titanic",
        "submission=logistic_regression", f"data_root={kits}",
        "hydra/sweeper=rampconf", "hydra.sweeper.n_trials=100000",
        "submission.params.C=tag(log, interval(0.001, 100))",
        "submission.params.imputer=choice(mean, median)",
        f"hydra.sweeper.pruner.type={pruner}", f"hydra.sweeper.storage={storage}",
        f"hydra.sweeper.study_name={study}", f"hydra.sweeper.seed={seed}",
        "progress=false", f"hydra.sweep.dir={sweep_dir}",
    ]
    # ramp-hyperopt writes nothing per fold: no predictions or pictures (a light trial output
    # writes none but the best trial's, at the end)
    if "trial_output" not in options:
        command += ["save_predictions=false", "n_figures=0"]
    if "timeout" in options:  # no new trial after the budget (it is stopped then anyway)
        command.append(f"hydra.sweeper.timeout={budget:g}")
    return command


def run_ours(command: list[str], cwd: Path, budget: float, log: Path,
             env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run our sweep, stopped at ``budget`` seconds: its wall time, start (epoch), how it ended.

    At the budget it gets a Ctrl-C (the sweeper records the trial then running
    as FAIL, interrupted), then SIGKILL 5 s later if it is still there (Python
    drops a KeyboardInterrupt that lands in a weakref callback). Trials that
    end after the budget are not counted either way.
    """
    cwd.mkdir(parents=True, exist_ok=True)
    ended = "finished"
    with log.open("w") as out:
        epoch, start = time.time(), time.perf_counter()
        # Ctrl-C reaches the sweep even when this script runs as a background job (whose
        # children inherit SIGINT ignored, and Python then installs no handler for it)
        proc = subprocess.Popen(command, cwd=cwd, env=env or single_thread_env(), stdout=out,
                                stderr=subprocess.STDOUT, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        try:
            proc.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            ended = "stopped at the budget (Ctrl-C)"
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                ended = "stopped at the budget (Ctrl-C ignored, killed)"
                proc.kill()
                proc.wait()
        wall = time.perf_counter() - start
    if ended == "finished" and proc.returncode != 0:
        sys.exit(f"our sweep failed ({proc.returncode}): {' '.join(command)}\n"
                 f"{log.read_text()[-3000:]}")
    return (wall if ended == "finished" else min(wall, budget)), epoch, ended


def folds_run(trial) -> int:
    """Folds a trial ran: its ``n_folds_run`` attribute, else its per-fold scores."""
    attrs = trial.user_attrs
    if "n_folds_run" in attrs:
        return int(attrs["n_folds_run"])
    if "fold_valid_scores" in attrs:
        return len(attrs["fold_valid_scores"])
    return len(trial.intermediate_values)


def our_result(tool: str, wall: float, epoch: float, budget: float, storage: str,
               study_name: str, target: float, log: Path, ended: str) -> Result:
    """Best mean valid AUC of a study, when it (and ``target``) were reached, folds saved."""
    import optuna

    from rampconf.trial import open_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=study_name, storage=open_storage(storage))
    state = optuna.trial.TrialState
    origin = dt.datetime.fromtimestamp(epoch)  # Optuna's datetimes are naive local time

    def after(trial) -> float:
        return (trial.datetime_complete - origin) / dt.timedelta(seconds=1)

    trials = [t for t in study.get_trials(deepcopy=False) if t.datetime_start is not None]
    finished = [t for t in trials if t.datetime_complete is not None and after(t) <= budget]
    complete = sorted((t for t in finished if t.state == state.COMPLETE and t.value is not None),
                      key=after)
    pruned = [t for t in finished if t.state == state.PRUNED]
    failed = [t for t in finished if t.state == state.FAIL
              and not t.user_attrs.get("interrupted")]
    if not complete:
        sys.exit(f"{tool}: no trial completed within the budget; log:\n"
                 f"{log.read_text()[-3000:]}")
    startup = (min(t.datetime_start for t in trials) - origin) / dt.timedelta(seconds=1)
    per_config = sum(t.duration / dt.timedelta(seconds=1) for t in complete) / len(complete)

    best = max(t.value for t in complete)
    to_best = next(after(t) for t in complete if t.value >= best - TOLERANCE)
    to_target = next((after(t) for t in complete if t.value >= target - TOLERANCE), None)
    saved = N_FOLDS * len(pruned) - sum(folds_run(t) for t in pruned)
    note = ended + (f"; {len(failed)} failed trial(s), see {log}" if failed else "")
    fits = [own_time(t) for t in complete]
    fit = sum(fits) / len(fits) if all(f is not None for f in fits) else None
    span = (max(after(t) for t in finished) - startup) / len(finished)
    return Result(tool, wall, startup, per_config, len(complete) + len(pruned), len(pruned),
                  best, saved, to_best, to_target, note, fit, span)


def own_time(trial) -> float | None:
    """Seconds a trial's folds spent in the submission: fit, predict train, predict test.

    Timed inside each fold process (``folds.csv`` of the trial's run directory).
    """
    folds = Path(trial.user_attrs.get("job_dir", "")) / "folds.csv"
    if not folds.is_file():
        return None
    with folds.open(newline="") as f:
        return sum(float(row[k] or 0) for row in csv.DictReader(f)
                   for k in ("train_time", "valid_time", "test_time"))


# ------------------------------------------------------------------------ report


def print_table(results: list[Result], budget: float, grid: int) -> None:
    def seconds(value: float | None) -> str:
        return "never" if value is None else f"{value:.1f}"

    print(f"\ntitanic: logistic regression, C in [0.001, 100] on a log scale (ramp-hyperopt: "
          f"a grid of {grid}) x imputer (mean, median);\nmean valid ROC AUC over "
          f"{N_FOLDS} folds; budget {budget:g} s per run; one thread\n"
          "protocol: every search ranks (and prunes) on the mean CV valid AUC of the training "
          "data only; no test score is computed or printed; space, grid, budget and seed are "
          "the script's, fixed before any run\n")
    header = ("tool", "wall s", "start-up s", "s/config", "configs (pruned)",
              "best valid AUC", "folds saved", "to own best s", "to ramp's best s")
    rows = [(r.tool, f"{r.wall:.1f}", f"{r.startup:.1f}", f"{r.per_config:.2f}",
             f"{r.n_configs} ({r.n_pruned})", f"{r.best:.6f}", str(r.folds_saved),
             seconds(r.to_best), seconds(r.to_target)) for r in results]
    widths = [max(len(x) for x in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  " + "  ".join(x.ljust(w) if i == 0 else x.rjust(w)
                               for i, (x, w) in enumerate(zip(row, widths, strict=True))))
    print("\n  start-up: process start to the first fold (ours: to the first trial); "
          "s/config: mean time of a\n  fully evaluated configuration; 'to ... best': process "
          "start to the end of the first configuration\n  that good; configs: completed + pruned")
    for r in results:
        if r.note:
            print(f"  {r.tool}: {r.note}")
    ramp = results[0]
    width = max(32, *(len(r.tool) + 1 for r in results))
    print(f"\n  {'':<{width}}{'configs/min':>12}{'/ ramp':>8}{'span /min':>10}{'/ ramp':>8}"
          f"{'own fit+predict s':>19}{'overhead ms':>13}")
    for r in results:
        fit = "" if r.fit is None else f"{r.fit:.3f}"
        overhead = "" if r.fit is None else f"{(r.per_config - r.fit) * 1000:.0f}"
        span = r.span or r.per_config
        print(f"  {r.tool:<{width}}{60 / r.per_config:>12.1f}"
              f"{ramp.per_config / r.per_config:>8.2f}{60 / span:>10.1f}"
              f"{ramp.per_config / span:>8.2f}{fit:>19}{overhead:>13}")
    print("  configs/min: from a complete trial's duration (ask to tell); span /min: "
          "configurations finished from the\n  first start to the last end (the time between "
          "trials counted; ramp-hyperopt's two columns are this);\n  overhead: a complete "
          "trial's duration minus its submission's own fit and predict time (8 folds);\n  "
          "goal <= 60 ms; goal configs/min / ramp >= 1 without pruning")


def verdict(ramp: Result, ours: list[Result]) -> str:
    """One line: did each of our sweeps reach ramp's best score in half ramp's time or less?"""
    half = ramp.wall / 2
    parts = []
    for r in ours:
        met = r.to_target is not None and r.to_target <= half
        when = "never reached it" if r.to_target is None else f"reached it in {r.to_target:.1f} s"
        parts.append(f"{r.tool.removeprefix('rampconf sweep, ')}: "
                     f"{'MET' if met else 'NOT met'} ({when})")
    return (f"verdict, goal 'better or equal best score in half the time or less' (ramp-hyperopt: "
            f"{ramp.best:.6f} in {ramp.wall:.1f} s, half {half:.1f} s): " + "; ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=120.0,
                        help="wall-clock seconds per run (default 120)")
    parser.add_argument("--grid", type=int, default=30,
                        help="number of C values of ramp-hyperopt's grid (default 30)")
    parser.add_argument("--seed", type=int, default=0, help="seed of all three searches")
    parser.add_argument("--before", type=Path, default=None,
                        help="also run our sweeps with this source tree's code, before ours")
    parser.add_argument("--journal", action="store_true",
                        help="also run our sweep without pruning on an Optuna journal file")
    parser.add_argument("--keep", type=Path, default=None,
                        help="work in this new folder and keep it (default: a temporary one)")
    args = parser.parse_args()

    options = sweeper_options()
    titanic = kits_root() / "titanic"
    if not (titanic / "train.csv").exists():
        sys.exit(f"titanic data not found in {titanic} (set RAMPCONF_KITS)")
    python = ramp_python()
    grid = c_grid(args.grid)
    grid_folds = 2 * len(grid) * N_FOLDS

    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep.resolve() if args.keep else Path(tmp)
        if args.keep and work.exists() and any(work.iterdir()):
            sys.exit(f"--keep {work}: the folder exists and is not empty")
        work.mkdir(parents=True, exist_ok=True)
        kit = work / "ramp_kit"
        write_kit(kit, titanic, grid, args.seed)
        run = ramp_within_budget(python, kit, args.budget, grid_folds)
        print("ramp-hyperopt: " + " ".join(ramp_command(python, kit, len(run.folds)))
              + f"  (cwd {kit})", file=sys.stderr)
        ramp = ramp_result(run, grid_folds // N_FOLDS)

        trees = [(None, "", options)]
        if args.before is not None:
            trees.insert(0, (args.before, "before: ", sweeper_options(args.before)))
        ours = []
        runs = [("none", "sqlite", "rampconf sweep, no pruning"),
                ("median", "sqlite", "rampconf sweep, median pruner")]
        if args.journal:
            runs.append(("none", "journal", "rampconf sweep, no pruning, journal file"))
        for pruner, kind, tool in runs:
            for checkout, label, tree_options in trees:
                name = f"{pruner}_{kind}{'_before' if checkout else ''}"
                storage = (f"sqlite:///{work / f'optuna_{name}.db'}" if kind == "sqlite"
                           else f"journal://{work / f'optuna_{name}.log'}")
                study = f"bench_sweep_{pruner}"
                command = our_command(kits_root(), storage, study, pruner, args.seed,
                                      work / f"multirun_{name}", tree_options, args.budget)
                print(f"{label}{tool}: {' '.join(command)}", file=sys.stderr)
                log = work / f"sweep_{name}.log"
                wall, epoch, ended = run_ours(command, work / f"cwd_{name}", args.budget, log,
                                              checkout_env(checkout))
                ours.append(our_result(label + tool, wall, epoch, args.budget, storage, study,
                                       ramp.best, log, ended))

    print_table([ramp, *ours], args.budget, len(grid))
    print(verdict(ramp, ours))


if __name__ == "__main__":
    main()
