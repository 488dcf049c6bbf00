"""Speed-up of ``n_jobs=2`` over ``n_jobs=1`` on an 8-fold kit with a heavier model.

Runs ``python -m rampconf problem=air_passengers`` (8 folds of 4,451 training
rows) with the starting kit's random forest grown to ``--trees`` trees, with
one and two workers, interleaved, BLAS and OpenMP capped at one thread per
process as in CI. Prints the median whole-process time and the median time of
the CV loop alone (``elapsed_seconds`` of ``summary.json``: folds, scoring,
bagging, writing; it includes starting the worker processes). The baseline,
interleaved in the same repeats: ``benchmarks/plain_joblib.py``, the same folds,
forest and scores in a plain script with ``joblib.Parallel(n_jobs=1 / 2)``.

    python benchmarks/bench_parallel.py [--repeats 2] [--trees 500]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from _common import REPO, kits_root, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--trees", type=int, default=500)
    args = parser.parse_args()
    wall: dict[int, list[float]] = {1: [], 2: []}
    loop: dict[int, list[float]] = {1: [], 2: []}
    plain: dict[int, list[float]] = {1: [], 2: []}
    script = str(REPO / "benchmarks" / "plain_joblib.py")
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for n_jobs in (1, 2):
                run_dir = Path(tmp) / f"run_{n_jobs}_{repeat}"
                command = [sys.executable, "-m", "rampconf", "problem=air_passengers",
                           "submission=starting_kit",
                           f"submission.params.n_estimators={args.trees}",
                           f"data_root={kits_root()}", "progress=false", f"n_jobs={n_jobs}",
                           f"hydra.run.dir={run_dir}"]
                wall[n_jobs].append(timed(command, Path(tmp)))
                summary = json.loads((run_dir / "summary.json").read_text())
                loop[n_jobs].append(summary["elapsed_seconds"])
                plain[n_jobs].append(timed([sys.executable, script, "--n-jobs", str(n_jobs),
                                            "--trees", str(args.trees), "--kits",
                                            str(kits_root())], Path(tmp)))
    print(f"air_passengers, random forest of {args.trees} trees, 8 folds, "
          f"{os.cpu_count()} cores, median of {args.repeats}")
    print(f"{'':<14}{'n_jobs=1':>10}{'n_jobs=2':>10}{'speed-up':>10}")
    for name, times in (("whole process", wall), ("CV loop", loop),
                        ("plain joblib", plain)):
        one, two = statistics.median(times[1]), statistics.median(times[2])
        print(f"{name:<14}{one:>9.2f}s{two:>9.2f}s{one / two:>9.2f}x")
    for n_jobs in (1, 2):
        ratio = statistics.median(wall[n_jobs]) / statistics.median(plain[n_jobs])
        print(f"rampconf / plain joblib, whole process, n_jobs={n_jobs}: {ratio:.2f}")
    print("goal: whole-process speed-up >= 1.8x")


if __name__ == "__main__":
    main()
