"""``rampconf-docs``: the reference pages of the documentation, generated from the code.

One Markdown page per plugin kind (every entry point of its group, built-in or
installed by another package: summary, parameters from the plugin's pydantic
model, a score's direction and bounds, a workflow's element files, a data
set's files and options, the built-in problems that use it), the problem YAML
reference (from :mod:`rampconf.schema` and ``conf/config.yaml``) and the
sweeper's settings (from its structured config). The pages are committed under
``docs/reference/``; ``rampconf-docs --check`` (and a test) fails when they are
out of date or when a plugin or a setting has no description.

Usage: ``rampconf-docs [--output DIR] [--check] [--builtin-only]``
(also ``python -m rampconf.docgen``).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from rampconf import registry
from rampconf.docgen_config import (
    HEADER,
    config_missing_descriptions,
    docstring_lines,
    markdown_escape,
    problem_page,
    summary,
    sweeper_page,
    table_cell,
)
from rampconf.plugin import Plugin, default_text, describe_params, yaml_value

__all__ = ["TITLES", "generate", "main", "missing_descriptions", "plugin_entry_points"]

#: Plugin kind -> (page file, title, one-line introduction).
TITLES = {
    "reader": ("readers.md", "Readers",
               "A reader turns the problem's data files into training and test data "
               "(`problem.data.reader: NAME`, its parameters beside it in `problem.data`)."),
    "prediction": ("predictions.md", "Prediction types",
                   "A prediction type checks, bags and draws predictions "
                   "(`problem.prediction.type: NAME`)."),
    "score": ("scores.md", "Scores",
              "A score measures predictions against the truth (`problem.scores.KEY.type: NAME`,"
              " or `/score@scores.KEY: OPTION` in the defaults list; the first score is the "
              "official one). Every score also takes `name` and `precision`."),
    "cv": ("cv.md", "CV schemes",
           "A CV scheme cuts the training data into folds (`problem.cv.type: NAME`, or "
           "`cv=OPTION` on the command line)."),
    "workflow": ("workflows.md", "Workflows",
                 "A workflow says which files a submission holds and how they are trained "
                 "and asked to predict (`problem.workflow: NAME`, or `workflow=OPTION`)."),
    "dataset": ("datasets.md", "Data sets",
                "A data set downloads, generates or checks the files of a problem "
                "(`rampconf-data NAME download|generate|check`)."),
}
#: The distribution of rampconf's own plugins (``--builtin-only``: the committed pages).
BUILTIN = "rampconf"


# --------------------------------------------------------------------------- sources


def plugin_entry_points(kind: str, builtin_only: bool = False) -> list[EntryPoint]:
    """The entry points of one kind's group, sorted by name (not the run-time registrations)."""
    found = [ep for ep in entry_points(group=registry.ENTRY_POINT_GROUPS[kind])
             if not builtin_only or _distribution(ep) == BUILTIN]
    return sorted(found, key=lambda ep: ep.name)


def _distribution(ep: EntryPoint) -> str:
    return _distribution_name(ep.dist) if ep.dist is not None else "unknown"


@functools.lru_cache(maxsize=256)
def _distribution_name(dist: Any) -> str:
    return str(dist.name)  # parses the distribution's METADATA: once per distribution


@functools.cache
def _problem_uses() -> dict[tuple[str, str], list[str]]:
    """(kind, plugin name) -> the built-in problems (``conf/problem/*.yaml``) that use it."""
    from rampconf.api import compose
    from rampconf.resources import packaged_conf_dir

    uses: dict[tuple[str, str], list[str]] = {}
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as empty:
        os.chdir(empty)  # no ./conf of the working directory: the packaged problems only
        try:
            for path in sorted((packaged_conf_dir() / "problem").glob("*.yaml")):
                problem = compose([f"problem={path.stem}"])["problem"]
                workflow = problem["workflow"]
                parts = [("reader", problem["data"]["reader"]),
                         ("prediction", problem["prediction"]["type"]),
                         ("workflow", workflow if isinstance(workflow, str) else workflow["type"]),
                         ("cv", problem["cv"]["type"]),
                         *[("score", spec["type"]) for spec in problem["scores"].values()]]
                parts += [("prediction", part["type"]) for part in
                          problem["prediction"].get("parts") or [] if isinstance(part, dict)]
                if problem.get("dataset"):
                    parts.append(("dataset", problem["dataset"]))
                for part in dict.fromkeys(parts):
                    uses.setdefault(part, []).append(path.stem)
        finally:
            os.chdir(here)
    return uses


# --------------------------------------------------------------------------- plugin pages


def _params_table(model: type[BaseModel]) -> list[str]:
    params = describe_params(model)
    if not params:
        return ["No parameters."]
    rows = ["| parameter | type | default | constraints | description |",
            "|---|---|---|---|---|"]
    for info in params:
        default = default_text(info).removeprefix("default ")
        cells = [info.type, default, ", ".join(info.constraints), info.description or ""]
        rows.append(f"| `{info.name}` | " + " | ".join(map(table_cell, cells)) + " |")
    return rows


def _bound(value: float) -> str:
    return {float("inf"): "+∞", float("-inf"): "−∞"}.get(value, f"{value:g}")


def _kind_facts(kind: str, name: str, cls: Any) -> list[str]:
    """The lines a kind adds: direction and bounds, element files, data set files, ..."""
    facts = []
    if kind == "score":
        direction = "greater is better" if cls.greater_is_better else "lower is better"
        facts.append(f"- direction: {direction}; bounds [{_bound(cls.minimum)}, "
                     f"{_bound(cls.maximum)}]")
        if getattr(cls, "needs_weights", False):
            facts.append("- needs per-sample weights (`Dataset.weights`, e.g. the "
                         "`weighted_csv` reader)")
    elif kind == "prediction":
        facts.append(f"- a submission's model is asked with `{cls.predict_method}`")
    elif kind == "workflow":
        files = ", ".join(f"`{stem}.py` defines `{name}`" for stem, name in cls.elements.items())
        facts.append(f"- submission files: {files or 'none'}")
    elif kind == "dataset":
        from rampconf.datasets import (
            ACTIONS,
            CLI_DEFAULTS,
            OPTION_HELP,
            BaseDataset,
            action_options,
        )

        facts.append(f"- folder under the data root: `{cls.folder}/`")
        facts.append("- files: " + ", ".join(f"`{name}`" for name in cls.files))
        if cls.default_base_url:
            facts.append(f"- downloaded from `{cls.default_base_url}` by default"
                         + (" (SHA-256 checked: " + ", ".join(f"`{n}`" for n in cls.sha256)
                            + ")" if cls.sha256 else ""))
        for action in ACTIONS:
            inherited = getattr(cls, action) is getattr(BaseDataset, action)
            if (action == "generate" and inherited) or \
                    (action == "download" and inherited and not cls.default_base_url):
                continue  # the base's refusal: this data set cannot do it
            options = action_options(cls, action)
            shown = [f"`--{name.replace('_', '-')}` ({OPTION_HELP.get(name, name)}, default "
                     f"{yaml_value(CLI_DEFAULTS.get(name, param.default))})"
                     for name, param in options.items()]
            facts.append(f"- `rampconf-data {name} {action}`" +
                         (": " + "; ".join(shown) if shown else ""))
    requires = getattr(cls, "requires", None)
    if requires is not None:
        target = "rampconf" if requires.distribution == BUILTIN else requires.distribution
        facts.append(f"- needs the extra `{requires.name}` ({', '.join(requires.modules)}): "
                     f"`pip install '{target}[{requires.name}]'`")
    return facts


def plugin_page(kind: str, uses: dict[tuple[str, str], list[str]],
                builtin_only: bool = False) -> str:
    """The reference page of one plugin kind, in Markdown."""
    _, title, intro = TITLES[kind]
    eps = plugin_entry_points(kind, builtin_only)
    lines = [f"# {title}", "", intro, "",
             f"{len(eps)} registered (entry-point group `{registry.ENTRY_POINT_GROUPS[kind]}`): "
             + ", ".join(f"[`{ep.name}`](#{ep.name})" for ep in eps) + ".",
             "", f"In a terminal: `python -m rampconf --describe {kind} NAME`.", ""]
    for ep in eps:
        cls = ep.load()
        lines += [f"## `{ep.name}`", ""]
        doc = docstring_lines(cls)
        lines += [*(map(markdown_escape, doc) if doc else ["(no description)"]), ""]
        origin = f"`{ep.value}`"
        if _distribution(ep) != BUILTIN:
            origin += f", from the package `{_distribution(ep)}`"
        lines.append(f"- class: {origin}")
        lines += _kind_facts(kind, ep.name, cls)
        used = uses.get((kind, ep.name), [])
        lines.append("- built-in problems: " + (", ".join(f"`{p}`" for p in used)
                                                if used else "none"))
        lines.append("")
        if isinstance(cls, type) and issubclass(cls, Plugin):
            lines += [*_params_table(cls.Params), ""]
    return HEADER + "\n".join(lines).rstrip() + "\n"


def index_page(builtin_only: bool) -> str:
    def plural(title: str) -> str:  # "Scores" -> "scores", "CV schemes" stays
        return title if title.startswith("CV") else title.lower()

    counts = ", ".join(f"[{len(plugin_entry_points(kind, builtin_only))} "
                       f"{plural(TITLES[kind][1])}]({TITLES[kind][0]})" for kind in TITLES)
    return HEADER + "\n".join([
        "# Reference", "",
        "Generated from the code by `rampconf-docs` (`python -m rampconf.docgen`), so it "
        "says what the installed plugins and the schema accept. Registered: " + counts + ".",
        "", "- [Problem YAML and run options](problem.md)",
        "- [Sweeper settings](sweeper.md)",
        *[f"- [{title}]({page})" for page, title, _ in TITLES.values()], "",
        "A plugin package you install appears here when you run `rampconf-docs --output "
        "DIR` in its environment. The committed pages list rampconf's own plugins "
        "(`rampconf-docs --builtin-only`); `rampconf-docs --check --builtin-only` says "
        "whether they are up to date (CI and the test suite run it).", ""])


def generate(builtin_only: bool = False) -> dict[str, str]:
    """Page file name -> Markdown text of every reference page."""
    uses = _problem_uses()
    pages = {"index.md": index_page(builtin_only), "problem.md": problem_page(TITLES),
             "sweeper.md": sweeper_page()}
    for kind, (page, _, _) in TITLES.items():
        pages[page] = plugin_page(kind, uses, builtin_only)
    return pages


def missing_descriptions(builtin_only: bool = False) -> list[str]:
    """Every plugin, plugin parameter, problem key or setting that has no description."""
    missing = []
    for kind in TITLES:
        for ep in plugin_entry_points(kind, builtin_only):
            cls = ep.load()
            if not summary(cls):
                missing.append(f"{kind} {ep.name} ({ep.value}): no docstring")
            if isinstance(cls, type) and issubclass(cls, Plugin):
                missing += [f"{kind} {ep.name}: parameter {info.name}"
                            for info in describe_params(cls.Params) if not info.description]
    return missing + config_missing_descriptions()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="rampconf-docs", description="Write the documentation's reference pages "
        "(docs/reference/*.md) from the registered plugins and the schema.")
    parser.add_argument("--output", type=Path, default=Path("docs/reference"),
                        help="folder of the pages (default: docs/reference)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a page differs from the generated one")
    parser.add_argument("--builtin-only", action="store_true",
                        help="only rampconf's own plugins, not other installed packages' "
                             "(the committed pages)")
    args = parser.parse_args(argv)
    missing = missing_descriptions(args.builtin_only)
    if missing:
        print(f"rampconf-docs: no description: {'; '.join(missing)}", file=sys.stderr)
        return 1
    pages = generate(args.builtin_only)
    if args.check:
        stale = [name for name, text in pages.items() if not (args.output / name).is_file()
                 or (args.output / name).read_text() != text]
        extra = sorted(p.name for p in args.output.glob("*.md") if p.name not in pages)
        if stale or extra:
            print(f"rampconf-docs: out of date in {args.output}: {', '.join(stale + extra)}; "
                  "run rampconf-docs --builtin-only to update", file=sys.stderr)
            return 1
        return 0
    args.output.mkdir(parents=True, exist_ok=True)
    for name, text in pages.items():
        target = args.output / name
        temporary = target.with_suffix(".md.tmp")
        temporary.write_text(text)
        temporary.replace(target)
    print(f"wrote {len(pages)} pages to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
