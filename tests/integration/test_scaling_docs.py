"""The shell blocks of docs/tutorials/scaling.md run as written, from a fresh clone.

The submitit_local block is run by ``test_scaling_launchers.py`` (whose
assertions read its sweep); blocks that need a PostgreSQL server, a Slurm
cluster or a long time say so (``# not run by tests: <reason>``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import cli_env
from tests.integration.test_readme import as_script, fresh_clone

pytestmark = pytest.mark.slow

DOC = Path(__file__).resolve().parents[2] / "docs" / "tutorials" / "scaling.md"
BLOCKS = re.findall(r"```bash\n(.*?)```", DOC.read_text(), re.S)
RUN = [script for block in BLOCKS
       if "submitit_local" not in block and (script := as_script(block, "scaling.md")) is not None]


def test_the_page_has_its_blocks_and_marks_the_ones_not_run():
    assert DOC.read_text().startswith("# ")
    assert len(RUN) == 2  # two workers on a journal file; a Dask cluster
    skipped = [block for block in BLOCKS if as_script(block, "scaling.md") is None]
    assert len(skipped) == 5  # PostgreSQL, the benchmark, Slurm (two), the dashboard server
    assert "BENCH_TABLE" not in DOC.read_text() and "BENCH_MINUTES" not in DOC.read_text()


@pytest.mark.parametrize("script", RUN, ids=["journal-workers", "dask-cluster"])
def test_scaling_page_commands_run(script, kits, tmp_path):
    project = fresh_clone(tmp_path, kits)
    env = cli_env()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(["bash", "-c", script], cwd=project, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, f"{script}\n{proc.stderr[-3000:]}"
    if "iris-shared" in script:
        import pandas as pd

        frame = pd.read_csv(project / "multirun" / "iris-shared" / "worker_1" / "trials.csv")
        assert sorted(frame["number"]) == list(range(6))  # n_trials over the two workers
    else:
        assert "iris / random_forest_10_10: mean ± std over" in proc.stdout


def test_the_slurm_launcher_config_of_the_page_composes(tmp_path):
    """The recipe's conf/hydra/launcher/cluster.yaml gives submitit's Slurm launcher."""
    import yaml

    text = DOC.read_text()
    start = text.index("conf/hydra/launcher/cluster.yaml")
    block = re.search(r"```yaml\n(.*?)```", text[start:], re.S).group(1)
    config = tmp_path / "conf" / "hydra" / "launcher" / "cluster.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("\n".join(line[4:] for line in block.splitlines()) + "\n")
    proc = subprocess.run([sys.executable, "-m", "rampconf", "hydra/launcher=cluster",
                           "--cfg", "hydra", "-p", "hydra.launcher"], cwd=tmp_path,
                          env=cli_env(), capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    launcher = yaml.safe_load(proc.stdout)
    assert launcher["_target_"].endswith("submitit_launcher.SlurmLauncher")
    assert (launcher["partition"], launcher["cpus_per_task"], launcher["array_parallelism"]) \
        == ("cpu", 4, 16)
