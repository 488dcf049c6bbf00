"""What every plugin shares: a pydantic ``Params`` model and construction from config.

A plugin class declares its parameters as a nested pydantic model ``Params``
(frozen, ``extra="forbid"``). :func:`make_plugin` looks the class up in the
registry, validates the parameters with that model and reports every problem
with the full key path of the composed configuration.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from rampconf import registry
from rampconf.errors import ConfigError, RegistryError
from rampconf.extras import Extra

__all__ = ["NoParams", "Plugin", "StrictModel", "format_validation_error", "make_plugin"]


class StrictModel(BaseModel):
    """Base of every configuration model: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(StrictModel):
    """Parameters of a plugin that takes none."""


class Plugin:
    """Base class of every plugin.

    Lifecycle: the runner builds one instance per run with validated ``params``
    after the whole configuration is valid and before any data is read. Plugins
    are pickled to parallel workers, so keep their state small and picklable.
    """

    #: pydantic model of the plugin's parameters.
    Params: ClassVar[type[StrictModel]] = NoParams
    #: The extra whose modules the plugin imports (checked before it is built), if any.
    requires: ClassVar[Extra | None] = None

    def __init__(self, params: StrictModel | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.model_dump().items())
        return f"{type(self).__name__}({args})"


P = TypeVar("P", bound=Plugin)


def _describe_input(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _key_path(loc: tuple[Any, ...], raw: Any, missing: bool) -> list[str]:
    """The parts of a pydantic error location that are real keys or indices of ``raw``.

    pydantic adds the name of each alternative of a union (``float``,
    ``list[str]``, ...) to the location; those are not keys and are dropped.
    """
    parts: list[str] = []
    node = raw
    for i, part in enumerate(loc):
        is_key = isinstance(node, dict) and part in node
        is_index = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if is_key or is_index:
            node = node[part]
        elif not (missing and i == len(loc) - 1):
            continue
        parts.append(str(part))
    return parts


def format_validation_error(error: ValidationError, prefix: str, raw: Any = None) -> list[str]:
    """One line per key path: ``key.path: message, got VALUE``.

    Errors of the alternatives of one field (a union) are merged into one line.
    """
    merged: dict[str, tuple[list[str], str]] = {}
    for item in error.errors():
        missing = item["type"] == "missing"
        keys = _key_path(item["loc"], raw, missing) if raw is not None else \
            [str(p) for p in item["loc"]]
        loc = ".".join(part for part in (prefix, *keys) if part != "")
        message = item["msg"]
        message = message[0].lower() + message[1:]
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        elif missing:
            message = "required key is missing"
        got = "" if missing else f", got {_describe_input(item['input'])}"
        messages, _ = merged.setdefault(loc, ([], got))
        if message not in messages:
            messages.append(message)
    return [f"{loc}: {' or '.join(messages)}{got}" for loc, (messages, got) in merged.items()]


def validate_params(cls: type[Plugin], raw: dict[str, Any], path: str) -> StrictModel:
    """Validate ``raw`` with ``cls.Params``; errors name the key path under ``path``."""
    try:
        return cls.Params.model_validate(raw)
    except ValidationError as exc:
        lines = format_validation_error(exc, path, raw)
        if any(": unknown key" in line for line in lines):
            allowed = ", ".join(cls.Params.model_fields) or "none"
            lines = [f"{line} (parameters of {cls.__name__}: {allowed})" if ": unknown key" in line
                     else line for line in lines]
        raise ConfigError(lines[0], lines=lines) from None


def make_plugin(
    kind: str, plugin: str, raw: dict[str, Any], path: str, base: type[P], **context: Any
) -> P:
    """Look up ``plugin`` among plugins of ``kind``, validate ``raw`` and build it.

    Parameters
    ----------
    kind, plugin
        Registry kind (``"score"``, ``"cv"``, ...) and registered name.
    raw
        Plugin parameters from the composed configuration.
    path
        Key path of ``raw`` in the composed configuration, used in errors.
    base
        The base class the plugin must derive from.
    **context
        Extra keyword arguments of the plugin's constructor (a score's name, ...).

    Raises
    ------
    ConfigError
        Unknown name (with valid names and the closest match) or bad parameters.
    MissingExtraError
        The plugin's extra (:attr:`Plugin.requires`) is not installed.
    """
    try:
        cls = registry.get(kind, plugin)
    except RegistryError as exc:
        raise RegistryError(f"{path}: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigError(
            f"{path}: plugin {plugin!r} of kind {kind} is {cls!r}, not a {base.__name__}")
    params = validate_params(cls, raw, path)
    if cls.requires is not None:
        cls.requires.check(f"{path}: the {kind} {plugin!r}")
    return cls(params, **context)
