"""Helpers shared by the benchmark scripts: kits path, timed subprocesses, a table."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


RAMP_ENV = REPO / "benchmarks" / ".ramp-workflow-env"


def ramp_python() -> Path:
    """The interpreter of a ramp-workflow 0.7.0 environment.

    ``$RAMPCONF_RAMP_PYTHON`` when set (as for the tests), else
    ``benchmarks/.ramp-workflow-env``, created on first use.
    """
    import venv

    given = os.environ.get("RAMPCONF_RAMP_PYTHON")
    if given:
        return Path(given)
    python = RAMP_ENV / "bin" / "python"
    if not python.exists():
        print(f"creating {RAMP_ENV} with ramp-workflow 0.7.0 ...", file=sys.stderr)
        venv.create(RAMP_ENV, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                        "ramp-workflow==0.7.0"], check=True)
    return python


def kits_root() -> Path:
    """``$RAMPCONF_KITS`` or ``../shared/kits`` beside the repository."""
    return Path(os.environ.get("RAMPCONF_KITS", REPO.parent / "shared" / "kits")).resolve()


def single_thread_env() -> dict[str, str]:
    """The environment with BLAS and OpenMP capped at one thread (as in CI)."""
    env = dict(os.environ)
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONWARNINGS="ignore")
    return env


def checkout_env(checkout: Path | None) -> dict[str, str]:
    """:func:`single_thread_env`, running the rampconf of another source tree when given.

    ``checkout`` (e.g. ``git archive <commit> | tar -x -C DIR``) goes first on
    ``PYTHONPATH`` with its ``plugins/`` folder, so ``python -m rampconf``, its
    plugins, its sweeper and its fork server are that tree's code (the config
    and submissions are this installation's): a before / after comparison in
    one run.
    """
    env = single_thread_env()
    if checkout is not None:
        root = Path(checkout).resolve()
        env["PYTHONPATH"] = os.pathsep.join([str(root), str(root / "plugins"),
                                             *filter(None, [env.get("PYTHONPATH")])])
    return env


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Wall-clock seconds of a whole process; fails loudly if it fails."""
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, env=env or single_thread_env(),
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(command)}\n{proc.stderr[-2000:]}")
    return elapsed


def median_of(commands: dict[str, list[str]], cwd: Path, repeats: int,
              envs: dict[str, dict[str, str]] | None = None) -> dict[str, float]:
    """Median wall time of each command, the commands interleaved repeat by repeat."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            times[name].append(timed(command, cwd, (envs or {}).get(name)))
    return {name: statistics.median(values) for name, values in times.items()}
