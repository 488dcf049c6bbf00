"""The OS sandbox (``sandbox=bwrap``): what a fold process can no longer see or touch.

Needs bubblewrap (``.ci/run`` installs it). The same submission run without
the sandbox shows each attack works there, so these tests can fail.
"""

from __future__ import annotations

import json
import socket
import textwrap
from pathlib import Path

import pytest

import rampconf

pytestmark = pytest.mark.slow

PROBE = """
import os
from pathlib import Path

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.impute import SimpleImputer

SECRETS = {secrets!r}
OTHER_RUN = Path({other_run!r})
PORT = {port}
MARKER = {marker!r}


def get_estimator():
    leaks = []
    for path in SECRETS:
        try:
            Path(path).read_bytes()
            leaks.append(f"read {{path}}")
        except OSError:
            pass
    try:
        (OTHER_RUN / "summary.json").write_text('{{"forged": true}}')
        leaks.append("wrote another run's summary.json")
    except OSError:
        pass
    import socket
    try:
        socket.create_connection(("127.0.0.1", PORT), timeout=2).close()
        leaks.append("reached the network")
    except OSError:
        pass
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                command = Path(f"/proc/{{pid}}/cmdline").read_bytes()
                # bubblewrap (the sandbox's pid 1) names the bound folders, which may say pytest
                if b"pytest" in command and not command.split(b"\\0")[0].endswith(b"bwrap"):
                    leaks.append(f"saw the runner's process (pid {{pid}})")
            except OSError:
                pass
    import tempfile
    for mine in (Path(MARKER), Path(tempfile.gettempdir()).parent / "left-by-a-fold"):
        if mine.exists():
            leaks.append(f"found a file another fold left in {{mine.parent}}")
        try:
            mine.write_text("x")
        except OSError:
            pass
    if leaks:
        raise RuntimeError("; ".join(leaks))
    cols = ["Pclass", "Age", "SibSp", "Parch", "Fare"]
    from sklearn.compose import ColumnTransformer
    return make_pipeline(ColumnTransformer([("num", SimpleImputer(), cols)]),
                         LogisticRegression(max_iter=500))
"""


@pytest.fixture
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield server.getsockname()[1]
    server.close()


def test_the_sandbox_hides_data_other_runs_network_and_other_folds(tmp_path, monkeypatch, kits,
                                                                   listener):
    monkeypatch.chdir(tmp_path)
    marker = Path("/tmp") / f"left-by-a-fold-{tmp_path.name}"
    other = rampconf.run(problem="iris", quiet=True, output_dir=tmp_path / "other_run")
    before = (other.run_dir / "summary.json").read_text()
    folder = tmp_path / "submissions" / "titanic" / "probe"
    folder.mkdir(parents=True)
    (folder / "estimator.py").write_text(textwrap.dedent(PROBE.format(
        secrets=[str(kits / "titanic" / "test.csv"), str(kits / "titanic" / "train.csv"),
                 str(Path.home() / ".bashrc")],
        other_run=str(other.run_dir), port=listener, marker=str(marker))))
    overrides = [f"data_root={kits}", "problem.cv.n_splits=3"]
    result = rampconf.run(problem="titanic", submission="probe", quiet=True,
                          overrides=[*overrides, "sandbox=bwrap"])
    assert result.status == "ok", result.folds["error"].tolist()
    assert (other.run_dir / "summary.json").read_text() == before

    # the same submission outside the sandbox: each attack works there
    try:
        exposed = rampconf.run(problem="titanic", submission="probe", quiet=True,
                               overrides=overrides)
    finally:
        marker.unlink(missing_ok=True)
    assert exposed.status == "failed"
    first, second = ((exposed.run_dir / "errors" / f"fold_{fold}.txt").read_text()
                     for fold in (0, 1))
    for leak in ("read " + str(kits / "titanic" / "test.csv"),
                 "wrote another run's summary.json", "reached the network",
                 "saw the runner's process"):
        assert leak in first
    assert "found a file another fold left in /tmp" in second
    assert json.loads((other.run_dir / "summary.json").read_text()) == {"forged": True}
