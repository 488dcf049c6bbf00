"""Shared fixtures: the RAMP kits (by path, never copied) and a command-line runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def kits_root() -> Path:
    """The shared RAMP kits: ``$RAMPCONF_KITS`` or ``../shared/kits`` beside the repository."""
    return Path(os.environ.get("RAMPCONF_KITS", REPO.parent / "shared" / "kits")).resolve()


@pytest.fixture(scope="session")
def kits() -> Path:
    root = kits_root()
    assert (root / "reference").is_dir(), f"RAMP kits not found at {root}; set RAMPCONF_KITS"
    return root


@pytest.fixture(scope="session")
def reference(kits: Path) -> dict:
    return json.loads((kits / "reference" / "ramp_test_scores.json").read_text())["kits"]


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAMPCONF_")}
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               COLUMNS="200", PYTHONWARNINGS="ignore")
    return env


@pytest.fixture
def run_cli(tmp_path: Path):
    """Run ``python -m rampconf ARGS`` in a fresh directory; returns the completed process."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: int = 300) -> subprocess.CompletedProcess[str]:
        full_env = cli_env()
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "rampconf", *args], cwd=cwd or tmp_path, env=full_env,
            capture_output=True, text=True, timeout=timeout, check=False)

    return run


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server on 127.0.0.1 for the session (tests/postgres.py)."""
    from tests.postgres import PostgresServer

    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()
