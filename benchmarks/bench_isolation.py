"""What isolated folds cost: whole-process time of ``python -m rampconf`` with and without.

For iris (the default problem) and titanic (the RAMP kit, 8 folds), the same
command is run with folds isolated (the default: a fork server, one fresh
process per fold), with ``sandbox=bwrap`` on top (when bubblewrap is
installed), and with ``unsafe_in_process=true`` (the submission runs in the
runner's process, as before isolation). Runs are interleaved and the median
of ``--repeats`` is reported, wall time and CPU time (the process and its
children; not measurable for the sandbox, whose processes bubblewrap reaps).

    python benchmarks/bench_isolation.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import kits_root, single_thread_env

CASES = {"iris": ["problem=iris"], "titanic": ["problem=titanic"]}
MODES = {"isolated": [], "sandbox": ["sandbox=bwrap"], "in process": ["unsafe_in_process=true"]}


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, children included) of a whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, env=single_thread_env(), capture_output=True,
                          text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(command)}\n{proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    modes = dict(MODES)
    if shutil.which("bwrap") is None:
        del modes["sandbox"]
        print("bubblewrap is not installed: no sandbox=bwrap column")
    base = [sys.executable, "-m", "rampconf", f"data_root={kits_root()}", "progress=false"]
    print(f"{'problem':<9}{'mode':<12}{'wall (s)':>10}{'cpu (s)':>10}{'wall ratio':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for case, options in CASES.items():
            times: dict[str, list[tuple[float, float]]] = {mode: [] for mode in modes}
            for _ in range(args.repeats):
                for mode, extra in modes.items():
                    times[mode].append(timed([*base, *options, *extra], Path(tmp)))
            reference = statistics.median(w for w, _ in times["in process"])
            for mode in modes:
                wall = statistics.median(w for w, _ in times[mode])
                # bubblewrap's processes are not reaped by the runner: their CPU is not seen
                cpu = "—" if mode == "sandbox" else \
                    f"{statistics.median(c for _, c in times[mode]):.3f}"
                print(f"{case:<9}{mode:<12}{wall:>10.3f}{cpu:>10}{wall / reference:>12.2f}")


if __name__ == "__main__":
    main()
