"""The pieces of trusted execution: sizes, plain data, the config guard, run directories."""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from rampconf.configguard import check_config_file
from rampconf.isolation import Task, send_shared, send_task, serve_task
from rampconf.limits import parse_memory
from rampconf.resources import packaged_conf_dir
from rampconf.rundir import MARKER, claim_run_dir
from rampconf.wire import decode, dumps_task, encode, loads_task, recv_exact, to_plain


@pytest.mark.parametrize(("text", "expected"), [
    ("2GB", 2 * 10**9), ("512MB", 512 * 10**6), ("1.5GiB", int(1.5 * 2**30)), ("2G", 2 * 2**30),
    ("100", 100), (1024, 1024), ("3e9", 3 * 10**9), (" 1 kb ", 1000),
])
def test_memory_sizes(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "2 parsecs", "-1GB", "0", True])
def test_bad_memory_sizes_are_refused(text):
    with pytest.raises(ValueError, match="memory size"):
        parse_memory(text)


@pytest.mark.parametrize(("overrides", "expected"), [
    (["fold_memory=lots"], "fold_memory: value error, a memory size such as 2GB"),
    (["fold_timeout=0"], "fold_timeout: input should be greater than 0"),
    (["sandbox=docker"], "sandbox: input should be 'bwrap'"),
    (["unsafe_in_process=true", "fold_timeout=3"],
     "fold_timeout=3.0 needs isolated folds; unsafe_in_process=true runs them in this process"),
], ids=["memory", "timeout", "sandbox", "unsafe-with-limits"])
def test_isolation_options_are_validated(overrides, expected):
    import rampconf
    from rampconf.errors import ConfigError
    from rampconf.schema import validate_config

    raw = rampconf.compose(overrides)
    raw.pop("hydra_run_dir")
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(")):
        validate_config(raw)


def test_plain_data_keeps_numbers_and_structure():
    ragged = [[(0.9, 1.0, 2.0, 3.0)], [], [(0.5, 4.0, 5.0, 6.0), (0.1, 7.0, 8.0, 9.0)]]
    objects = np.empty(2, dtype=object)
    objects[:] = [np.ones(2), None]
    sent = {"train": np.arange(6.0).reshape(3, 2), "ragged": ragged, "objects": objects,
            "n": np.int64(3), "nan": float("nan"), "labels": np.array(["a", "b"])}
    back = decode(encode(to_plain(sent)))
    np.testing.assert_array_equal(back["train"], np.arange(6.0).reshape(3, 2))
    assert back["train"].dtype == np.float64 and back["labels"].dtype.kind == "U"
    assert back["ragged"] == ragged  # lists stay lists, tuples tuples
    assert back["objects"].dtype == object and back["objects"].shape == (2,)
    np.testing.assert_array_equal(back["objects"][0], np.ones(2))
    assert back["objects"][1] is None and back["n"] == 3 and np.isnan(back["nan"])


def test_an_object_is_not_plain_data():
    class Model:
        pass

    with pytest.raises(TypeError, match="a Model is not plain data"):
        to_plain([Model()])


def test_decoding_never_unpickles():
    class Boom:
        def __reduce__(self):
            return (Path.touch, (Path("/nonexistent/should-not-run"),))

    with pytest.raises(ValueError, match="not a well-formed message"):
        decode(pickle.dumps(Boom()))
    # an .npy block of object dtype is a pickle: refused too
    buffer = io.BytesIO()
    np.save(buffer, np.array([Boom()], dtype=object), allow_pickle=True)
    message = bytearray(encode({"a": np.zeros(1)}))
    start = message.index(b"\x93NUMPY")
    forged = bytes(message[:start]) + buffer.getvalue()
    with pytest.raises(ValueError, match="not a well-formed message"):
        decode(forged)


def test_read_only_memory_maps_travel_as_descriptors(tmp_path):
    path = tmp_path / "images.npy"
    np.save(path, np.arange(40.0).reshape(10, 4))
    images = np.load(path, mmap_mode="r")
    data, fds = dumps_task({"all": images, "view": images[3:7]})
    assert len(fds) == 1 and len(data) < 1000  # the values are not in the pickle
    back = loads_task(data, fds)
    np.testing.assert_array_equal(back["all"], images)
    np.testing.assert_array_equal(back["view"], images[3:7])
    assert not back["all"].flags.writeable


@pytest.mark.parametrize(("path", "header", "content", "expected"), [
    ("problem/evil.yaml", "_global_", {"hydra": {"callbacks": {"x": {"_target_": "os.system"}}}},
     ["hydra.callbacks.x._target_: rampconf never creates objects",
      "# @package _global_: a problem file configures its own keys only"]),
    ("problem/evil.yaml", None, {"defaults": [{"override /hydra/sweeper": "basic"}]},
     ["an option file cannot override choices"]),
    ("problem/evil.yaml", None, {"defaults": [{"/score@_global_.hydra": "accuracy"}]},
     ["package _global_.hydra is outside the file's own keys"]),
    ("score/evil.yaml", None, {"defaults": [{"/hydra/callbacks": "x"}]},
     ["may compose only problem, workflow, score, cv options"]),
    ("cv/evil.yaml", None, {"defaults": ["/search/titanic_logreg"]},
     ["may compose only problem, workflow, score, cv options"]),
    ("search/evil.yaml", "_global_", {"defaults": ["/hydra/callbacks/x"]},
     ["only `group: option` entries and _self_ are allowed"]),
    ("workflow/evil.yaml", "hydra.callbacks", {"x": 1},
     ["# @package hydra.callbacks: a workflow file configures its own keys only"]),
    ("search/evil.yaml", "_global_", {"hydra": {"sweeper": {}, "callbacks": {}}},
     ["hydra.callbacks: a search file may set only hydra.sweeper"]),
    ("search/evil.yaml", "_global_", {"defaults": [{"override /hydra/launcher": "evil"}]},
     ["a search file may choose only problem, submission, workflow, cv, hydra/sweeper"]),
], ids=["global-callback", "override-hydra", "global-package", "hydra-group", "config-path",
        "package-hydra", "search-callbacks", "search-launcher", "search-config-path"])
def test_option_files_cannot_configure_hydra(path, header, content, expected):
    problems = check_config_file(path, header, content)
    assert len(problems) == len(expected), problems
    for problem, text in zip(problems, expected, strict=True):
        assert text in problem


@pytest.mark.parametrize("path", sorted(packaged_conf_dir().rglob("*.yaml")),
                         ids=lambda p: str(p.relative_to(packaged_conf_dir())))
def test_every_shipped_option_file_passes_the_guard(path):
    from hydra.plugins.config_source import ConfigSource

    text = path.read_text()
    header = ConfigSource._get_header_dict(text[:512]).get("package")
    name = str(path.relative_to(packaged_conf_dir()))
    assert check_config_file(name, header, yaml.safe_load(text)) == []


def test_run_directories_are_claimed_once(tmp_path):
    wanted = tmp_path / "runs" / "2026-01-01_00-00-00"
    first = claim_run_dir(wanted)
    second = claim_run_dir(wanted)
    assert first == wanted and second == wanted.with_name(wanted.name + "_1")
    assert (first / MARKER).is_file() and (second / MARKER).is_file()
    old = tmp_path / "old"
    old.mkdir()
    (old / "summary.json").write_text("{}")  # a run of an older version, without the marker
    assert claim_run_dir(old) == tmp_path / "old_1"
    assert (old / "summary.json").read_text() == "{}" and not (old / MARKER).exists()


def test_a_check_is_reused_only_for_the_same_files_and_parameter_names(tmp_path):
    from rampconf.execution import check_key
    from rampconf.plugin import make_plugin
    from rampconf.submission import Submission
    from rampconf.workflows import BaseWorkflow

    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "estimator.py").write_text("def get_estimator(C=1.0):\n    return None\n")
    workflow = make_plugin("workflow", "estimator", {}, "workflow", BaseWorkflow)

    def key(params):
        return check_key(workflow, Submission(name="mine", path=folder, params=params))

    assert key({"C": 0.5}) == key({"C": 2.0})  # values never reach the check
    assert key({"C": 0.5}) != key({"C": 0.5, "D": 1})
    assert key({"C": 0.5}) != key({"estimator": {"C": 0.5}})
    before = key({})
    (folder / "estimator.py").write_text("def get_estimator(C=2.0):\n    return None\n")
    assert key({}) != before
    (folder / "notes.txt").write_text("a file beside it")
    assert key({}) != before


def test_warning_classes_named_by_a_fold_are_found_again_by_module_and_name():
    import importlib
    import subprocess
    import sys

    from sklearn.exceptions import ConvergenceWarning

    from rampconf.execution import warning_category

    assert warning_category("sklearn.exceptions.ConvergenceWarning") is ConvergenceWarning
    assert warning_category("builtins.RuntimeWarning") is RuntimeWarning
    made = warning_category("not_imported_here.module.OddWarning")
    assert issubclass(made, UserWarning) and made.__name__ == "OddWarning"
    assert made is warning_category("elsewhere.OddWarning")  # one class per name
    assert warning_category("x.__class__") is UserWarning
    # a fresh process finds it by its module and name, as pytest-xdist looks warnings up
    module = importlib.import_module(made.__module__)
    assert getattr(module, made.__name__) is made
    code = (f"import importlib; c = getattr(importlib.import_module({made.__module__!r}), "
            f"{made.__name__!r}); print(issubclass(c, UserWarning), c.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "OddWarning"]


class _GarbageTask(Task):
    """Reports what a fold process's garbage collector sees while the task runs."""

    def run(self) -> dict[str, Any]:
        import gc

        frozen = gc.get_freeze_count()
        cycle: list[Any] = []
        cycle.append(cycle)
        del cycle
        return {"status": "ok", "frozen": frozen, "collected": gc.collect()}


def test_a_fold_process_freezes_what_it_inherited_and_collects_its_own_garbage():
    import gc
    import socket
    import struct
    import threading

    ours, theirs = socket.socketpair()
    task_bytes, _ = dumps_task(_GarbageTask())
    try:
        server = threading.Thread(target=serve_task, args=(theirs,))
        server.start()
        send_shared(ours, b"", [])
        send_task(ours, task_bytes)
        (size,) = struct.unpack("<Q", recv_exact(ours, 8))
        answer = decode(recv_exact(ours, size))
        server.join()
    finally:
        gc.unfreeze()  # serve_task froze this test process's objects
        ours.close()
    assert answer["status"] == "ok"
    assert answer["frozen"] > 1000  # the inherited objects (here: pytest's) are left alone
    assert answer["collected"] >= 1  # the task's own cycle is still collected


def test_the_warm_up_of_a_primed_process_stops_when_its_task_comes():
    import fcntl
    import signal
    import socket
    import threading
    import time

    from rampconf.isolation import _until_readable

    ours, theirs = socket.socketpair()
    try:
        flags = fcntl.fcntl(theirs.fileno(), fcntl.F_GETFL)
        handler = signal.getsignal(signal.SIGIO)
        done = []

        def busy() -> None:  # pure Python work, as the warm-up's fit
            end = time.monotonic() + 20
            while time.monotonic() < end:
                sum(range(1000))
            done.append(True)

        threading.Timer(0.2, ours.sendall, args=(b"task",)).start()
        start = time.monotonic()
        _until_readable(theirs, busy)
        assert time.monotonic() - start < 5 and not done  # stopped, not finished
        assert theirs.recv(16) == b"task"  # the bytes are left for the task
        assert fcntl.fcntl(theirs.fileno(), fcntl.F_GETFL) == flags
        assert signal.getsignal(signal.SIGIO) == handler

        _until_readable(theirs, lambda: done.append(True))  # nothing comes: it runs whole
        assert done == [True]
    finally:
        ours.close()
        theirs.close()


def test_the_fork_server_forks_a_check_before_its_warm_up_and_every_fold_after_it(tmp_path):
    """A submission's check asked while the server preloads is forked before the warm-up
    (it waited ~50 ms for it); the warm-up runs once, before any fold is forked, even one
    asked at once after the check."""
    import json
    import os
    import socket

    from rampconf import forkserver

    log = tmp_path / "warm-up.txt"
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:  # the server, in a child of this test
        try:
            ours.close()
            server = forkserver.Server(theirs, None)
            forkserver.exercise_libraries = lambda: log.open("a").write(f"{len(server.folds)}\n")
            server.serve()
        finally:
            os._exit(0)
    theirs.close()
    folds = []

    def ask(message: dict[str, Any], fork: bool) -> None:
        fds = []
        if fork:
            folds.append(socket.socketpair())
            fds = [folds[-1][1].fileno()]
        socket.send_fds(ours, [json.dumps(message).encode()], fds)

    def started() -> int:
        while True:
            event = json.loads(ours.recv(65536))
            if event["event"] == "started":
                return event["id"]

    try:
        ask({"op": "preload", "modules": ["sklearn"]}, fork=False)
        check = {"op": "fork", "timeout": None, "memory": None, "warm": False}
        ask({**check, "id": 1}, fork=True)
        ask({"op": "fork", "id": 2, "timeout": None, "memory": None}, fork=True)  # a fold
        assert started() == 1
        assert started() == 2
        ask({**check, "id": 3}, fork=True)
        assert started() == 3
    finally:
        for pair in folds:
            for end in pair:
                end.close()
        ours.close()
        os.waitpid(pid, 0)
    assert log.read_text() == "1\n"  # once: after the check, before the fold
