"""Data sets a problem can fetch or generate: ``rampconf-data NAME download|generate|check``.

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
import inspect
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

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

    The options of ``rampconf-data NAME ACTION`` are the keyword arguments of
    the action's method (``--n-train`` is ``n_train``, a ``bool`` is a
    flag): a data set declares an option by taking it (``check(self, *,
    mini=False)``), and the other data sets refuse it in one line.

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


#: Help of the options of the actions; an option is a keyword argument of the action's
#: method (``download``, ``generate``, ``check``), so each data set has its own
#: (``--data-root`` and ``--quiet`` are understood by all).
OPTION_HELP = {
    "base_url": "download from this URL instead of the data set's",
    "quiet": "no progress bar",
    "n_train": "training samples to generate",
    "n_test": "test samples to generate",
    "seed": "random seed of the generated set",
    "mini": "the small public variant's files",
    "size": "image size in pixels",
    "names": "which file names to write",
}
#: Defaults of required arguments of ``generate``.
CLI_DEFAULTS = {"n_train": 300, "n_test": 100}
ACTIONS = ("download", "generate", "check")


class _ArgumentError(Exception):
    """A command-line error of ``rampconf-data``, printed as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _ArgumentError(message)


def action_options(cls: type[BaseDataset], action: str) -> dict[str, inspect.Parameter]:
    """The options of ``rampconf-data NAME ACTION``: the keyword arguments of the method.

    A data set declares an option by taking it: ``check(self, *, mini=False)``
    gives ``--mini`` to that data set's ``check`` and to no other.
    """
    signature = inspect.signature(getattr(cls, action))
    return {name: param for name, param in list(signature.parameters.items())[1:]
            if param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _action_parser(name: str, action: str, options: dict[str, inspect.Parameter]
                   ) -> argparse.ArgumentParser:
    parser = _Parser(prog=f"rampconf-data {name} {action}", allow_abbrev=False,
                     description=f"{action} the data set {name}; options are those this data "
                                 "set takes for this action")
    parser.add_argument("--data-root", default=None,
                        help="data root (default: $RAMPCONF_DATA_ROOT or ./data)")
    if "quiet" not in options:  # every action is quiet when asked; only some show progress
        parser.add_argument("--quiet", action="store_true", help=OPTION_HELP["quiet"])
    for option, param in options.items():
        default = CLI_DEFAULTS.get(option, param.default)
        help_text = f"{OPTION_HELP.get(option, option.replace('_', ' '))} (default: {default})"
        if isinstance(default, bool):
            parser.add_argument(_flag(option), dest=option, action="store_true",
                                help=OPTION_HELP.get(option))
        elif default is inspect.Parameter.empty or default is None:
            parser.add_argument(_flag(option), dest=option, default=None, help=help_text)
        else:
            parser.add_argument(_flag(option), dest=option, type=type(default),
                                default=default, help=help_text)
    return parser


def parse_arguments(argv: list[str]) -> tuple[str, str, Path, dict[str, Any]]:
    """``(data set, action, data root, keyword arguments of the action)`` of a command line.

    Raises
    ------
    ConfigError
        An unknown data set or action, or an option that this data set's
        action does not take (with the closest and the valid ones).
    SystemExit
        ``--help`` (printed), or no arguments (the usage is printed).
    """
    import os

    datasets = registry.available("dataset")
    top = _Parser(
        prog="rampconf-data", usage="rampconf-data NAME ACTION [options]",
        description="Download, generate or check the data of a problem.",
        epilog=f"data sets: {', '.join(datasets) or 'none'}; the options of an action: "
               "rampconf-data NAME ACTION --help")
    top.add_argument("dataset", help="name of the data set")
    top.add_argument("action", choices=ACTIONS)
    try:
        if len(argv) < 2 or any(arg.startswith("-") for arg in argv[:2]):
            top.parse_args(argv)  # --help prints and exits; anything else is an error
            raise _ArgumentError("the data set and the action come first")
    except _ArgumentError as exc:
        raise ConfigError(f"rampconf-data: {exc}; usage: rampconf-data NAME ACTION [options] "
                          f"(data sets: {', '.join(datasets)}; actions: {', '.join(ACTIONS)})"
                          ) from None
    name, action, rest = argv[0], argv[1], argv[2:]
    if action not in ACTIONS:
        raise ConfigError(f"rampconf-data {name}: " + registry.unknown_name_message(
            "action", action, list(ACTIONS)))
    cls = registry.get("dataset", name)
    options = action_options(cls, action)
    parser = _action_parser(name, action, options)
    valid = ["--data-root", *map(_flag, options), *(["--quiet"] if "quiet" not in options else [])]
    try:
        args, unknown = parser.parse_known_args(rest)
        if unknown:
            given = unknown[0].split("=", 1)[0]
            if not given.startswith("-"):
                raise _ArgumentError(f"unexpected argument {given!r}")
            raise _ArgumentError(registry.unknown_name_message("option", given, valid).replace(
                "valid names", f"options of {name} {action}"))
    except _ArgumentError as exc:
        raise ConfigError(f"rampconf-data {name} {action}: {exc}") from None
    values = vars(args)
    root = Path(values.pop("data_root") or os.environ.get("RAMPCONF_DATA_ROOT", "data"))
    return name, action, root, {k: v for k, v in values.items()
                                if v is not None and k in options}


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``rampconf-data``."""
    from rampconf.errors import RampconfError

    try:
        name, action, root, options = parse_arguments(sys.argv[1:] if argv is None else argv)
        cls: type[BaseDataset] = registry.get("dataset", name)
        if cls.requires is not None:
            cls.requires.check(f"the data set {name!r}")
        dataset = cls(root)
        paths = getattr(dataset, action)(**options)
        if action == "check":
            paths = [dataset.path / file for file in dataset.files]
    except RampconfError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
