"""Local plugins: a problem's own plugin classes in a Python file beside its YAML.

What YAML cannot say (a CV scheme, a score, a reader, ...) a problem folder
may hold as code, as a RAMP kit's ``problem.py`` does, without writing a
package::

    # conf/plugins.py
    import rampconf
    from rampconf.cv import BaseCV

    @rampconf.register("cv", "odd_even")
    class OddEven(BaseCV):
        '''Two folds: odd rows, then even rows.'''
        def split(self, X, y, groups=None): ...

The YAML then names it like a built-in plugin (``cv: {type: odd_even}``).

**Where.** Only in the working directory, the user's own: ``conf/plugins.py``,
``conf/rampconf_plugins.py`` or ``conf/rampconf_plugins/`` (a package, for
several files with relative imports), and ``rampconf_plugins.py`` or
``rampconf_plugins/`` beside ``conf/``. Never from the packaged
configuration, a data folder, or a path written in YAML: a problem, score,
workflow or CV file still cannot import anything.

**When.** Only when a run or the help needs them: when a configuration
names a plugin that no installed package registers, and when plugins are
listed (``--help``, ``--describe``, an unknown-name error). A run that names
built-in plugins only never executes the file.

**Checks.** A class is registered with the same decorator, base classes and
pydantic parameters (``Params``) as a built-in plugin, and is validated the
same way when built. Loading refuses a class that does not derive from its
kind's base class, leaves an abstract method unimplemented, or takes the
name of an installed plugin or of another local file's plugin (one line,
exit code 2, naming the file); so does a file that fails to import (with its
line).

**Record.** Each file is loaded as the module ``rampconf_local_<stem>_<hash>``
(the first 12 hex digits of its SHA-256); a run records the files of the
plugins it uses in ``metadata.json`` (``local_plugins``: path, module,
SHA-256, plugins by kind).

**Other processes.** A local plugin object pickles as its record, its class's
qualified name and its state (parameters as plain data): the receiving
process (a parallel fold worker, an isolated fold process) re-imports the
module from the recorded path, after checking that the file's SHA-256 is
still the recorded one (:func:`import_record`), then rebuilds the object.
Attributes of a local plugin that hold instances of other local classes are
not portable this way; keep a plugin's state to its parameters and plain data.

**Security.** A local plugin is the user's own code, trusted like the
problem's YAML: unlike a submission it runs in the main process (readers,
CV schemes, scores and prediction types run where the data and every label
are), with the user's rights. Run problem folders you wrote or reviewed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rampconf import registry
from rampconf.errors import ConfigError

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["PLUGIN_FILES", "LocalPluginFile", "find_plugin_files", "import_record",
           "load_local_plugins", "loaded_files", "origin", "records_for"]

#: Where local plugin files are looked for, relative to the working directory.
PLUGIN_FILES = ("conf/plugins.py", "conf/rampconf_plugins.py", "conf/rampconf_plugins",
                "rampconf_plugins.py", "rampconf_plugins")


@dataclass(frozen=True)
class LocalPluginFile:
    """A loaded local plugin file (or package) and what it registered."""

    path: Path  # the file, or the package folder
    module: str
    sha256: str
    plugins: dict[str, list[str]] = field(default_factory=dict)  # kind -> names

    def record(self) -> dict[str, Any]:
        """What a run directory records, and what :func:`import_record` needs."""
        return {"path": str(self.path), "module": self.module, "sha256": self.sha256,
                "plugins": {kind: list(names) for kind, names in self.plugins.items()}}


_loaded: dict[Path, LocalPluginFile] = {}
_classes: dict[type, LocalPluginFile] = {}
_loading: list[Path] = []
_failed: dict[tuple[Path, str], ConfigError] = {}  # (file, sha256) -> its error, not rerun


def _sources(path: Path) -> list[Path]:
    """The Python files of a plugin file or package, in a stable order."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)
    return [path]


def file_hash(path: Path) -> str:
    """SHA-256 of a plugin file, or of a package's files (their relative names and bytes)."""
    digest = hashlib.sha256()
    if not path.is_dir():
        digest.update(path.read_bytes())
        return digest.hexdigest()
    for source in _sources(path):
        digest.update(str(source.relative_to(path)).encode() + b"\0")
        digest.update(source.read_bytes() + b"\0")
    return digest.hexdigest()


def find_plugin_files(root: Path | None = None) -> list[Path]:
    """The local plugin files and packages of ``root`` (the working directory), resolved.

    A ``conf/`` that is the packaged configuration (a checkout's) is not the user's.
    """
    from rampconf.resources import packaged_conf_dir

    root = Path.cwd() if root is None else root
    packaged = packaged_conf_dir().resolve()
    found = []
    for name in PLUGIN_FILES:
        path = root / name
        if name.startswith("conf/") and (root / "conf").resolve() == packaged:
            continue
        if (path.is_dir() and (path / "__init__.py").is_file()) or \
                (path.suffix == ".py" and path.is_file()):
            found.append(path.resolve())
    return found


def _bases() -> dict[str, type]:
    from rampconf.cv import BaseCV
    from rampconf.datasets import BaseDataset
    from rampconf.predictions import BasePrediction
    from rampconf.readers import BaseReader
    from rampconf.scores import BaseScore
    from rampconf.workflows import BaseWorkflow

    return {"reader": BaseReader, "prediction": BasePrediction, "score": BaseScore,
            "cv": BaseCV, "workflow": BaseWorkflow, "dataset": BaseDataset}


def _error_line(path: Path, exc: BaseException) -> str:
    """``FILE, line N: Type: message`` of an exception raised while importing ``path``."""
    if isinstance(exc, SyntaxError) and exc.lineno is not None:
        return f"{exc.filename or path}, line {exc.lineno}: SyntaxError: {exc.msg}"
    inside = [frame for frame in traceback.extract_tb(exc.__traceback__)
              if Path(frame.filename).resolve().is_relative_to(path)]
    where = f"{inside[-1].filename}, line {inside[-1].lineno}" if inside else str(path)
    return f"{where}: {type(exc).__name__}: {exc}"


def _exec(path: Path, module_name: str) -> ModuleType:
    init = path / "__init__.py" if path.is_dir() else path
    spec = importlib.util.spec_from_file_location(
        module_name, init, submodule_search_locations=[str(path)] if path.is_dir() else None)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        for name in [n for n in sys.modules if n == module_name or
                     n.startswith(module_name + ".")]:
            del sys.modules[name]
        raise
    return module


def _check_registered(path: Path, kind: str, name: str, cls: Any,
                      before: dict[str, type]) -> None:
    """Refuse a registration of ``path`` that a built-in plugin could not make either."""
    where = f"{path}: {kind} {name!r}"
    installed = registry._entry_points(kind)
    if name in installed:
        raise ConfigError(f"{where} is the name of an installed plugin ({installed[name].value}); "
                          "a local plugin needs a name of its own")
    if name in before:
        other = _classes.get(before[name])
        by = f"by {other.path}" if other is not None else "at run time"
        raise ConfigError(f"{where} is registered already ({by}); each plugin needs its own name")
    base = _bases()[kind]
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigError(f"{where}: {getattr(cls, '__qualname__', cls)!r} must derive from "
                          f"{base.__module__}.{base.__qualname__}")
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
        raise ConfigError(f"{where}: {cls.__qualname__} does not implement {missing}, which "
                          f"{base.__qualname__} requires")


def _load(path: Path, sha256: str | None = None) -> LocalPluginFile:
    """Import one plugin file as a module named after its hash; check what it registered."""
    digest = file_hash(path)
    if sha256 is not None and digest != sha256:
        raise ConfigError(f"{path}: the local plugin file changed since the run recorded it "
                          f"(sha256 {sha256[:12]}..., now {digest[:12]}...)")
    from rampconf.plugin import LOCAL_MODULE_PREFIX  # pydantic: only when a file is loaded

    stem = path.stem if not path.is_dir() else path.name
    module_name = f"{LOCAL_MODULE_PREFIX}{stem}_{digest[:12]}"
    before = {kind: dict(registry._runtime[kind]) for kind in registry.KINDS}
    _loading.append(path)
    try:
        _exec(path, module_name)
        added: dict[str, list[str]] = {}
        for kind in registry.KINDS:
            for name, cls in registry._runtime[kind].items():
                if before[kind].get(name) is not cls:
                    _check_registered(path, kind, name, cls, before[kind])
                    added.setdefault(kind, []).append(name)
    except BaseException as exc:
        for kind in registry.KINDS:  # leave the registry as it was
            registry._runtime[kind].clear()
            registry._runtime[kind].update(before[kind])
        for name in [n for n in sys.modules if n.startswith(module_name)]:
            del sys.modules[name]
        if isinstance(exc, ConfigError):
            raise
        if not isinstance(exc, Exception):
            raise
        raise ConfigError(f"local plugin file {_error_line(path, exc)}") from None
    finally:
        _loading.remove(path)
    loaded = LocalPluginFile(path, module_name, digest, added)
    for kind, names in added.items():
        for name in names:
            _classes[registry._runtime[kind][name]] = loaded
    return loaded


def load_local_plugins(root: Path | None = None) -> list[LocalPluginFile]:
    """Load the local plugin files of ``root`` (the working directory) not loaded yet.

    Returns the files loaded by this call. The registry calls it when a name
    is not registered and before it lists plugins.

    Raises
    ------
    ConfigError
        A file that fails to import or registers a plugin a built-in could not
        (see the module docstring); nothing of that file stays registered.
    """
    new = []
    for path in find_plugin_files(root):
        if path in _loaded or path in _loading:
            continue
        key = (path, file_hash(path))
        if key in _failed:
            raise _failed[key]
        try:
            _loaded[path] = _load(path)
        except ConfigError as exc:
            _failed[key] = exc
            raise
        new.append(_loaded[path])
    return new


def loaded_files() -> list[LocalPluginFile]:
    """Every local plugin file loaded in this process."""
    return list(_loaded.values())


def origin(cls: type) -> LocalPluginFile | None:
    """The local plugin file that registered ``cls`` (None for any other class)."""
    return _classes.get(cls)


def records_for(plugins: list[Any]) -> list[dict[str, Any]]:
    """The records of the local plugin files the objects ``plugins`` come from, once each."""
    files = {id(f): f for f in (origin(type(p)) for p in plugins) if f is not None}
    return [f.record() for f in files.values()]


def import_record(record: dict[str, Any]) -> None:
    """Make the module of a recorded local plugin file importable in this process.

    Loads the file from its recorded path under its recorded module name (its
    classes register here too), unless that module is loaded already.

    Raises
    ------
    ConfigError
        The file is gone or its SHA-256 is no longer the recorded one.
    """
    if record["module"] in sys.modules:
        return
    path = Path(record["path"])
    if not path.exists():
        raise ConfigError(f"{path}: the local plugin file recorded by the run is gone")
    loaded = _load(path, sha256=record["sha256"])
    _loaded.setdefault(path, loaded)


def reduce_local(plugin: Any) -> tuple[Any, tuple[Any, ...]]:
    """``pickle``'s reduction of a local plugin object (see :meth:`Plugin.__reduce_ex__`)."""
    cls = type(plugin)
    top = cls.__module__.split(".")[0]
    loaded = next((f for f in _loaded.values() if f.module == top), None)
    if loaded is None:
        raise TypeError(f"{cls.__qualname__} comes from {cls.__module__}, which is no loaded "
                        "local plugin file")
    state = dict(plugin.__dict__)
    state["_params"] = plugin.params.model_dump(mode="python")
    return _rebuild, (loaded.record(), cls.__module__, cls.__qualname__, state)


def _rebuild(record: dict[str, Any], module: str, qualname: str, state: dict[str, Any]) -> Any:
    import_record(record)
    if module not in sys.modules:
        importlib.import_module(module)
    cls: Any = sys.modules[module]
    for part in qualname.split("."):
        cls = getattr(cls, part)
    plugin = cls.__new__(cls)
    params = cls.Params.model_validate(state.pop("_params"))
    plugin.__dict__.update(state)
    plugin._params = params
    return plugin
