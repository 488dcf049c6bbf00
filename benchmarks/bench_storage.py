"""Many workers on one study: PostgreSQL against the journal file storage, by simulation.

``--workers`` processes (32) share one Optuna study and run ``--trials``
trials (1,000) in all with a trivial objective (``(x - 2) ** 2``, no
sleep), so only the storage is measured. Each storage is opened as the
sweeper and its jobs open it (:func:`rampconf.trial.open_storage`); every
worker opens its own and waits at a barrier, so start-up is not timed.

Two protocols, each on both storages:

* ``optuna``: what any Optuna worker does: ``study.ask()`` (random sampler,
  one float parameter), the objective, ``study.tell()``; a shared counter
  (outside the storage) stops the workers at exactly ``--trials``.
* ``sweeper``: what a worker of rampconf's sweeper does before each ask: take
  the study's ask lock (an advisory lock on PostgreSQL, a lock file beside a
  journal), count the study's trials (``n_trials`` is exact across workers),
  then ask; then tell.

PostgreSQL 15 (the Debian package) runs on 127.0.0.1 with its defaults
(``fsync`` on), in a fresh cluster made here (tests/postgres.py); the journal
is a file in a temporary folder of the local disk. Printed per storage and
protocol: ask and tell latency percentiles (ms; p50, p90, p99, max),
trials per second (trials / wall time from the barrier to the last tell),
and the ratio to the journal file, the baseline of the same run.

    python benchmarks/bench_storage.py [--workers 32] [--trials 1000]
        [--protocols optuna sweeper]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
STUDY = "bench"


def worker(url: str, protocol: str, n_trials: int, seed: int, barrier: Any, counter: Any,
           results: Any) -> None:
    """One worker: ask / objective / tell until the study has ``n_trials``; send latencies."""
    import optuna

    from rampconf.trial import open_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(url)
    study = optuna.load_study(study_name=STUDY, storage=storage,
                              sampler=optuna.samplers.RandomSampler(seed=seed))
    if protocol == "sweeper":
        sys.path.insert(0, str(REPO))
        from hydra_plugins.rampconf_sweeper._storage import count_trials, storage_lock
    asks: list[float] = []
    tells: list[float] = []
    barrier.wait()
    while True:
        start = time.perf_counter()
        if protocol == "optuna":
            with counter.get_lock():
                if counter.value >= n_trials:
                    break
                counter.value += 1
            trial = study.ask()
        else:
            with storage_lock(url, STUDY):
                if count_trials(study) >= n_trials:
                    break
                trial = study.ask()
        x = trial.suggest_float("x", -10, 10)
        asks.append(time.perf_counter() - start)
        start = time.perf_counter()
        study.tell(trial, (x - 2) ** 2)
        tells.append(time.perf_counter() - start)
    results.put((asks, tells, time.perf_counter()))


def percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": cuts[49] * 1e3, "p90": cuts[89] * 1e3, "p99": cuts[98] * 1e3,
            "max": max(values) * 1e3}


def measure(url: str, protocol: str, n_workers: int, n_trials: int) -> dict[str, Any]:
    import optuna

    from rampconf.trial import open_storage

    optuna.create_study(study_name=STUDY, storage=open_storage(url))
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(n_workers + 1)
    counter = ctx.Value("i", 0)
    results = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(url, protocol, n_trials, seed, barrier, counter,
                                              results)) for seed in range(n_workers)]
    for proc in procs:
        proc.start()
    barrier.wait()
    start = time.perf_counter()
    outcomes = [results.get(timeout=3600) for _ in procs]
    for proc in procs:
        proc.join()
    wall = max(end for _, _, end in outcomes) - start
    asks = [v for a, _, _ in outcomes for v in a]
    tells = [v for _, t, _ in outcomes for v in t]
    study = optuna.load_study(study_name=STUDY, storage=open_storage(url))
    trials = study.get_trials(deepcopy=False)
    numbers = sorted(t.number for t in trials)
    assert numbers == list(range(len(trials))), "trial numbers are not distinct"
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    return {"trials": len(trials), "wall": wall, "trials_per_s": len(trials) / wall,
            "ask": percentiles(asks), "tell": percentiles(tells)}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with_model = Path("/proc/cpuinfo")
    if with_model.exists():
        for line in with_model.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--protocols", nargs="+", choices=("optuna", "sweeper"),
                        default=["optuna", "sweeper"])
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    import optuna

    from tests.postgres import PostgresServer

    rows = []
    with PostgresServer(durable=True) as server, \
            tempfile.TemporaryDirectory(prefix="bench-journal-") as folder:
        version = server._run("postgres", "--version").stdout.strip()
        for protocol in args.protocols:
            urls = {"journal file": f"journal://{Path(folder) / f'{protocol}.log'}",
                    "PostgreSQL": server.create_database(f"bench_{protocol}")}
            for name, url in urls.items():
                print(f"{protocol}: {name}: {args.workers} workers, {args.trials} trials ...",
                      flush=True)
                rows.append((protocol, name, measure(url, protocol, args.workers, args.trials)))
    print()
    print(f"# bench_storage {dt.date.today().isoformat()}: {args.workers} workers, "
          f"{args.trials} trials, trivial objective; {machine()}; optuna {optuna.__version__}, "
          f"{version}, Python {platform.python_version()}")
    print("| protocol | storage | ask p50 | ask p90 | ask p99 | ask max | tell p50 | tell p90 "
          "| tell p99 | trials/s | ask p50 / journal | trials/s / journal |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    base = {p: r for p, n, r in rows if n == "journal file"}
    for protocol, name, r in rows:
        a, t, b = r["ask"], r["tell"], base[protocol]
        print(f"| {protocol} | {name} | {a['p50']:.1f} | {a['p90']:.1f} | {a['p99']:.1f} | "
              f"{a['max']:.0f} | {t['p50']:.1f} | {t['p90']:.1f} | {t['p99']:.1f} | "
              f"{r['trials_per_s']:.1f} | {a['p50'] / b['ask']['p50']:.2f} | "
              f"{r['trials_per_s'] / b['trials_per_s']:.2f} |")
    print("(latencies in ms; trials/s from the barrier to the last tell; ratios against the "
          "journal file of the same protocol)")


if __name__ == "__main__":
    main()
