"""One registry: plugin kind -> name -> class, discovered through entry points.

Built-in plugins are declared in ``pyproject.toml`` under the entry-point groups
below, exactly as a third-party package declares its own, so the engine never
imports a plugin by name. :func:`register` adds a class at run time (tests,
notebooks, and a problem's local plugin files: :mod:`rampconf.local_plugins`,
loaded when a name is not found and before plugins are listed).
"""

from __future__ import annotations

import difflib
import functools
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, TypeVar

from rampconf.errors import RegistryError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["ENTRY_POINT_GROUPS", "KINDS", "available", "closest", "get", "register"]

#: Plugin kind -> entry-point group that lists plugins of that kind.
ENTRY_POINT_GROUPS: dict[str, str] = {
    "reader": "rampconf.readers",
    "prediction": "rampconf.predictions",
    "score": "rampconf.scores",
    "cv": "rampconf.cv",
    "workflow": "rampconf.workflows",
    "dataset": "rampconf.datasets",
}
KINDS = tuple(ENTRY_POINT_GROUPS)

_runtime: dict[str, dict[str, type]] = {kind: {} for kind in KINDS}
_loaded: dict[tuple[str, str], type] = {}

T = TypeVar("T", bound=type)


def _check_kind(kind: str) -> None:
    if kind not in ENTRY_POINT_GROUPS:
        raise ValueError(f"unknown plugin kind {kind!r}; kinds are {', '.join(KINDS)}")


def _entry_points(kind: str) -> dict[str, Any]:
    return _all_entry_points()[kind]


@functools.cache
def _all_entry_points() -> dict[str, dict[str, Any]]:
    # Reading the entry points of every installed distribution costs 10-20 ms with a few
    # hundred of them: once per process for all kinds, not once per kind.
    every = entry_points()
    return {kind: {ep.name: ep for ep in every.select(group=group)}
            for kind, group in ENTRY_POINT_GROUPS.items()}


def register(kind: str, name: str) -> Callable[[T], T]:
    """Register a plugin class under ``name`` at run time (decorator).

    ``@rampconf.register("cv", "odd_even")`` above a class registers it as the
    CV scheme ``odd_even``. A run-time registration shadows an entry point of
    the same name (a local plugin file may not: see :mod:`rampconf.local_plugins`).
    """
    _check_kind(kind)

    def decorator(cls: T) -> T:
        _runtime[kind][name] = cls
        return cls

    return decorator


def _load_local() -> bool:
    """Load the working directory's local plugin files not loaded yet; True if any was."""
    from rampconf.local_plugins import load_local_plugins

    return bool(load_local_plugins())


def available(kind: str) -> list[str]:
    """Sorted names of the registered plugins of one kind, without importing them.

    The working directory's local plugin files are loaded first (their names are listed).
    """
    _check_kind(kind)
    _load_local()
    return sorted(set(_entry_points(kind)) | set(_runtime[kind]))


def closest(name: str, choices: list[str]) -> str | None:
    """The closest name among ``choices`` (difflib), or None when nothing is close."""
    lowered = {choice.lower(): choice for choice in choices}
    matches = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[matches[0]] if matches else None


def unknown_name_message(kind: str, name: object, choices: list[str]) -> str:
    """One-line message for an unknown name: what was given, the closest match, the valid names."""
    hint = closest(str(name), choices)
    did_you_mean = f"did you mean {hint!r}? " if hint else ""
    return f"unknown {kind} {name!r}; {did_you_mean}valid names: {', '.join(choices)}"


def get(kind: str, name: str) -> type:
    """The plugin class registered as ``name`` for ``kind``.

    Raises
    ------
    RegistryError
        When no plugin of that kind has that name; the message lists the valid
        names and the closest match.
    """
    _check_kind(kind)
    if name in _runtime[kind]:
        return _runtime[kind][name]
    if (kind, name) in _loaded:
        return _loaded[(kind, name)]
    eps = _entry_points(kind)
    if name not in eps:
        if _load_local() and name in _runtime[kind]:  # a local plugin's name
            return _runtime[kind][name]
        raise RegistryError(unknown_name_message(kind, name, available(kind)))
    cls = eps[name].load()
    _loaded[(kind, name)] = cls
    return cls
