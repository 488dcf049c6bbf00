"""What a configuration file may do: option files configure their own keys, never Hydra.

Hydra runs code named in the config (``hydra.callbacks.*._target_``, a
launcher or sweeper ``_target_``), so a problem YAML that could write into
``hydra`` could run anything. rampconf's config sources
(:mod:`hydra_plugins.rampconf_searchpath`: your ``./conf`` and the packaged
conf) check every option file of these groups as Hydra loads it:

- ``problem``, ``workflow``, ``score``, ``cv``: the file's package is its own
  group (no ``# @package`` other than ``_group_`` or the group's name); no
  ``_target_`` key anywhere; its defaults list holds only ``_self_`` and
  options (or other option files) of these groups, in packages of its own (no
  ``_global_``, no ``override``);
- ``search`` (sweep spaces, ``# @package _global_``): its ``hydra`` node holds
  only ``sweeper`` settings, no ``_target_`` anywhere; its defaults list only
  chooses ``problem``, ``submission``, ``workflow``, ``cv`` and
  ``hydra/sweeper``.

What Hydra itself runs comes only from the primary config (``config.yaml``)
and the command line. :func:`env_interpolations` lists the ``${oc.env:...}``
values, written as their interpolation (not their value) in ``config.yaml``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RESTRICTED", "check_config_file", "env_interpolations"]

RESTRICTED = ("problem", "workflow", "score", "cv")
SEARCH_CHOICES = ("problem", "submission", "workflow", "cv", "hydra/sweeper")


def _targets(node: Any, path: str) -> list[str]:
    """Key paths of every ``_target_`` key under ``node``."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if key == "_target_":
                found.append(where)
            found.extend(_targets(value, where))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_targets(value, f"{path}[{i}]"))
    return found


def _defaults_problems(defaults: Any, group: str, search: bool) -> list[str]:
    problems = []
    for entry in defaults if isinstance(defaults, list) else [defaults]:
        if entry == "_self_":
            continue
        if isinstance(entry, str) and not search:  # another option file of these groups
            entry = {entry: None}
        if not isinstance(entry, dict) or len(entry) != 1:
            problems.append(f"defaults entry {entry!r}: only `group: option` entries and "
                            "_self_ are allowed")
            continue
        key = str(next(iter(entry)))
        words = key.split()
        override = words[0] == "override"
        words = [w for w in words if w not in ("override", "optional")]
        target = words[-1] if words else ""
        choice, _, package = target.partition("@")
        choice = choice.lstrip("/") if choice.startswith("/") else f"{group}/{choice}"
        if search:
            if choice not in SEARCH_CHOICES:
                problems.append(f"defaults entry {key!r}: a search file may choose only "
                                f"{', '.join(SEARCH_CHOICES)}")
            continue
        if override:
            problems.append(f"defaults entry {key!r}: an option file cannot override "
                            "choices (only your primary config and command line can)")
        elif choice.split("/")[0] not in RESTRICTED:
            problems.append(f"defaults entry {key!r}: an option file may compose only "
                            f"{', '.join(RESTRICTED)} options")
        elif "_global_" in package or package.split(".")[0] == "hydra":
            problems.append(f"defaults entry {key!r}: package {package} is outside the file's "
                            "own keys")
    return problems


def check_config_file(config_path: str, package: str | None, content: Any) -> list[str]:
    """What a config file of a guarded group does that it may not (empty: nothing).

    Parameters
    ----------
    config_path
        Path of the file in the config tree (``problem/titanic.yaml``).
    package
        Its ``# @package`` header, or None.
    content
        Its content as plain data.
    """
    group = config_path.split("/")[0]
    if group not in (*RESTRICTED, "search") or "/" not in config_path:
        return []
    problems = [f"{where}: rampconf never creates objects from a config (_target_)"
                for where in _targets(content, "")]
    if not isinstance(content, dict):
        return problems
    if group == "search":
        extra = sorted(set(content.get("hydra") or {}) - {"sweeper"})
        if extra:
            problems.append(f"hydra.{extra[0]}: a search file may set only hydra.sweeper")
    elif package not in (None, "_group_", group):
        problems.append(f"# @package {package}: a {group} file configures its own keys only "
                        f"(package {group})")
    problems += _defaults_problems(content.get("defaults", []), group, group == "search")
    return problems


def env_interpolations(cfg: Any, prefix: str = "") -> dict[str, str]:
    """Key path -> text of every value of ``cfg`` that reads the environment (``oc.env``)."""
    from omegaconf import DictConfig, ListConfig, OmegaConf

    found: dict[str, str] = {}
    if isinstance(cfg, DictConfig):
        items: Any = ((str(k), k) for k in cfg)
    elif isinstance(cfg, ListConfig):
        items = ((str(i), i) for i in range(len(cfg)))
    else:
        return found
    for name, key in items:
        if prefix == "" and name == "hydra":
            continue
        node = cfg._get_node(key)
        path = f"{prefix}.{name}" if prefix else name
        if OmegaConf.is_interpolation(cfg, key):
            text = str(node._value())
            if "oc.env" in text:
                found[path] = text
        elif isinstance(node, DictConfig | ListConfig):
            found.update(env_interpolations(node, path))
    return found
