"""What every plugin shares: a typed pydantic parameter model and construction from config.

A plugin class is generic in its parameter model and names it once, as the
type argument of its base class::

    class F1AboveParams(StrictModel):
        threshold: float = Field(0.7, ge=0, le=1,
                                 description="a label counts when its F1 is above this")

    class F1Above(BaseScore[F1AboveParams]):
        '''Fraction of labels whose F1 score is above a threshold.'''

        def score(self, y_true, y_pred):
            ...self.params.threshold...      # typed: F1AboveParams

The class attribute ``Params`` (the model :func:`make_plugin` validates with)
is set from that type argument when the class is created; a plugin without
parameters names none and gets :class:`NoParams`. A class that is itself
generic (``class CSVFileReader(BaseReader[CSVParamsT])``, to be extended
with more parameters) gets the bound of its type variable, a subclass that
names no new model inherits its parent's, and a class that assigns
``Params`` in its body keeps it (``self.params`` is then typed loosely).
Every parameter carries a ``Field(description=...)``: ``python -m rampconf
--describe KIND NAME`` and the ``Parameters`` section of the plugin's
docstring are generated from it.

A parameter whose default depends on the run's ``compat`` mode declares it
with :func:`rampconf.compat.compat_default` (see :mod:`rampconf.compat`).
"""

from __future__ import annotations

import abc
import inspect
import types
import typing
from typing import Any, ClassVar, Generic, Literal, TypeVar, Union, cast

from pydantic import BaseModel, ConfigDict, ValidationError
from typing_extensions import TypeVar as DefaultTypeVar

from rampconf import registry
from rampconf.compat import COMPAT_MODES, compat_defaults, current_compat, with_compat_defaults
from rampconf.errors import ConfigError, RegistryError
from rampconf.extras import Extra

if typing.TYPE_CHECKING:
    from collections.abc import Callable

    from pydantic.fields import FieldInfo

__all__ = [
    "LOCAL_MODULE_PREFIX",
    "NoParams",
    "ParamInfo",
    "ParamsT",
    "Plugin",
    "StrictModel",
    "default_text",
    "describe_params",
    "format_validation_error",
    "make_plugin",
    "params_docstring",
]


#: Module names of local plugin files start with this (see :mod:`rampconf.local_plugins`).
LOCAL_MODULE_PREFIX = "rampconf_local_"


class StrictModel(BaseModel):
    """Base of every configuration model: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(StrictModel):
    """Parameters of a plugin that takes none."""


#: Type variable of a plugin's parameter model. Covariant, so that a ``BaseScore``
#: annotation (``BaseScore[StrictModel]``) accepts every score; a plugin that names
#: no model is typed with ``StrictModel`` (no attributes) and built with :class:`NoParams`.
ParamsT = DefaultTypeVar("ParamsT", bound=StrictModel, default=StrictModel, covariant=True)


def _model_argument(cls: type) -> type[StrictModel] | None:
    """The parameter model named by ``cls``'s own generic bases, or None when it names none."""
    for base in cls.__dict__.get("__orig_bases__", ()):
        origin = typing.get_origin(base)
        if not (isinstance(origin, type) and issubclass(origin, Plugin)):
            continue
        (argument, *_) = typing.get_args(base)
        if isinstance(argument, TypeVar):  # a generic base: its type variable's bound ...
            argument = argument.__bound__
            if argument is StrictModel:  # ... unless it names no model
                return None
        if not (isinstance(argument, type) and issubclass(argument, StrictModel)):
            raise TypeError(f"{cls.__qualname__}: the parameter model of a plugin must be a "
                            f"StrictModel subclass, got {argument!r}")
        return argument
    return None


class Plugin(abc.ABC, Generic[ParamsT]):
    """Base class of every plugin, generic in its parameter model.

    Lifecycle: :func:`make_plugin` validates the configuration's parameters
    with ``Params`` and builds one instance per run, after the whole
    configuration is valid and before any data is read; ``self.params`` is
    then the validated, frozen model. Plugins are pickled to the fold
    processes, so keep their state small and picklable. The kind's base class
    (:class:`~rampconf.scores.BaseScore`, ...) says which methods are called
    when; its abstract methods are the ones a plugin must implement.

    Class attributes
    ----------------
    Params : type of StrictModel
        The parameter model, set from the type argument of the base class
        (``BaseScore[F1AboveParams]``; see the module docstring).
    """

    Params: ClassVar[type[StrictModel]] = NoParams
    #: The extra whose modules the plugin imports (checked before it is built), if any.
    requires: ClassVar[Extra | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        model = _model_argument(cls)
        if model is not None:
            own = cls.__dict__.get("Params")
            if own is None:
                cls.Params = model
            elif not issubclass(own, model):
                raise TypeError(f"{cls.__qualname__}: Params {own.__qualname__} is not a "
                                f"subclass of the type argument {model.__qualname__}; name "
                                "the model once")
        doc = cls.__dict__.get("__doc__")
        if doc and cls.Params.model_fields and "\nParameters\n" not in doc:
            cls.__doc__ = inspect.cleandoc(doc) + "\n\n" + params_docstring(cls.Params)

    def __init__(self, params: ParamsT | None = None) -> None:
        self._params = params if params is not None else cast("ParamsT", self.Params())

    @property
    def params(self) -> ParamsT:
        """The validated parameters (a frozen instance of ``Params``)."""
        return self._params

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.model_dump().items())
        return f"{type(self).__name__}({args})"

    def __reduce_ex__(self, protocol: Any) -> Any:
        # A local plugin's module exists only where its file was loaded: another process
        # re-imports it from the recorded path (rampconf.local_plugins), then rebuilds.
        if type(self).__module__.startswith(LOCAL_MODULE_PREFIX):
            from rampconf.local_plugins import reduce_local

            return reduce_local(self)
        return super().__reduce_ex__(protocol)


P = TypeVar("P", bound=Plugin[StrictModel])


# --------------------------------------------------------------------------- describing


def type_name(annotation: Any) -> str:
    """A short, readable name of a parameter's type (``float``, ``list[str] | None``, ...)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is type(None):
        return "None"
    if annotation is Ellipsis:
        return "..."
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin in (Union, types.UnionType):
        return " | ".join(type_name(arg) for arg in args)
    if origin is Literal:
        return " | ".join(repr(arg) for arg in args)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(type_name(arg) for arg in args)}]"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def yaml_value(value: Any) -> str:
    """``value`` as it is written in a YAML file (``null``, ``true``, ``[1, 2]``, ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {yaml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, BaseModel):
        return yaml_value(value.model_dump())
    return str(value)


_BOUNDS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<", "min_length": "length >=",
           "max_length": "length <="}


def _constraints(field: FieldInfo) -> list[str]:
    found = []
    for item in field.metadata:
        for attribute, symbol in _BOUNDS.items():
            if getattr(item, attribute, None) is not None:
                found.append(f"{symbol} {getattr(item, attribute)}")
    return found


class ParamInfo(typing.NamedTuple):
    """What the help says about one parameter of a plugin."""

    name: str
    type: str
    default: str | None  # None: required
    constraints: list[str]
    description: str | None
    compat: dict[str, str] = {}  # noqa: RUF012  (compatibility mode -> default, YAML syntax)


def describe_params(model: type[BaseModel]) -> list[ParamInfo]:
    """Name, type, default (YAML syntax, None if required), constraints and description
    of every field of a plugin's parameter model, in declaration order."""
    described = []
    for name, field in model.model_fields.items():
        default = None if field.is_required() else \
            yaml_value(field.get_default(call_default_factory=True))
        compat = {mode: yaml_value(value) for mode in COMPAT_MODES
                  for key, value in compat_defaults(model, mode).items() if key == name}
        described.append(ParamInfo(name, type_name(field.annotation), default,
                                   _constraints(field), field.description, compat))
    return described


def default_text(info: ParamInfo) -> str:
    """``required``, ``default X`` or ``default X (compat=ramp: Y)``."""
    if info.default is None:
        return "required"
    modes = ", ".join(f"compat={mode}: {value}" for mode, value in info.compat.items())
    return f"default {info.default}" + (f" ({modes})" if modes else "")


def params_docstring(model: type[BaseModel]) -> str:
    """A numpydoc ``Parameters`` section generated from the model's fields."""
    lines = ["Parameters", "----------"]
    for info in describe_params(model):
        default = default_text(info)
        lines.append(f"{info.name} : {', '.join([info.type, *info.constraints, default])}")
        lines.append(f"    {info.description or ''}".rstrip())
    return "\n".join(lines)


# --------------------------------------------------------------------------- building


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


def validate_params(cls: type[Plugin[StrictModel]], raw: dict[str, Any], path: str) -> StrictModel:
    """Validate ``raw`` with ``cls.Params``; errors name the key path under ``path``.

    Parameters that ``raw`` leaves unset (or null, for parameters that declare
    compat defaults) take the defaults of the current compatibility mode
    (:func:`rampconf.compat.compat_mode`).
    """
    raw = with_compat_defaults(cls.Params, raw, current_compat())
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
    kind: str, plugin: str, raw: dict[str, Any], path: str, base: Callable[..., P],
    **context: Any
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
        The base class the plugin must derive from, e.g. ``BaseScore`` (typed
        as a callable because mypy rejects abstract classes as ``type[P]``).
    **context
        Extra keyword arguments of the plugin's constructor (a score's name, ...).

    Parameters that ``raw`` leaves unset take the defaults of the current
    compatibility mode (see :func:`rampconf.compat.compat_mode`).

    Raises
    ------
    ConfigError
        Unknown name (with valid names and the closest match) or bad parameters.
    TypeError
        The plugin class leaves an abstract method of its base unimplemented.
    MissingExtraError
        The plugin's extra (:attr:`Plugin.requires`) is not installed.
    """
    try:
        cls = registry.get(kind, plugin)
    except RegistryError as exc:
        raise RegistryError(f"{path}: {exc}") from None
    if not (isinstance(cls, type) and isinstance(base, type) and issubclass(cls, base)):
        raise ConfigError(f"{path}: plugin {plugin!r} of kind {kind} is {cls!r}, not a "
                          f"{getattr(base, '__name__', base)}")
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
        raise TypeError(f"plugin {plugin!r} of kind {kind} ({cls.__module__}.{cls.__qualname__}) "
                        f"does not implement {missing}, which {base.__name__} requires")
    plugin_class = cast("type[P]", cls)
    params = validate_params(plugin_class, raw, path)
    if plugin_class.requires is not None:
        plugin_class.requires.check(f"{path}: the {kind} {plugin!r}")
    return plugin_class(params, **context)
