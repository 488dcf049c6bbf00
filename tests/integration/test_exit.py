"""How a command ends: its exit handlers and streams, without the interpreter's teardown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rampconf.cli import _exit_status
from tests.conftest import cli_env

#: A ``sitecustomize`` that writes "<pid> atexit" from an exit handler and "<pid> teardown"
#: when the interpreter destroys its module (what a normal exit does last).
HOOK = '''
import atexit, os


def _write(word, path=os.environ["EXIT_WATCH"], getpid=os.getpid, open=open):
    with open(path, "a") as out:
        out.write(f"{getpid()} {word}\\n")


class _Teardown:
    def __del__(self, write=_write):
        write("teardown")


_marker = _Teardown()
atexit.register(_write, "atexit")
'''


def _watched(tmp_path: Path, *command: str) -> tuple[subprocess.CompletedProcess[str], str]:
    hooks = tmp_path / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "sitecustomize.py").write_text(HOOK)
    watch = tmp_path / "exit-watch.txt"
    watch.unlink(missing_ok=True)
    env = {**cli_env(), "PYTHONPATH": str(hooks), "EXIT_WATCH": str(watch)}
    proc = subprocess.Popen([sys.executable, *command], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=120)
    lines = watch.read_text().splitlines() if watch.exists() else []
    # only the command's own process: a runner it forked is killed when it ends
    mine = " ".join(line.split()[1] for line in lines if line.split()[0] == str(proc.pid))
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), mine


def test_a_plain_interpreter_tears_down_after_its_exit_handlers(tmp_path):
    # the watch itself: a normal exit runs the handlers, then destroys the modules
    _, events = _watched(tmp_path, "-c", "pass")
    assert events == "atexit teardown"


def test_a_config_error_ends_after_the_exit_handlers_without_teardown(tmp_path):
    proc, events = _watched(tmp_path, "-m", "rampconf", "n_jobs=abc")
    assert proc.returncode == 2
    assert proc.stderr.startswith("config error: n_jobs: input should be a valid integer")
    assert events == "atexit"


def test_help_is_whole_on_a_pipe_and_ends_without_teardown(tmp_path):
    proc, events = _watched(tmp_path, "-m", "rampconf", "--help")
    assert proc.returncode == 0, proc.stderr
    # the buffered text is flushed before the process ends
    assert proc.stdout.rstrip().endswith("(scores.csv, summary.json, predictions/...).")
    assert events == "atexit"


@pytest.mark.parametrize(("code", "status", "printed"), [
    (None, 0, ""), (0, 0, ""), (2, 2, ""), (130, 130, ""), ("no such thing", 1, "no such thing\n"),
])
def test_exit_status_is_what_sys_exit_gives(code, status, printed, capsys):
    assert _exit_status(code) == status
    assert capsys.readouterr().err == printed
