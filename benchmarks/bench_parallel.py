"""Speed-up of ``n_jobs=2`` over ``n_jobs=1`` on an 8-fold kit with a heavier model.

Runs ``python -m rampconf problem=air_passengers submission=gradient_boosting``
(8 folds, histogram gradient boosting on 4,451 rows per fold) with one and two
workers, interleaved, BLAS and OpenMP capped at one thread per process as in
CI, and prints the medians and the speed-up.

    python benchmarks/bench_parallel.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from _common import kits_root, median_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--problem", default="air_passengers")
    parser.add_argument("--submission", default="gradient_boosting")
    args = parser.parse_args()
    base = [sys.executable, "-m", "rampconf", f"problem={args.problem}",
            f"submission={args.submission}", f"data_root={kits_root()}", "progress=false"]
    with tempfile.TemporaryDirectory() as tmp:
        medians = median_of({"n_jobs=1": [*base, "n_jobs=1"], "n_jobs=2": [*base, "n_jobs=2"]},
                            Path(tmp), args.repeats)
    speedup = medians["n_jobs=1"] / medians["n_jobs=2"]
    print(f"{args.problem} / {args.submission} on {os.cpu_count()} cores")
    for name, seconds in medians.items():
        print(f"  {name}: {seconds:.2f} s")
    print(f"speed-up of n_jobs=2: {speedup:.2f}x (goal >= 1.6x)")


if __name__ == "__main__":
    main()
