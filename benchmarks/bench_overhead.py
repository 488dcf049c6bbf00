"""Whole-process time of ``python -m rampconf`` against a plain scikit-learn script.

Both do the same folds, fit the same submission, compute the same scores
(every score of the problem) and the same CV bagging, on the iris and titanic
kits; rampconf also validates its config, writes its run directory and prints
its tables. Runs are interleaved and the median of ``--repeats`` is reported.

    python benchmarks/bench_overhead.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _common import REPO, kits_root, median_of

CASES = {  # kit of the plain script -> rampconf problem
    "iris": "iris_kit",
    "titanic": "titanic",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    kits = kits_root()
    plain = str(REPO / "benchmarks" / "plain_sklearn.py")
    print(f"{'kit':<10}{'rampconf (s)':>14}{'plain (s)':>12}{'ratio':>8}")
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for kit, problem in CASES.items():
            commands = {
                "rampconf": [sys.executable, "-m", "rampconf", f"problem={problem}",
                             f"data_root={kits}", "progress=false"],
                "plain": [sys.executable, plain, kit, "--kits", str(kits), "--all-scores"],
            }
            medians = median_of(commands, Path(tmp), args.repeats)
            ratio = medians["rampconf"] / medians["plain"]
            ratios.append(ratio)
            print(f"{kit:<10}{medians['rampconf']:>14.3f}{medians['plain']:>12.3f}{ratio:>8.2f}")
    print(f"goal: ratio <= 1.10; worst ratio {max(ratios):.2f}")


if __name__ == "__main__":
    main()
