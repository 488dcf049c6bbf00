"""Time of all eleven Mars-crater scores and of the bagging of detections: rampconf
against ramp-workflow 0.7.0.

Generates 2,000 synthetic images with about 20 craters each (seeded) and
predictions around them (jittered true craters, misses and false alarms with
confidences), plus three folds' predictions of every image (each its own
jitter, misses and false alarms), then times in both implementations

* every detection score of the mars_craters problem (ap, ospa, scp, precision
  and recall at IoU 0, 0.5, 0.9, madc, madr), one call each;
* the bagging of the three folds' predictions (ours: the ``detection``
  prediction type's ``combine``; ramp-workflow: its detection
  ``Predictions.combine``), as when a run bags its folds' test predictions,

each implementation in its own process, ours with ramp-workflow's circle IoU
(``iou_formula: ramp``, same arithmetic) so that the values can be compared:
ours in this environment, ramp-workflow 0.7.0 in ``$RAMPCONF_RAMP_PYTHON`` or a
virtual environment that this script creates (``benchmarks/.ramp-workflow-env``).
The two run one after the other ``--repeat`` times (default 3); it prints the
median times of each part, the ratios and the largest differences between the
values (scores, and every coordinate of the bagged detections).

    python benchmarks/bench_detection_scores.py [--images 2000] [--craters 20] [--repeat 3]
                                                [--before DIR]

Ours runs with this source tree and its ``plugins/`` folder first on
``PYTHONPATH``, so that the detection plugin timed is this tree's whatever is
installed; with ``--before DIR``, also another tree's (e.g. ``git archive
<commit> | tar -x -C DIR``), each round ramp-workflow, before, ours.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import REPO, ramp_python

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
    folds = [[_detections(true, rng) for true in y_true] for _ in range(3)]
    return {"y_true": y_true, "y_pred": y_pred, "folds": folds}


def _detections(true: list[tuple[float, ...]], rng: np.random.Generator) -> list[tuple]:
    """One fold's detections of an image: 80 % of the craters, jittered, and false alarms."""
    craters = np.asarray(true, dtype=float).reshape(-1, 3)
    found = craters[rng.random(len(craters)) < 0.8]
    jitter = found + rng.normal(0, 1.0, found.shape) * [1, 1, 0.3]
    n_false = len(craters) // 4
    false = np.column_stack([rng.uniform(0, 224, n_false), rng.uniform(0, 224, n_false),
                             rng.uniform(4, 20, n_false)])
    confidence = np.concatenate([rng.uniform(0.3, 1.0, len(jitter)),
                                 rng.uniform(0.0, 0.7, n_false)])
    return [(float(p), *map(float, c)) for p, c in zip(confidence, np.vstack([jitter, false]),
                                                       strict=True)]


TIMER = r'''
import json, sys, time
data = json.load(open(sys.argv[1]))
y_true = [[tuple(c) for c in image] for image in data["y_true"]]
y_pred = [[tuple(c) for c in image] for image in data["y_pred"]]
folds = [[[tuple(c) for c in image] for image in fold] for fold in data["folds"]]
scores = json.loads(sys.argv[2])
which = sys.argv[3]
import numpy as np
if which == "ramp":
    import rampwf.score_types as st
    from rampwf.prediction_types.detection import Predictions
    def build(cls, kwargs):
        return getattr(st, cls)(**kwargs)
    def call(score):
        return score(y_true, y_pred)
    def as_folds():
        out = []
        for fold in folds:
            array = np.empty(len(fold), dtype=object)
            array[:] = fold
            out.append(Predictions(y_pred=array))
        return out
    def combine(predictions):
        return Predictions.combine(predictions).y_pred
else:
    from rampconf.plugin import make_plugin
    from rampconf.predictions import BasePrediction
    from rampconf.scores import BaseScore
    ours = json.loads(sys.argv[4])
    def build(cls, kwargs):
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}
        if cls != "SCP":  # ramp-workflow's circle IoU, so that the values can be compared
            params["iou_formula"] = "ramp"
        return make_plugin("score", ours[cls], params, "bench", BaseScore)
    def objects(images, width):
        array = np.empty(len(images), dtype=object)
        for i, image in enumerate(images):
            array[i] = np.asarray(image, dtype=float).reshape(-1, width)
        return array
    true, pred = objects(y_true, 3), objects(y_pred, 4)
    def call(score):
        return score(true, pred)
    prediction = make_plugin("prediction", "detection", {"iou_formula": "ramp"}, "bench",
                             BasePrediction)
    def as_folds():
        return [objects(fold, 4) for fold in folds]
    def combine(predictions):
        return prediction.combine(predictions)
built = [(name, build(cls, kwargs)) for name, cls, kwargs in scores]
values, start = {}, time.perf_counter()
for name, score in built:
    values[name] = float(call(score))
seconds = time.perf_counter() - start
predictions = as_folds()
start = time.perf_counter()
combined = combine(predictions)
combine_seconds = time.perf_counter() - start
bagged = [np.asarray(image, dtype=float).reshape(-1, 4).tolist() for image in combined]
print(json.dumps({"seconds": seconds, "values": values, "combine_seconds": combine_seconds,
                  "combined": bagged}))
'''


def run(python: Path, data_path: Path, which: str, checkout: Path = REPO) -> dict:
    """One timing process: ``which`` is "ramp", or "ours" with ``checkout``'s plugins."""
    args = [str(python), "-c", TIMER, str(data_path), json.dumps(SCORES), which,
            json.dumps(OURS)]
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin",
           "PYTHONWARNINGS": "ignore"}
    if which != "ramp":   # that source tree's detection plugin, whatever is installed
        env["PYTHONPATH"] = os.pathsep.join([str(checkout), str(checkout / "plugins")])
    proc = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        sys.exit(f"{which} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bagged_difference(ours: list, ramp: list) -> float:
    """Largest difference between the coordinates of two baggings (inf: other shapes)."""
    largest = 0.0
    for a, b in zip(ours, ramp, strict=True):
        a, b = np.asarray(a, dtype=float).reshape(-1, 4), np.asarray(b, dtype=float).reshape(-1, 4)
        if a.shape != b.shape:
            return float("inf")
        if len(a):
            largest = max(largest, float(np.abs(a - b).max()))
    return largest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--craters", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", type=Path, default=None,
                        help="also time this source tree's code (e.g. git archive <commit> | "
                             "tar -x -C DIR), before ours in each round")
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {"ramp": [], "before": [], "ours": []}
    with tempfile.TemporaryDirectory() as tmp:
        data_path = Path(tmp) / "detections.json"
        data_path.write_text(json.dumps(make_data(args.images, args.craters, args.seed)))
        for _ in range(args.repeat):
            runs["ramp"].append(run(ramp_python(), data_path, "ramp"))
            if args.before is not None:
                runs["before"].append(run(Path(sys.executable), data_path, "ours",
                                          args.before.resolve()))
            runs["ours"].append(run(Path(sys.executable), data_path, "ours"))
    ramp, ours = runs["ramp"][-1], runs["ours"][-1]
    diff = max(abs(ours["values"][n] - ramp["values"][n]) for n, _, _ in SCORES)
    bag_diff = bagged_difference(ours["combined"], ramp["combined"])

    def median(which: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[which])

    def total(which: str) -> float:
        return statistics.median(r["seconds"] + r["combine_seconds"] for r in runs[which])

    print(f"{args.images} images, about {args.craters} craters each; medians of "
          f"{args.repeat} runs of each (ramp-workflow, then ours)")
    print(f"{'':24}{'ramp-workflow 0.7.0':>20}{'rampconf':>10}{'speed-up':>10}")
    for label, key in (("eleven scores", "seconds"), ("bagging 3 folds", "combine_seconds")):
        r, o = median("ramp", key), median("ours", key)
        print(f"  {label:22}{r:18.3f} s{o:8.3f} s{r / o:9.1f}x")
    r, o = total("ramp"), total("ours")
    print(f"  {'scores + bagging':22}{r:18.3f} s{o:8.3f} s{r / o:9.1f}x (goal >= 50x)")
    if runs["before"]:
        print(f"  --before {args.before}: medians, and ours against it")
        for label, key in (("eleven scores", "seconds"),
                           ("bagging 3 folds", "combine_seconds")):
            b, o = median("before", key), median("ours", key)
            print(f"  {label:22}{b:18.3f} s{o:8.3f} s{b / o:9.2f}x")
        b, o = total("before"), total("ours")
        print(f"  {'scores + bagging':22}{b:18.3f} s{o:8.3f} s{b / o:9.2f}x")
    print(f"  largest difference between the values: scores {diff:.2e}, "
          f"bagged detections {bag_diff:.2e}")


if __name__ == "__main__":
    main()
