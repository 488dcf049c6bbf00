"""Data sets a problem can fetch or generate: ``rampconf-data NAME download|generate``.

A data set plugin (entry-point group ``rampconf.datasets``) declares the files
of a problem's data, where they are downloaded from and their SHA-256 hashes,
and how to check their content; :meth:`BaseDataset.download` fetches them
with progress, resume, hash verification and atomic renames
(:mod:`rampconf.download`). Where it makes sense, a data set also generates a
synthetic set in the same format for offline demos and tests. A problem names
its data set with the key ``dataset``; when its data files are missing, the
error says which command fetches them.
"""

from __future__ import annotations

import abc
import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rampconf import registry
from rampconf.errors import ConfigError, DataError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from rampconf.extras import Extra

__all__ = ["BaseDataset", "main"]


class BaseDataset(abc.ABC):
    """Base class of data set plugins.

    Lifecycle: built with the data root (nothing is read or written then).
    ``rampconf-data NAME ACTION`` then calls one method once: :meth:`download`
    or :meth:`generate` (which write every file under ``<data_root>/<folder>/``
    and end by checking them) or :meth:`check` (which verifies files already
    on disk). When a problem that names the data set misses its data files,
    :meth:`how_to_get` gives the sentence the error ends with. Subclasses
    implement :meth:`check` and at least one of :meth:`download` and
    :meth:`generate`; the other says that the data set cannot do it.

    Class attributes
    ----------------
    folder : str
        Folder under the data root (the problem's data paths start with it).
    files : tuple of str
        File names that make up the data set.
    default_base_url : str or None
        Where :meth:`download` fetches ``<base_url>/<file>`` by default.
    sha256 : mapping of str to str
        SHA-256 (hex digest) of downloadable files, by file name. A download
        whose hash differs is rejected (and not kept under its name); a file
        without a hash is checked by :meth:`verify_file` alone.
    requires : Extra or None
        The extra whose modules ``generate`` or ``download`` import, checked
        by ``rampconf-data`` first.
    timeout : float
        Seconds without data after which a download fails (and can be resumed).
    """

    folder: ClassVar[str] = ""
    files: ClassVar[tuple[str, ...]] = ()
    default_base_url: ClassVar[str | None] = None
    sha256: ClassVar[Mapping[str, str]] = {}
    requires: ClassVar[Extra | None] = None
    timeout: ClassVar[float] = 60.0

    def __init__(self, data_root: Path) -> None:
        self.data_root = Path(data_root)

    @property
    def path(self) -> Path:
        """The data set's folder."""
        return self.data_root / self.folder

    def download(self, base_url: str | None = None, quiet: bool = False) -> list[Path]:
        """Fetch every file (resuming partial downloads), check them, return their paths.

        The default fetches :attr:`files` with :meth:`fetch`.
        """
        return self.fetch(self.files, base_url, quiet)

    def fetch(self, names: Sequence[str], base_url: str | None = None, quiet: bool = False,
              *, rerun: str | None = None) -> list[Path]:
        """Fetch the files ``names`` from ``<base_url>/<name>``; return their paths.

        A file already present is kept when it passes its checks. Each
        download goes to ``<name>.part``, resumed on the next run after an
        interruption; it is renamed into place only after its SHA-256 (from
        :attr:`sha256`) and :meth:`verify_file` accept it.

        ``rerun`` is the command that resumes, named in errors (default
        ``rampconf-data NAME download``).

        Raises
        ------
        DataError
            No base URL, a network or HTTP error (naming the URL), a SHA-256
            mismatch or a file that fails :meth:`verify_file`.
        """
        from rampconf.download import RemoteFile, fetch_files

        name = registry_name(type(self))
        base = (base_url or self.default_base_url or "").rstrip("/")
        if not base:
            raise DataError(f"no base URL to download {name} from; pass --base-url")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"cannot create the data folder {self.path}: {exc}") from exc
        files = [RemoteFile(f"{base}/{file}", self.path / file, self.sha256.get(file))
                 for file in names]
        return fetch_files(files, check=lambda path, on_disk: self.verify_file(path.name, on_disk),
                           quiet=quiet, rerun=rerun or f"rampconf-data {name} download",
                           timeout=self.timeout)

    def verify_file(self, name: str, path: Path) -> None:  # noqa: B027 (an optional hook)
        """Raise ``DataError`` when ``path`` does not hold a valid file ``name``.

        Called on each downloaded file (``path`` is then its ``.part``) and on
        files already present. Default: nothing to check.
        """

    def generate(self, n_train: int, n_test: int, seed: int = 0) -> list[Path]:
        """Write a seeded synthetic data set in the same format; return the paths.

        Raises
        ------
        ConfigError
            When the data set has no synthetic generator (the default).
        """
        raise ConfigError(f"data set {registry_name(type(self))!r} has no synthetic "
                          "generator; download it instead (action download)")

    @abc.abstractmethod
    def check(self) -> None:
        """Raise ``DataError`` when a file is missing or does not load as expected."""

    def how_to_get(self, problem: str) -> str:
        """One sentence telling how to get the files of ``problem``, for missing-data errors."""
        name = registry_name(type(self))
        return (f"to get data: rampconf-data {name} download --data-root {self.data_root} "
                f"(the public files), or rampconf-data {name} generate --data-root "
                f"{self.data_root} (a synthetic set)")


def registry_name(cls: type) -> str:
    """The name under which a data set class is registered (its class name otherwise)."""
    for name in registry.available("dataset"):
        if registry.get("dataset", name) is cls:
            return name
    return cls.__name__


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``rampconf-data``."""
    from rampconf.errors import RampconfError

    parser = argparse.ArgumentParser(
        prog="rampconf-data",
        description="Download or generate the data of a problem.",
        epilog=f"data sets: {', '.join(registry.available('dataset')) or 'none'}")
    parser.add_argument("dataset", help="name of the data set")
    parser.add_argument("action", choices=["download", "generate", "check"])
    parser.add_argument("--data-root", default=None,
                        help="data root (default: $RAMPCONF_DATA_ROOT or ./data)")
    parser.add_argument("--base-url", default=None, help="download from this URL instead")
    parser.add_argument("--n-train", type=int, default=300, help="generate: training images")
    parser.add_argument("--n-test", type=int, default=100, help="generate: test images")
    parser.add_argument("--seed", type=int, default=0, help="generate: random seed")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--mini", action="store_true",
                        help="download / check the small public variant's files (if any)")
    args = parser.parse_args(argv)
    import os

    root = Path(args.data_root or os.environ.get("RAMPCONF_DATA_ROOT", "data"))
    try:
        cls = registry.get("dataset", args.dataset)
        extra = getattr(cls, "requires", None)
        if extra is not None:
            extra.check(f"the data set {args.dataset!r}")
        dataset = cls(root)
        variant = {"mini": True} if args.mini else {}
        if args.action == "download":
            paths = dataset.download(args.base_url, quiet=args.quiet, **variant)
        elif args.action == "generate":
            paths = dataset.generate(args.n_train, args.n_test, args.seed)
        else:
            dataset.check(**variant)
            paths = [dataset.path / name for name in dataset.files]
    except RampconfError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
