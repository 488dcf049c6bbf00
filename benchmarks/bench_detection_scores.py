"""Time of all eleven Mars-crater scores: rampconf against ramp-workflow 0.7.0.

Generates 2,000 synthetic images with about 20 craters each (seeded) and
predictions around them (jittered true craters, misses and false alarms with
confidences), then times every detection score of the mars_craters problem
(ap, ospa, scp, precision and recall at IoU 0, 0.5, 0.9, madc, madr) in both
implementations, each in its own process (ours with ``iou_formula: ramp``, the
same arithmetic as the exact formula, so that the values can be compared): ours in this environment,
ramp-workflow 0.7.0 in a separate virtual environment that this script creates
(``benchmarks/.ramp-workflow-env``) with ``pip install ramp-workflow==0.7.0``.
It prints both times, the ratio and the largest difference between the values.

    python benchmarks/bench_detection_scores.py [--images 2000] [--craters 20]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import ramp_python

HERE = Path(__file__).resolve().parent
MINIPATCH = [28, 196, 28, 196]

#: (name, ramp-workflow class, keyword arguments); ours are the same options by name.
SCORES = [
    ("ap", "DetectionAveragePrecision", {}),
    ("ospa", "OSPA", {"minipatch": MINIPATCH}),
    ("scp", "SCP", {"shape": (224, 224), "minipatch": MINIPATCH}),
    ("prec(0)", "DetectionPrecision", {"iou_threshold": 0.0, "minipatch": MINIPATCH}),
    ("prec(0.5)", "DetectionPrecision", {"iou_threshold": 0.5, "minipatch": MINIPATCH}),
    ("prec(0.9)", "DetectionPrecision", {"iou_threshold": 0.9, "minipatch": MINIPATCH}),
    ("rec(0)", "DetectionRecall", {"iou_threshold": 0.0, "minipatch": MINIPATCH}),
    ("rec(0.5)", "DetectionRecall", {"iou_threshold": 0.5, "minipatch": MINIPATCH}),
    ("rec(0.9)", "DetectionRecall", {"iou_threshold": 0.9, "minipatch": MINIPATCH}),
    ("madc", "MADCenter", {"minipatch": MINIPATCH}),
    ("madr", "MADRadius", {"minipatch": MINIPATCH}),
]
OURS = {"DetectionAveragePrecision": "average_precision", "OSPA": "ospa", "SCP": "scp",
        "DetectionPrecision": "detection_precision", "DetectionRecall": "detection_recall",
        "MADCenter": "mad_center", "MADRadius": "mad_radius"}


def make_data(n_images: int, n_craters: int, seed: int) -> dict:
    """Synthetic truths and predictions, as lists of tuples (the format both accept)."""
    rng = np.random.default_rng(seed)
    y_true, y_pred = [], []
    for _ in range(n_images):
        k = rng.poisson(n_craters)
        true = np.column_stack([rng.uniform(0, 224, k), rng.uniform(0, 224, k),
                                rng.uniform(4, 20, k)])
        found = true[rng.random(k) < 0.8]
        jitter = found + rng.normal(0, 1.0, found.shape) * [1, 1, 0.3]
        false = np.column_stack([rng.uniform(0, 224, k // 4), rng.uniform(0, 224, k // 4),
                                 rng.uniform(4, 20, k // 4)])
        circles = np.vstack([jitter, false])
        confidence = np.concatenate([rng.uniform(0.3, 1.0, len(jitter)),
                                     rng.uniform(0.0, 0.7, len(false))])
        y_true.append([tuple(map(float, c)) for c in true])
        y_pred.append([(float(p), *map(float, c)) for p, c in zip(confidence, circles,
                                                                  strict=True)])
    return {"y_true": y_true, "y_pred": y_pred}


TIMER = r'''
import json, sys, time
data = json.load(open(sys.argv[1]))
y_true = [[tuple(c) for c in image] for image in data["y_true"]]
y_pred = [[tuple(c) for c in image] for image in data["y_pred"]]
scores = json.loads(sys.argv[2])
which = sys.argv[3]
if which == "ramp":
    import rampwf.score_types as st
    def build(cls, kwargs):
        return getattr(st, cls)(**kwargs)
    def call(score):
        return score(y_true, y_pred)
else:
    import numpy as np
    from rampconf.plugin import make_plugin
    from rampconf.scores import BaseScore
    ours = json.loads(sys.argv[4])
    def build(cls, kwargs):
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}
        if cls != "SCP":  # ramp-workflow's circle IoU, so that the values can be compared
            params["iou_formula"] = "ramp"
        return make_plugin("score", ours[cls], params, "bench", BaseScore)
    true = np.empty(len(y_true), dtype=object)
    pred = np.empty(len(y_pred), dtype=object)
    for i, (t, p) in enumerate(zip(y_true, y_pred)):
        true[i] = np.asarray(t, dtype=float).reshape(-1, 3)
        pred[i] = np.asarray(p, dtype=float).reshape(-1, 4)
    def call(score):
        return score(true, pred)
built = [(name, build(cls, kwargs)) for name, cls, kwargs in scores]
values, start = {}, time.perf_counter()
for name, score in built:
    values[name] = float(call(score))
print(json.dumps({"seconds": time.perf_counter() - start, "values": values}))
'''


def run(python: Path, data_path: Path, which: str) -> dict:
    args = [str(python), "-c", TIMER, str(data_path), json.dumps(SCORES), which,
            json.dumps(OURS)]
    proc = subprocess.run(args, capture_output=True, text=True, check=False,
                          env={"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                               "PATH": "/usr/bin:/bin", "PYTHONWARNINGS": "ignore"})
    if proc.returncode != 0:
        sys.exit(f"{which} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--craters", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_path = Path(tmp) / "detections.json"
        data_path.write_text(json.dumps(make_data(args.images, args.craters, args.seed)))
        ramp = run(ramp_python(), data_path, "ramp")
        ours = run(Path(sys.executable), data_path, "ours")
    diff = max(abs(ours["values"][n] - ramp["values"][n]) for n, _, _ in SCORES)
    print(f"{args.images} images, about {args.craters} craters each, all eleven scores")
    print(f"  ramp-workflow 0.7.0: {ramp['seconds']:8.2f} s")
    print(f"  rampconf:            {ours['seconds']:8.2f} s")
    print(f"  speed-up: {ramp['seconds'] / ours['seconds']:.1f}x (goal >= 10x); "
          f"largest difference between the values: {diff:.2e}")


if __name__ == "__main__":
    main()
