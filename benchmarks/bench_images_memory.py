"""Peak memory of a digits_images run on 20,000 generated PNG images, against their decoded size.

Generates ``--images`` training images (and a tenth as many test images) of
``--size`` × ``--size`` pixels with the ``digits_images`` data set plugin in
a temporary data root, then runs ``python -m rampconf problem=digits_images``
on it with the starting kit and prints the peak resident memory of that
process (sampled from ``/proc`` every 10 ms: all of it and the anonymous
part) next to the size of the decoded images (n × H × W bytes of uint8) and
the peak of a run on iris (the interpreter, NumPy, scikit-learn, Hydra). The
reader keeps file names only and the workflow decodes ``batch_size`` images at
a time, so the run should stay far below the decoded size plus that baseline.

    python benchmarks/bench_images_memory.py [--images 20000] [--size 128]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import single_thread_env
from bench_detection_memory import iris_peak, sample_peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--submission", default="starting_kit")
    args = parser.parse_args()
    n_test = max(1, args.images // 10)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c",
                        "import sys; from pathlib import Path; "
                        "from rampconf_images.data import DigitsImages; "
                        "DigitsImages(Path(sys.argv[1])).generate("
                        "int(sys.argv[2]), int(sys.argv[3]), 0, size=int(sys.argv[4]))",
                        str(root), str(args.images), str(n_test), str(args.size)], check=True)
        generated = time.perf_counter() - start
        on_disk = sum(p.stat().st_size for p in (root / "digits_images").rglob("*.png"))
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "rampconf", "problem=digits_images",
                                 f"submission={args.submission}", f"data_root={root}",
                                 "progress=false", f"hydra.run.dir={tmp}/run"],
                                cwd=tmp, env=single_thread_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        peak = sample_peaks(proc)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(proc.stderr.read()[-2000:] if proc.stderr else "the run failed")
        summary = (Path(tmp) / "run" / "summary.json").read_text()
        baseline = iris_peak(tmp)
    import json

    accuracy = json.loads(summary)["bagged"]["test"]["acc"]
    decoded = args.images * args.size * args.size
    print(f"{args.images} training + {n_test} test images of {args.size}x{args.size} pixels "
          f"(generated in {generated:.0f} s, {on_disk / 2**20:.0f} MiB of PNG files)")
    print(f"decoded training images: {decoded / 2**20:.0f} MiB "
          f"({(args.images + n_test) * args.size ** 2 / 2**20:.0f} MiB with the test set)")
    print(f"peak resident memory of the run ({args.submission}, {elapsed:.0f} s, bagged test "
          f"acc {accuracy:.3f}): {peak['VmRSS'] / 1024:.0f} MiB in all, "
          f"{peak['RssAnon'] / 1024:.0f} MiB anonymous")
    print(f"for scale: python -m rampconf on iris peaks at about {baseline / 1024:.0f} MiB "
          f"in all; the image run adds {(peak['VmRSS'] - baseline) / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
