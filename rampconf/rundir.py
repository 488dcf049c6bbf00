"""Run directories that never collide: each run claims its own, atomically.

Two runs started in the same second get the same directory from Hydra's
pattern (``outputs/<problem>/<submission>/<time>``), and a fixed
``hydra.run.dir`` or API ``output_dir`` names the same folder every time. A
run claims a directory by creating the file ``.rampconf-run`` in it with
``O_EXCL`` (atomic, also on NFS): a directory that holds anything already,
or that another run claims first, is passed over for ``<dir>_1``, ``<dir>_2``...
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

__all__ = ["MARKER", "ClaimRunDir", "claim_run_dir"]

MARKER = ".rampconf-run"


def claim_run_dir(folder: Path) -> Path:
    """Claim ``folder``, or the first free ``folder_N``; returns the one claimed.

    Raises
    ------
    OSError
        When the folder cannot be created (not writable, a file in the way, ...).
    """
    candidate, n = folder, 0
    while True:
        candidate.mkdir(parents=True, exist_ok=True)
        if next(os.scandir(candidate), None) is None:
            try:
                fd = os.open(candidate / MARKER, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(f"{socket.gethostname()}:{os.getpid()}\n")
                return candidate
        n += 1
        candidate = folder.with_name(f"{folder.name}_{n}")


try:
    from hydra.experimental.callback import Callback
except ImportError:  # pragma: no cover - Hydra is a dependency
    Callback = object  # type: ignore[assignment,misc]


class ClaimRunDir(Callback):
    """Hydra callback (``hydra.callbacks.run_dir`` in ``conf/config.yaml``): a single run's
    ``hydra.run.dir`` becomes the directory it claims, before Hydra writes into it."""

    def on_run_start(self, config: Any, **kwargs: Any) -> None:
        from hydra.core.hydra_config import HydraConfig
        from omegaconf import open_dict, read_write

        from rampconf.errors import ErrorExit, OutputError

        HydraConfig.instance().set_config(config)  # the pattern may use ${hydra:...}
        wanted = Path(str(config.hydra.run.dir)).expanduser().absolute()
        try:
            claimed = claim_run_dir(wanted)
        except OSError as exc:
            raise ErrorExit(OutputError(f"{wanted}: cannot create the run directory: "
                                    f"{exc.strerror or exc}")) from None
        with read_write(config.hydra), open_dict(config.hydra):
            config.hydra.run.dir = str(claimed)
