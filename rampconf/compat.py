"""Compatibility modes: one run option that selects every ramp-workflow-compatible behaviour.

A run's ``compat`` option (``compat=ramp`` on the command line, ``compat:`` in
``conf/config.yaml``) selects, at once, every behaviour that reproduces
ramp-workflow 0.7.0's numbers where rampconf's own default differs. The
engine knows none of these behaviours: a plugin declares, on each parameter
concerned, its default under a mode with :func:`compat_default`::

    iou_formula: IoUFormula = Field(
        "exact", description="...", json_schema_extra=compat_default(ramp="ramp"))

While a run's plugins are built (inside :func:`compat_mode`), a parameter the
configuration does not set, or sets to null, takes the mode's default (the
conf options write such a parameter as ``null``, so that the command line can
set it without ``+``); a value set in a problem or on the command line wins.
Plugins that build other plugins (the parts of a combined prediction or
score) build them in the same mode. ``python -m rampconf --describe`` shows
these defaults (``default exact (compat=ramp: ramp)``).
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pydantic import BaseModel

__all__ = ["COMPAT_MODES", "compat_default", "compat_defaults", "compat_mode", "current_compat",
           "with_compat_defaults"]

#: The compatibility modes a run's ``compat`` option accepts (besides null, the default).
COMPAT_MODES: tuple[str, ...] = ("ramp",)
#: Key of a parameter's ``json_schema_extra`` that holds its default per compatibility mode.
COMPAT_KEY = "compat_defaults"
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("rampconf_compat",
                                                                    default=None)


def compat_default(**defaults: Any) -> dict[str, Any]:
    """``json_schema_extra`` of a parameter whose default depends on the run's ``compat`` mode.

    ``Field("exact", ..., json_schema_extra=compat_default(ramp="ramp"))``: the
    default is ``"exact"``, and ``"ramp"`` in a run with ``compat=ramp``.

    Raises
    ------
    TypeError
        A mode that is not one of :data:`COMPAT_MODES`.
    """
    unknown = sorted(set(defaults) - set(COMPAT_MODES))
    if unknown:
        raise TypeError(f"unknown compatibility mode(s) {unknown}; modes are "
                        f"{', '.join(COMPAT_MODES)}")
    return {COMPAT_KEY: dict(defaults)}


def _declared(model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """Parameter -> {mode: default} of the parameters of ``model`` that declare compat defaults."""
    found = {}
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra
        modes = extra.get(COMPAT_KEY) if isinstance(extra, dict) else None
        if isinstance(modes, dict):
            found[name] = modes
    return found


def compat_defaults(model: type[BaseModel], mode: str | None) -> dict[str, Any]:
    """The parameters of ``model`` whose default differs under ``mode``, with that default."""
    if mode is None:
        return {}
    return {name: modes[mode] for name, modes in _declared(model).items() if mode in modes}


def with_compat_defaults(model: type[BaseModel], raw: dict[str, Any], mode: str | None
                         ) -> dict[str, Any]:
    """``raw`` with the parameters it leaves unset (or null) that ``mode`` decides filled in.

    A null value of a parameter that declares compat defaults means "unset":
    the field's own default, or the mode's.
    """
    declared = _declared(model)
    given = {k: v for k, v in raw.items() if not (v is None and k in declared)}
    return {**compat_defaults(model, mode), **given}


@contextlib.contextmanager
def compat_mode(mode: str | None) -> Iterator[None]:
    """Build plugins under a compatibility mode (None: rampconf's own defaults).

    Every :func:`rampconf.plugin.make_plugin` call inside the block, including those of
    plugins that build other plugins, fills the parameters the configuration
    leaves unset with the mode's defaults (:func:`compat_default`).
    """
    if mode is not None and mode not in COMPAT_MODES:
        raise ValueError(f"unknown compatibility mode {mode!r}; modes are "
                         f"{', '.join(COMPAT_MODES)} or None")
    token = _current.set(mode)
    try:
        yield
    finally:
        _current.reset(token)


def current_compat() -> str | None:
    """The compatibility mode plugins are being built in (None outside :func:`compat_mode`)."""
    return _current.get()
