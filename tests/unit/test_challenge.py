"""challenge.yaml's errors, the public/private split, submission hashes, what counts."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rampconf.challenge.boards import select_records
from rampconf.challenge.cli import main
from rampconf.challenge.config import load_challenge
from rampconf.challenge.data import split_rows
from rampconf.challenge.evaluate import run_name, submission_hash
from rampconf.errors import ConfigError, DataError

GOOD = "name: c1\nproblem: titanic\ndata_root: data\nsplit: {public_fraction: 0.5}\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "challenge.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "message"), [
    ("name: c1\nproblem: titanic\nsplit: {public_fraction: 0.5}\n",
     "data_root: required key is missing"),
    (GOOD + "limit: {fold_timeout: 3}\n",
     "limit: unknown key, got {'fold_timeout': 3} (keys of a challenge: name, problem, "
     "data_root, overrides, split, limits, select"),
    (GOOD.replace("{public_fraction: 0.5}", "{public_fraction: 0.5, column: part}"),
     "split: value error, give either public_fraction (with seed) or column, not both"),
    (GOOD.replace("0.5", "1.5"), "split.public_fraction: input should be less than 1, got 1.5"),
    (GOOD + "select: best\n", "select: input should be 'newest', 'best_public' or 'all', "
                              "got 'best'"),
    (GOOD + "limits: {fold_memory: lots}\n", "limits.fold_memory: value error"),
    (GOOD + "overrides: [sandbox=null]\n", "overrides: value error, 'sandbox=null' sets a key "
                                           "the challenge sets itself"),
    ("- a list\n", "expected a mapping of keys (name, problem, data_root, split, ...), got list"),
    ("name: [unclosed\n", "not a readable YAML file"),
], ids=["missing-key", "unknown-key", "two-splits", "fraction-range", "select", "memory",
        "reserved-override", "not-a-mapping", "bad-yaml"])
def test_a_bad_challenge_file_is_one_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_challenge(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def test_the_command_line_says_it_in_one_line_with_exit_2(tmp_path, capsys):
    path = write(tmp_path, GOOD + "n_jobs: 0\n")
    assert main(["evaluate", str(path), str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"rampconf-challenge: error: {path}: n_jobs: input should be greater than "
                   "or equal to 1, got 0"]
    assert main(["reveal", str(tmp_path / "missing.yaml")]) == 2
    assert "no such challenge file" in capsys.readouterr().err


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    for command in ("kit CHALLENGE OUT", "evaluate CHALLENGE SUBS", "reveal CHALLENGE",
                    "publish CHALLENGE OUT", "blend CHALLENGE"):
        assert command in out
    assert "  limits.fold_memory: memory each fold may use (e.g. 2GB); then status " \
           "out_of_memory\n      (default 4GB)" in out  # from the pydantic descriptions


def test_a_random_split_is_reproducible_and_of_the_fraction(tmp_path):
    challenge = load_challenge(write(tmp_path, GOOD.replace("0.5}", "0.3, seed: 7}")))
    table = pd.DataFrame({"x": [str(i) for i in range(100)]})
    public, private = split_rows(challenge, table, [])
    assert len(public) == 30 and len(private) == 70
    assert sorted([*public, *private]) == list(range(100))
    again, _ = split_rows(challenge, table, [])
    assert np.array_equal(public, again)
    other = load_challenge(write(tmp_path, GOOD.replace("0.5}", "0.3, seed: 8}")))
    assert not np.array_equal(split_rows(other, table, [])[0], public)


def test_a_column_split_reads_the_marks(tmp_path):
    challenge = load_challenge(write(tmp_path, GOOD.replace("public_fraction: 0.5",
                                                            "column: part")))
    table = pd.DataFrame({"part": ["public", "Private", " 1", "no", "TRUE"]})
    public, private = split_rows(challenge, table, ["part"])
    assert public.tolist() == [0, 2, 4] and private.tolist() == [1, 3]
    with pytest.raises(ConfigError, match="must be a column the problem ignores"):
        split_rows(challenge, table, [])
    with pytest.raises(ConfigError, match=r"values must mark public .* got \['maybe'\]"):
        split_rows(challenge, pd.DataFrame({"part": ["public", "maybe"]}), ["part"])
    with pytest.raises(ConfigError, match="both need test rows, got 2 public and 0 private"):
        split_rows(challenge, pd.DataFrame({"part": ["1", "1"]}), ["part"])


def test_the_hash_follows_content_and_challenge_not_times(tmp_path):
    folder = tmp_path / "alice" / "first"
    folder.mkdir(parents=True)
    (folder / "estimator.py").write_text("x = 1\n")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "estimator.pyc").write_bytes(b"cache")
    first = submission_hash(folder, "challenge-a")
    (folder / "__pycache__" / "estimator.pyc").write_bytes(b"other cache")
    (folder / "estimator.py").touch()
    assert submission_hash(folder, "challenge-a") == first
    assert submission_hash(folder, "challenge-b") != first
    (folder / "estimator.py").write_text("x = 2\n")
    assert submission_hash(folder, "challenge-a") != first
    (folder / "estimator.py").write_text("x = 1\n")
    (folder / "notes.txt").write_text("")
    assert submission_hash(folder, "challenge-a") != first
    assert run_name("alice smith", "v2!") == "alice_smith.v2_"


def record(student: str, name: str, status: str, submitted: str, evaluated: str = "1"
           ) -> dict:
    return {"student": student, "submission": name, "status": status, "submitted": submitted,
            "evaluated": evaluated, "folder": f"{student}/{name}/{evaluated}"}


def test_what_counts_per_student():
    records = [record("a", "one", "ok", "2"), record("a", "two", "ok", "3"),
               record("a", "three", "failed", "4"), record("b", "one", "failed", "1"),
               record("c", "one", "ok", "1", "1"), record("c", "one", "ok", "5", "2")]
    values = {"a/one/1": 0.9, "a/two/1": 0.7, "c/one/1": 0.8, "c/one/2": 0.6}
    newest = select_records(records, "newest", values, True)
    assert [(r["student"], r["submission"]) for r in newest] == [("a", "two"), ("b", "one"),
                                                                 ("c", "one")]
    assert newest[2]["evaluated"] == "2"  # the latest version of a submission only
    best = select_records(records, "best_public", values, True)
    assert [r["folder"] for r in best] == ["a/one/1", "b/one/1", "c/one/2"]
    lower = select_records(records, "best_public", values, False)
    assert lower[0]["folder"] == "a/two/1"
    assert len(select_records(records, "all", values, True)) == 5
    assert math.isnan(values.get("b/one/1", math.nan))


def test_evaluate_needs_a_positive_number_of_workers(tmp_path, kits, capsys, monkeypatch):
    path = write(tmp_path, GOOD.replace("data_root: data", f"data_root: {kits}")
                 + "limits: {sandbox: null}\n")
    (tmp_path / "submissions").mkdir()
    assert main(["evaluate", str(path), str(tmp_path / "submissions"), "--n-jobs", "-1"]) == 2
    assert capsys.readouterr().err.strip() == (
        "rampconf-challenge: error: n_jobs: submissions evaluated at a time, at least 1, got -1")


def test_a_kit_from_a_teachers_own_problem_split_by_a_column(tmp_path, kits):
    """The problem in conf/problem/ beside challenge.yaml; the test file's column says public."""
    from rampconf.challenge import make_kit

    data = tmp_path / "data" / "tit"
    data.mkdir(parents=True)
    train = pd.read_csv(kits / "titanic" / "train.csv")
    test = pd.read_csv(kits / "titanic" / "test.csv")
    train["part"] = "train"
    test["part"] = np.where(np.arange(len(test)) % 3 == 0, "public", "private")
    train.to_csv(data / "train.csv", index=False)
    test.to_csv(data / "test.csv", index=False)
    (tmp_path / "conf" / "problem").mkdir(parents=True)
    (tmp_path / "conf" / "problem" / "tit.yaml").write_text(
        "defaults:\n  - /score@scores.auc: roc_auc\n  - _self_\nname: tit\n"
        "data: {reader: csv, train: tit/train.csv, test: tit/test.csv, target: Survived, "
        "ignore: [PassengerId, part]}\nprediction: {type: multiclass, labels: [0, 1]}\n"
        "workflow: estimator\ncv: {type: kfold, n_splits: 2}\nsubmissions: titanic\n")
    path = write(tmp_path, "name: own\nproblem: tit\ndata_root: data\nsplit: {column: part}\n"
                           "overrides: [problem.cv.n_splits=3]\n")
    kit = make_kit(load_challenge(path), tmp_path / "kit")
    public = pd.read_csv(kit / "data" / "tit" / "test.csv")
    assert public["PassengerId"].tolist() == test["PassengerId"][::3].tolist()
    assert set(public["part"]) == {"public"}
    problem = (kit / "conf" / "problem" / "tit.yaml").read_text()
    assert "n_splits: 3" in problem and "defaults" not in problem
    assert (kit / "submissions" / "titanic" / "starting_kit" / "estimator.py").is_file()
    with pytest.raises(DataError, match="exists and is not empty"):
        make_kit(load_challenge(path), tmp_path / "kit")


def test_stopping_an_evaluation_kills_and_waits_for_its_processes_in_other_sessions(tmp_path):
    """A fork server runs in a session of its own: killing the group alone would leave it."""
    import os
    import subprocess
    import sys
    import time

    from rampconf.challenge.evaluate import Pending, _stop
    from rampconf.limits import running as _running

    pids = tmp_path / "pids"
    grandchild = "import time; time.sleep(600)"
    child = ("import os, subprocess, sys, time; "
             f"g = subprocess.Popen([sys.executable, '-c', {grandchild!r}]); "
             f"open({str(pids)!r} + '.tmp', 'w').write(f'{{os.getpid()}} {{g.pid}}'); "
             f"os.replace({str(pids)!r} + '.tmp', {str(pids)!r}); time.sleep(600)")
    leader = ("import subprocess, sys, time; "
              f"subprocess.Popen([sys.executable, '-c', {child!r}], start_new_session=True); "
              "time.sleep(600)")
    process = subprocess.Popen([sys.executable, "-c", leader], start_new_session=True)
    end = time.monotonic() + 30
    while not pids.exists() and time.monotonic() < end:
        time.sleep(0.02)
    tree = [int(pid) for pid in pids.read_text().split()]
    assert all(_running(pid) for pid in tree)
    job = Pending("ann", "slow", tmp_path, "hash", tmp_path, process=process)
    try:
        _stop(job)
        assert process.returncode is not None
        assert not any(_running(pid) for pid in tree)  # gone when _stop returns
    finally:
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
