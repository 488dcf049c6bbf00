"""``python -m rampconf --describe [KIND [NAME]]``: the registered plugins and their parameters.

The help is generated from each plugin's docstring (its first line) and its
parameter model (types, defaults, constraints and ``Field(description=...)``),
so it never disagrees with what :func:`rampconf.plugin.make_plugin` validates.
"""

from __future__ import annotations

import inspect
import sys
import textwrap

from rampconf import registry
from rampconf.errors import ConfigError
from rampconf.plugin import Plugin, default_text, describe_params

__all__ = ["describe", "main"]

#: Where the parameters of a plugin of each kind are written in the configuration.
WHERE = {
    "reader": "problem.data.PARAM (problem.data.reader: NAME)",
    "prediction": "problem.prediction.PARAM (problem.prediction.type: NAME)",
    "score": "problem.scores.KEY.PARAM (type: NAME; every score also takes name and "
             "precision)",
    "cv": "problem.cv.PARAM (type: NAME), or cv=NAME cv.PARAM=VALUE on the command line",
    "workflow": "problem.workflow.PARAM (type: NAME), or workflow=NAME workflow.PARAM=VALUE "
                "on the command line",
    "dataset": "no parameters: rampconf-data NAME download|generate|check [options] "
               "(each data set's options: rampconf-data NAME ACTION --help)",
}
USAGE = "usage: python -m rampconf --describe [KIND [NAME]]"
WIDTH = 88


def _summary(cls: type) -> str:
    doc = inspect.getdoc(cls) or ""
    return doc.splitlines()[0] if doc else ""


def describe_plugin(kind: str, name: str) -> str:
    """The help of one registered plugin: summary, then one entry per parameter."""
    from rampconf.local_plugins import origin

    cls = registry.get(kind, name)
    local = origin(cls)
    where = f"local plugin {cls.__qualname__} of {local.path}" if local is not None else \
        f"{cls.__module__}.{cls.__qualname__}"
    lines = [f"{kind} {name} ({where})",
             *textwrap.wrap(_summary(cls), WIDTH, initial_indent="  ",
                            subsequent_indent="  ")]
    model = cls.Params if isinstance(cls, type) and issubclass(cls, Plugin) else None
    params = describe_params(model) if model is not None else []
    if not params:
        lines.append("  no parameters")
    for info in params:
        parts = [info.type, default_text(info), *info.constraints]
        lines.append(f"  {info.name}: {', '.join(parts)}")
        lines.extend(textwrap.wrap(info.description or "(no description)", WIDTH,
                                   initial_indent="      ", subsequent_indent="      "))
    return "\n".join(lines)


def describe(kind: str | None = None, name: str | None = None) -> str:
    """Help text: every kind and its plugins, every plugin of ``kind``, or one plugin.

    Raises
    ------
    ConfigError
        An unknown kind or name (with the valid ones and the closest match).
    """
    if kind is None:
        lines = ["Registered plugins (python -m rampconf --describe KIND [NAME] for their "
                 "parameters):"]
        for each in registry.KINDS:
            lines.append(f"\n{each}: set as {WHERE[each]}")
            for plugin in registry.available(each):
                lines.append(f"  {plugin:<30} {_summary(registry.get(each, plugin))}")
        return "\n".join(lines)
    if kind not in registry.KINDS:
        raise ConfigError("--describe: " + registry.unknown_name_message(
            "plugin kind", kind, list(registry.KINDS)))
    if name is not None:
        try:
            return f"{describe_plugin(kind, name)}\n\nset as {WHERE[kind]}"
        except ConfigError as exc:
            raise ConfigError(f"--describe {kind}: {exc}") from None
    blocks = [f"{kind}: set as {WHERE[kind]}"]
    blocks += [describe_plugin(kind, plugin) for plugin in registry.available(kind)]
    return "\n\n".join(blocks)


def main(argv: list[str]) -> int:
    """Print the help of ``argv`` (``[KIND [NAME]]``); return the exit code."""
    if len(argv) > 2 or any(arg.startswith("-") for arg in argv):
        print(f"config error: --describe takes a kind and a name, got {argv}; {USAGE}",
              file=sys.stderr)
        return 2
    try:
        text = describe(*argv)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(text)
    return 0
