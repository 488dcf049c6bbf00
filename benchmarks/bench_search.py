"""Does the search matter? TPE with median pruning against random search, same time budget.

A gradient-boosting submission with five hyperparameters (the air_passengers
kit's histogram gradient boosting: ``learning_rate`` and ``l2_regularization``
on log scales, ``max_iter``, ``max_leaf_nodes``, ``min_samples_leaf``
integers) on air_passengers (4,451 training rows, the kit's 8 folds), mean
valid RMSE minimised. For each seed, two sweeps of ``--budget`` seconds each
(``hydra.sweeper.timeout`` stops asking, the process is stopped at the budget
as in ``bench_sweep.py``), run one after the other, or with ``--parallel``
both at once (one core each on a 2-core machine: the same conditions for
both, in half the wall time):

* ours: ``hydra.sweeper.sampler=tpe``, ``pruner.type=median``;
* the baseline: ``sampler=random``, ``pruner.type=none`` (plain random search).

Printed, mean ± std over the seeds: the best mean valid RMSE each reached
within the budget, and the time ours took to reach the random search's best
(seconds from the process start; seeds where it never did are counted apart).

    python benchmarks/bench_search.py [--budget 120] [--seeds 5] [--parallel]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import statistics
import sys
import tempfile
from pathlib import Path

from _common import REPO, kits_root
from bench_sweep import run_ours

PARAMS = [
    "submission.params.learning_rate=tag(log, interval(0.01, 0.5))",
    "submission.params.l2_regularization=tag(log, interval(0.001, 10))",
    "submission.params.max_iter=int(interval(30, 300))",
    "submission.params.max_leaf_nodes=int(interval(7, 63))",
    "submission.params.min_samples_leaf=int(interval(5, 100))",
]
ARMS = {"tpe + median pruning": ("tpe", "median"), "random, no pruning": ("random", "none")}


def write_submission(cwd: Path) -> None:
    """The kit's gradient boosting, with two more hyperparameters exposed."""
    source = (REPO / "submissions" / "air_passengers" / "gradient_boosting" /
              "estimator.py").read_text()
    source = source.replace(
        "def get_estimator(max_iter=300, learning_rate=0.1, max_leaf_nodes=15, "
        "random_state=61):",
        "def get_estimator(max_iter=300, learning_rate=0.1, max_leaf_nodes=15, "
        "min_samples_leaf=20, l2_regularization=0.0, random_state=61):")
    source = source.replace("            max_leaf_nodes=max_leaf_nodes,\n",
                            "            max_leaf_nodes=max_leaf_nodes,\n"
                            "            min_samples_leaf=min_samples_leaf,\n"
                            "            l2_regularization=l2_regularization,\n")
    if "min_samples_leaf=min_samples_leaf" not in source:
        sys.exit("could not expose the hyperparameters of the gradient boosting submission")
    folder = cwd / "submissions" / "air_passengers" / "gb_search"
    folder.mkdir(parents=True)
    (folder / "estimator.py").write_text(source)


def trajectory(storage: str, study: str, epoch: float, budget: float) -> list[tuple[float, float]]:
    """(seconds after the process start, value) of the complete trials that ended in budget."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    origin = dt.datetime.fromtimestamp(epoch)
    done = []
    for trial in optuna.load_study(study_name=study, storage=storage).get_trials(
            deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        at = (trial.datetime_complete - origin) / dt.timedelta(seconds=1)
        if at <= budget and trial.value is not None:
            done.append((at, float(trial.value)))
    return sorted(done)


def mean_std(values: list[float]) -> str:
    if not values:
        return "—"
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.4f} ± {std:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--parallel", action="store_true",
                        help="run the two sweeps of a seed at the same time")
    args = parser.parse_args()
    best: dict[str, list[float]] = {arm: [] for arm in ARMS}
    trials: dict[str, list[int]] = {arm: [] for arm in ARMS}
    reached: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_submission(work)
        for seed in range(args.seeds):
            commands, storages = {}, {}
            for arm, (sampler, pruner) in ARMS.items():
                storages[arm] = storage = f"sqlite:///{work / f'{sampler}_{seed}.db'}"
                commands[arm] = [
                    sys.executable, "-m", "rampconf", "-m", "problem=air_passengers",
                    "submission=gb_search", f"data_root={kits_root()}",
                    "hydra/sweeper=rampconf", "hydra.sweeper.n_trials=100000",
                    f"hydra.sweeper.sampler={sampler}", f"hydra.sweeper.pruner.type={pruner}",
                    f"hydra.sweeper.seed={seed}", f"hydra.sweeper.storage={storage}",
                    "hydra.sweeper.study_name=search", f"hydra.sweeper.timeout={args.budget:g}",
                    *PARAMS, "save_predictions=false", "n_figures=0", "progress=false",
                    f"hydra.sweep.dir={work / f'multirun_{sampler}_{seed}'}"]

            def sweep(arm: str, seed: int = seed, commands: dict = commands) -> float:
                sampler = ARMS[arm][0]
                return run_ours(commands[arm], work, args.budget,
                                work / f"sweep_{sampler}_{seed}.log")[1]

            with concurrent.futures.ThreadPoolExecutor(2 if args.parallel else 1) as pool:
                epochs = dict(zip(ARMS, pool.map(sweep, ARMS), strict=True))
            runs = {}
            for arm in ARMS:
                runs[arm] = trajectory(storages[arm], "search", epochs[arm], args.budget)
                if not runs[arm]:
                    sys.exit(f"{arm}, seed {seed}: no trial completed within the budget")
                best[arm].append(min(v for _, v in runs[arm]))
                trials[arm].append(len(runs[arm]))
            target = best["random, no pruning"][-1]
            ours = runs["tpe + median pruning"]
            hit = next((at for at, value in ours if value <= target + 1e-12), None)
            if hit is not None:
                reached.append(hit)
            print(f"seed {seed}: best rmse tpe {best['tpe + median pruning'][-1]:.4f} "
                  f"random {target:.4f}; tpe reached random's best at "
                  f"{'never' if hit is None else f'{hit:.1f} s'}", file=sys.stderr)
    print(f"air_passengers, histogram gradient boosting, 5 hyperparameters, 8 folds; "
          f"budget {args.budget:g} s per sweep; {args.seeds} seeds; mean ± std over seeds; "
          f"{'both sweeps of a seed at once' if args.parallel else 'one sweep at a time'}")
    for arm in ARMS:
        print(f"  {arm:<22} best mean valid RMSE {mean_std(best[arm])}   complete trials "
              f"{statistics.mean(trials[arm]):.1f}")
    print(f"  time for TPE + median pruning to reach random search's best: "
          f"{mean_std(reached)} s (reached in {len(reached)} of {args.seeds} seeds)")


if __name__ == "__main__":
    main()
