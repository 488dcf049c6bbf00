"""Whole-process time of ``python -m rampconf`` against a plain scikit-learn script.

Both do the same folds, fit the same submission, compute the same scores
(every score of the problem) and the same CV bagging, on the iris and titanic
kits; rampconf also validates its config, writes its run directory and prints
its tables. Runs are interleaved and the median of ``--repeats`` is reported.
Also, with ``--ramp``, ``ramp-test`` (ramp-workflow 0.7.0) on the same kit,
and with ``--before DIR`` the rampconf of another source tree (see
``_common.checkout_env``), interleaved in the same repeats.

    python benchmarks/bench_overhead.py [--repeats 7] [--ramp] [--before DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _common import REPO, checkout_env, kits_root, median_of, ramp_python

CASES = {  # kit of the plain script -> rampconf problem
    "iris": "iris_kit",
    "titanic": "titanic",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--ramp", action="store_true",
                        help="also time ramp-test (ramp-workflow 0.7.0) on the same kit")
    parser.add_argument("--before", type=Path, default=None,
                        help="also time the rampconf of this source tree")
    args = parser.parse_args()
    kits = kits_root()
    plain = str(REPO / "benchmarks" / "plain_sklearn.py")
    names = ["rampconf", "plain", *(["ramp-test"] if args.ramp else []),
             *(["before"] if args.before else [])]
    print(f"median of {args.repeats} interleaved runs, whole process (s); ratios to plain")
    print(f"{'kit':<10}" + "".join(f"{name:>11}" for name in names)
          + "".join(f"{name + ' /':>13}" for name in names if name != "plain"))
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for kit, problem in CASES.items():
            ours = [sys.executable, "-m", "rampconf", f"problem={problem}",
                    f"data_root={kits}", "progress=false"]
            commands = {
                "rampconf": ours,
                "plain": [sys.executable, plain, kit, "--kits", str(kits), "--all-scores"],
            }
            envs = {}
            if args.ramp:
                from ramp_kits import write_ramp_kit

                kit_args = write_ramp_kit(kit, Path(tmp) / f"ramp_{kit}", kits)
                commands["ramp-test"] = [str(ramp_python().parent / "ramp-test"), *kit_args]
            if args.before:
                commands["before"] = ours
                envs["before"] = checkout_env(args.before)
            medians = median_of(commands, Path(tmp), args.repeats, envs)
            ratio = medians["rampconf"] / medians["plain"]
            ratios.append(ratio)
            print(f"{kit:<10}" + "".join(f"{medians[name]:>11.3f}" for name in names)
                  + "".join(f"{medians[name] / medians['plain']:>13.2f}"
                            for name in names if name != "plain"))
            if args.ramp:
                print(f"{'':<10}rampconf / ramp-test: "
                      f"{medians['rampconf'] / medians['ramp-test']:.2f}")
    print(f"goal: rampconf / plain <= 1.10 (worst {max(ratios):.2f}); rampconf faster than "
          "ramp-test")


if __name__ == "__main__":
    main()
