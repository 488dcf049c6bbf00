"""Watch the garbage collections of the processes a command starts (a ``sitecustomize``)."""

from __future__ import annotations

from pathlib import Path

HOOK = '''
import atexit, gc, os

_full = []  # the freeze count at each full collection of this process


def _watch(phase, info):
    if phase == "start" and info["generation"] == 2:
        _full.append(gc.get_freeze_count())


def _report():
    with open(os.environ["GC_WATCH"], "a") as out:
        out.write(f"{os.getpid()} {int(gc.isenabled())} {gc.get_freeze_count()} "
                  f"{' '.join(map(str, _full))}\\n")


gc.callbacks.append(_watch)
atexit.register(_report)
'''


class GarbageWatch:
    """``env`` makes every Python process of a command record, when it exits normally,
    whether collection is on, how many objects are frozen and the freeze count at each
    of its full collections."""

    def __init__(self, folder: Path) -> None:
        hooks = folder / "gc-hooks"
        hooks.mkdir()
        (hooks / "sitecustomize.py").write_text(HOOK)
        self.report = folder / "gc-watch.txt"
        self.env = {"PYTHONPATH": str(hooks), "GC_WATCH": str(self.report)}

    def assert_frozen_before_full_collections(self, pid: int) -> None:
        """Process ``pid`` ended with collection on, its imports frozen (pandas,
        scikit-learn, pydantic...), and no full collection walked them before."""
        lines = {int(line.split()[0]): line.split()[1:]
                 for line in self.report.read_text().splitlines()}
        enabled, frozen, *full = lines[pid]
        assert enabled == "1"
        assert int(frozen) > 50_000
        assert all(int(count) > 0 for count in full), full
