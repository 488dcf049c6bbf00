"""Peak memory of a Mars-crater run on a generated set of 5,000 images.

Generates a seeded synthetic crater set (``rampconf-data mars_craters
generate``) of ``--images`` training images (and a tenth as many test
images) in a temporary data root, then runs ``python -m rampconf
problem=mars_craters`` on it with the starting kit and prints, next to the
size of the image files, the peak resident memory of that process and of
the processes it started (the fork server and the fold processes; sampled
from ``/proc`` and summed, so pages they share are counted once per
process: an upper bound): all of it, and the anonymous part (heap: what a
copy of the images would take). The images are memory-mapped: a fold whose training
rows are one contiguous block gets a view of the file; RAMP's third Mars
fold trains on two separate blocks, which are staged in a temporary
memory-mapped file instead of a copy in memory. Pages of a mapped file count
in the resident memory while they are cached, but the kernel can drop them.

    python benchmarks/bench_detection_memory.py [--images 5000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import single_thread_env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--submission", default="starting_kit")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        subprocess.run([sys.executable, "-m", "rampconf.datasets", "mars_craters", "generate",
                        "--data-root", str(root), "--n-train", str(args.images),
                        "--n-test", str(max(1, args.images // 10)), "--quiet"],
                       check=True, capture_output=True)
        image_bytes = sum(p.stat().st_size for p in (root / "mars_craters").glob("data_*.npy")
                          if "_mini" not in p.name)
        proc = subprocess.Popen([sys.executable, "-m", "rampconf", "problem=mars_craters",
                                 f"submission={args.submission}", f"data_root={root}",
                                 "progress=false", "n_figures=0", f"hydra.run.dir={tmp}/run"],
                                cwd=tmp, env=single_thread_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        peak = sample_peaks(proc)
        if proc.returncode != 0:
            sys.exit(proc.stderr.read()[-2000:] if proc.stderr else "the run failed")
        baseline = iris_peak(tmp)
    print(f"{args.images} training images, {args.images // 10} test images, "
          f"{image_bytes / 2**20:.0f} MiB of images on disk")
    print(f"peak resident memory of the run ({args.submission}): "
          f"{peak['VmRSS'] / 1024:.0f} MiB in all, {peak['RssAnon'] / 1024:.0f} MiB anonymous, "
          f"{peak['RssFile'] / 1024:.0f} MiB of mapped files")
    print(f"for scale: python -m rampconf on iris peaks at about "
          f"{baseline / 1024:.0f} MiB in all")


def sample_peaks(proc: subprocess.Popen) -> dict[str, int]:
    """Peak VmRSS, RssAnon and RssFile (KiB) of a running process and its descendants
    (summed), sampled every 10 ms."""
    from rampconf.limits import process_tree

    peak = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0}
    while proc.poll() is None:
        now = dict.fromkeys(peak, 0)
        for pid in process_tree(proc.pid):
            try:
                with open(f"/proc/{pid}/status") as status:
                    for line in status:
                        key = line.split(":", 1)[0]
                        if key in now:
                            now[key] += int(line.split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
        peak = {key: max(peak[key], now[key]) for key in peak}
        time.sleep(0.01)
    proc.wait()
    return peak


def iris_peak(tmp: str) -> int:
    proc = subprocess.Popen([sys.executable, "-m", "rampconf", "progress=false",
                             f"hydra.run.dir={tmp}/iris"], cwd=tmp, env=single_thread_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return sample_peaks(proc)["VmRSS"]


if __name__ == "__main__":
    main()
