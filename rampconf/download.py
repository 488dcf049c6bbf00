"""Downloading a data set's files: resume, progress, SHA-256 check, rename into place.

:func:`fetch_files` is what :meth:`rampconf.datasets.BaseDataset.download`
runs; a data set plugin only declares its files (names, base URL, SHA-256
hashes) and how to check their content. Each file is fetched into
``<file>.part``; an interrupted download keeps that part and the next run
resumes it with an HTTP ``Range`` request (from zero when the server ignores
the range). A complete part is checked (its SHA-256 when one is declared,
then the data set's content check) before ``os.replace`` gives it its final
name, so a final name never holds a truncated, corrupt or substituted file.

Why not ``pooch``: it downloads into a temporary file that is deleted when a
download fails, so an interrupted download always starts again from zero
(no ``Range`` requests), and its progress bar needs tqdm; resuming large
files is the point here. Its other job, checking hashes, is a few lines of
:mod:`hashlib`.
"""

from __future__ import annotations

import http.client
import os
import re
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rampconf.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["RemoteFile", "fetch_files"]

_CHUNK = 1 << 16
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


@dataclass(frozen=True)
class RemoteFile:
    """One file to download.

    Attributes
    ----------
    url : str
        Where to fetch it.
    path : pathlib.Path
        Its final name on disk (the download goes to ``<path>.part`` first).
    sha256 : str or None
        Expected SHA-256 (hex digest); None checks the content only.
    """

    url: str
    path: Path
    sha256: str | None = None


def _part(path: Path) -> Path:
    return path.with_name(path.name + ".part")


def _valid(file: RemoteFile, path: Path, check: Callable[[Path, Path], None] | None) -> None:
    """Raise ``DataError`` when ``path`` (the file or its part) is not ``file``'s content."""
    if file.sha256 is not None:
        from rampconf.outputs import file_sha256

        found = file_sha256(path)
        if found != file.sha256.lower():
            raise DataError(f"SHA-256 mismatch: expected {file.sha256.lower()}, got {found}")
    if check is not None:
        check(file.path, path)


def fetch_files(files: Sequence[RemoteFile], *, check: Callable[[Path, Path], None] | None = None,
                quiet: bool = False, rerun: str = "rerun the download",
                timeout: float = 60.0) -> list[Path]:
    """Download every file that is missing or invalid; return the final paths.

    Parameters
    ----------
    files
        The files, in the order they are fetched (and checked).
    check
        ``check(final_path, path_on_disk)`` raises ``DataError`` when the
        content is not valid (``path_on_disk`` may be the ``.part``).
    quiet
        No progress bar and no lines on standard error. A progress bar (bytes,
        speed, ETA) is shown on a terminal, one line per file otherwise.
    rerun
        The command that resumes, named in errors (``rampconf-data NAME download``).
    timeout
        Seconds without data after which a download fails (and can be resumed).

    Raises
    ------
    DataError
        On a network or HTTP error (naming the URL; rerunning resumes), a
        SHA-256 mismatch or a file that fails ``check`` (its part is deleted
        and nothing is renamed).
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    console = Console(stderr=True)
    show = not quiet and console.is_terminal
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
        TransferSpeedColumn(), TimeRemainingColumn(), console=console, disable=not show)
    with progress:
        for file in files:
            if file.path.is_file():
                try:
                    _valid(file, file.path, check)
                    continue
                except DataError:
                    pass  # present but invalid: download it again
            if not quiet and not show:
                print(f"downloading {file.url}", file=sys.stderr)
            part = _part(file.path)
            _Fetch(file.url, part, progress, file.path.name, rerun, timeout).run()
            try:
                _valid(file, part, check)
            except DataError as exc:
                part.unlink(missing_ok=True)
                raise DataError(
                    f"downloaded {file.url} but it is not a valid {file.path.name} ({exc}); "
                    "the partial file was deleted and nothing was renamed") from exc
            os.replace(part, file.path)
    return [file.path for file in files]


@dataclass
class _Fetch:
    """One download of ``url`` into ``part``, appending to what it holds when possible."""

    url: str
    part: Path
    progress: Any
    description: str
    rerun: str
    timeout: float

    def _open(self, start: int) -> http.client.HTTPResponse | None:
        """Open the URL from byte ``start``; None when the server says it is complete (416)."""
        headers = {"User-Agent": "rampconf-data"}
        if start:
            headers["Range"] = f"bytes={start}-"
        try:
            return urllib.request.urlopen(
                urllib.request.Request(self.url, headers=headers), timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 416 and start:
                return None
            if exc.code in (401, 403, 404, 410):
                advice = "no such file there: check the base URL (--base-url)"
            else:
                advice = f"rerun `{self.rerun}` to resume"
            raise DataError(
                f"download of {self.url} failed: HTTP {exc.code} {exc.reason}; {advice}"
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise DataError(f"download of {self.url} failed: cannot connect ({reason}); "
                            f"rerun `{self.rerun}` to resume") from exc

    def run(self) -> None:
        start = self.part.stat().st_size if self.part.is_file() else 0
        response = self._open(start)
        if response is None:
            return  # 416 Range Not Satisfiable: the partial file is already complete
        with response:
            offset, total = 0, None
            length = response.headers.get("Content-Length")
            if response.status == 206:
                match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
                if match and int(match.group(1)) == start:
                    offset = start
                    if match.group(3) != "*":
                        total = int(match.group(3))
                elif start:  # a range we did not ask for: start again from zero
                    response.close()
                    self.part.unlink(missing_ok=True)
                    self.run()
                    return
                else:
                    raise DataError(
                        f"download of {self.url} failed: the server sent a partial answer "
                        f"({response.headers.get('Content-Range')!r}) to a full request")
            expected = int(length) if length is not None and length.isdigit() else None
            if total is None and expected is not None:
                total = offset + expected
            self._receive(response, offset, total)

    def _receive(self, response: http.client.HTTPResponse, offset: int, total: int | None
                 ) -> None:
        task = self.progress.add_task(self.description, total=total, completed=offset)
        received = 0
        try:
            with open(self.part, "ab" if offset else "wb") as out:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    received += len(chunk)
                    self.progress.update(task, advance=len(chunk))
                out.flush()
                os.fsync(out.fileno())
        except (OSError, http.client.HTTPException) as exc:
            raise DataError(
                f"download of {self.url} was interrupted after {offset + received} bytes "
                f"({exc}); the partial file {self.part} is kept: rerun `{self.rerun}` "
                "to resume") from exc
        if total is not None and offset + received < total:
            raise DataError(
                f"download of {self.url} was interrupted: the connection closed after "
                f"{offset + received} of {total} bytes; the partial file {self.part} is "
                f"kept: rerun `{self.rerun}` to resume")
