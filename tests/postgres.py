"""A real PostgreSQL server on loopback for the tests and the storage benchmark.

The server binaries are the Debian ``postgresql`` package's (``.ci/run``
installs it when missing): ``initdb`` makes a fresh cluster in a temporary
folder, ``pg_ctl`` starts it on 127.0.0.1 at a free port with ``trust``
authentication (loopback only, nothing else can connect), and ``createdb``
makes each database. ``initdb`` refuses to run as root, so as root every
server command runs as the ``postgres`` user (``runuser``), which owns the
folder. The session fixture ``postgres`` (``tests/conftest.py``) starts one
server for the whole test session and stops it at the end.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PostgresServer", "find_bindir"]


def find_bindir() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``: ``$PG_BINDIR``, the newest Debian cluster, PATH."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                         key=lambda p: int(Path(p).parent.name), reverse=True)
    found = shutil.which("initdb")
    candidates.append(str(Path(found).parent) if found else "")
    for folder in candidates:
        if folder and (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) not found: install the "
                            "Debian package (apt-get install postgresql) or set PG_BINDIR")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder, listening on 127.0.0.1.

    ``durable=False`` (the tests) turns off ``fsync`` and synchronous commits:
    faster, and a crash of the machine may lose the last transactions, which
    a throw-away test database does not mind. The benchmark keeps the defaults.
    """

    def __init__(self, durable: bool = False) -> None:
        self.bindir = find_bindir()
        self.durable = durable
        self.port = 0
        self.root = Path(tempfile.mkdtemp(prefix="rampconf-pg-"))
        self.data = self.root / "data"
        self.user = "postgres"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "postgres", "postgres")
        else:
            import getpass

            self.user = getpass.getuser()

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        full = [str(self.bindir / command[0]), *command[1:]]
        if self._as_postgres:
            full = ["runuser", "-u", "postgres", "--", *full]
        proc = subprocess.run(full, capture_output=True, text=True, check=False, cwd=self.root,
                              timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(full)} failed ({proc.returncode}): "
                               f"{proc.stdout}{proc.stderr}")
        return proc

    def start(self) -> PostgresServer:
        """Make the cluster and start the server (waits until it accepts connections)."""
        self._run("initdb", "-D", str(self.data), "-U", self.user, "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        options = [f"-c listen_addresses=127.0.0.1 -k {self.root} -c max_connections=200"]
        if not self.durable:
            options.append("-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        for _ in range(5):  # a free port may be taken between the check and the start
            self.port = _free_port()
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                          "-w", "-t", "60", "-o", f"-p {self.port} {' '.join(options)}", "start")
                return self
            except RuntimeError:
                if "could not bind" not in self.log():
                    raise
        raise RuntimeError(f"PostgreSQL did not start: {self.log()}")

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def create_database(self, name: str) -> str:
        """Create database ``name``; its SQLAlchemy URL (psycopg 3 driver)."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name)
        return self.url(name)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stop the server at once and delete its folder."""
        if self.data.exists():
            with contextlib.suppress(RuntimeError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
