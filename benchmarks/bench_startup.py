"""Fixed costs of the command line: ``--help`` and a config error, against ramp-test.

Each command is a whole process, timed from start to exit; the commands are
interleaved repeat by repeat and the median of ``--repeats`` is printed.
Baselines in the same run: the bare interpreter (``python -c pass``, the floor
of any Python tool) and ramp-workflow 0.7.0's ``ramp-test --help`` (the tool
rampconf replaces; ``$RAMPCONF_RAMP_PYTHON`` or ``benchmarks/.ramp-workflow-env``).
The config errors: a value the schema refuses (``n_jobs=abc``, found after
Hydra composed the config), a key that does not exist (``no_such_key=1``,
found by Hydra while composing) and an unknown option (``problem=nope``,
found before Hydra runs). Goal: each under 0.5 s. ``--before DIR`` also
times the rampconf of another source tree (see ``_common.checkout_env``),
interleaved, e.g. the commit before a change.

    python benchmarks/bench_startup.py [--repeats 9] [--before DIR]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import checkout_env, ramp_python

GOAL = 0.5


def timed(command: list[str], cwd: Path, expected: int, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != expected:
        sys.exit(f"exit {proc.returncode}, expected {expected}: {' '.join(command)}\n"
                 f"{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--before", type=Path, default=None,
                        help="also time the rampconf of this source tree")
    args = parser.parse_args()
    ours = [sys.executable, "-m", "rampconf"]
    ramp = ramp_python()
    commands = {  # name -> (command, expected exit code)
        "python -c pass": ([sys.executable, "-c", "pass"], 0),
        "ramp-test --help": ([str(ramp), "-m", "rampwf.utils.cli.testing", "--help"], 0),
        "rampconf --help": ([*ours, "--help"], 0),
        "error n_jobs=abc": ([*ours, "n_jobs=abc"], 2),
        "error no_such_key=1": ([*ours, "no_such_key=1"], 2),
        "error problem=nope": ([*ours, "problem=nope"], 2),
    }
    envs = {name: checkout_env(None) for name in commands}
    if args.before is not None:
        for name in [n for n in commands if n.startswith(("rampconf", "error"))]:
            commands[f"{name} (before)"] = commands[name]
            envs[f"{name} (before)"] = checkout_env(args.before)
    times: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            for name, (command, code) in commands.items():
                times[name].append(timed(command, Path(tmp), code, envs[name]))
    medians = {name: statistics.median(values) for name, values in times.items()}
    floor, baseline = medians["python -c pass"], medians["ramp-test --help"]
    print(f"median of {args.repeats} interleaved runs, whole process")
    print(f"{'command':<31}{'seconds':>9}{'/ ramp-test --help':>20}{'goal':>8}")
    for name, value in medians.items():
        goal = "" if name in ("python -c pass", "ramp-test --help") or "before" in name \
            else ("met" if value < GOAL else "missed")
        print(f"{name:<31}{value:>9.3f}{value / baseline:>20.2f}{goal:>8}")
    print(f"interpreter start alone: {floor:.3f} s; goal: rampconf commands < {GOAL} s")


if __name__ == "__main__":
    main()
