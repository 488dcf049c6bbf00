"""The README's worked example (a CSV, a YAML problem, a submission, a command) runs as shown."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"


def examples() -> dict[str, str]:
    """Fenced blocks that follow ``<!-- example: NAME -->`` markers in the README."""
    pattern = re.compile(r"<!-- example: (\S+) -->\n```\w*\n(.*?)```", re.S)
    return {name: body for name, body in pattern.findall(README.read_text())}


def test_readme_worked_example_runs(run_cli, tmp_path):
    blocks = examples()
    assert {"conf/problem/wine.yaml", "submissions/wine/my_model/estimator.py",
            "command"} <= set(blocks)
    for name in ("conf/problem/wine.yaml", "submissions/wine/my_model/estimator.py"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(blocks[name])
    data = tmp_path / "data" / "wine"
    data.mkdir(parents=True)
    subprocess.run([sys.executable, "-c",
                    "from sklearn.datasets import load_wine\n"
                    "frame = load_wine(as_frame=True).frame.rename("
                    "columns={'target': 'cultivar'})\n"
                    "frame = frame.sample(frac=1, random_state=0)\n"
                    "frame.iloc[:140].to_csv('data/wine/train.csv', index=False)\n"
                    "frame.iloc[140:].to_csv('data/wine/test.csv', index=False)\n"],
                   cwd=tmp_path, check=True)
    command = shlex.split(blocks["command"].strip())
    assert command[:3] == ["python", "-m", "rampconf"]
    proc = run_cli(*command[3:], "progress=false")
    assert proc.returncode == 0, proc.stderr
    assert "wine / my_model: mean ± std over 4 folds" in proc.stdout
    assert "│ valid │ 0.98 ± 0.02 │ 0.18 ± 0.01 │ 0.98 ± 0.02 │" in proc.stdout
    assert "│ test  │ 1.00 │ 0.14 │     1.00 │" in proc.stdout
