"""The students' kit: training data, the public test rows, the problem YAML, a starting kit.

``OUT/`` holds what a student runs ``python -m rampconf`` in::

    README.md                           how to run, what to submit
    conf/problem/<problem>.yaml         the challenge's problem, resolved (CV as evaluated)
    data/<paths of the problem>         the training file and extra files as they are,
                                        the test file with its public rows only
    submissions/<problem>/starting_kit/ the starting kit

No private test row is written: the test file is rebuilt from the public rows.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rampconf.errors import ConfigError, DataError

if TYPE_CHECKING:
    from rampconf.challenge.config import Challenge
    from rampconf.challenge.data import ChallengeData

__all__ = ["kit_problem", "make_kit"]

#: Files of a submission folder that are never copied or hashed.
SKIPPED = ("__pycache__", ".git", ".ipynb_checkpoints", ".DS_Store")


def submission_files(folder: Path) -> list[Path]:
    """The files of a submission folder, sorted (caches and hidden files left out)."""
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and not any(part in SKIPPED or part.startswith(".")
                              for part in p.relative_to(folder).parts))


def copy_submission(source: Path, target: Path) -> None:
    """Copy a submission folder's files (see :func:`submission_files`)."""
    for path in submission_files(source):
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)


def kit_problem(data: ChallengeData) -> dict[str, Any]:
    """The problem as the kit's YAML: resolved, with the workflow and CV every evaluation uses."""
    problem = dict(data.raw["problem"])
    if data.raw.get("workflow"):
        problem["workflow"] = data.raw["workflow"]
    if data.raw.get("cv"):
        problem["cv"] = data.raw["cv"]
    return problem


def _relative(path: Path, root: Path, role: str) -> Path:
    try:
        return path.resolve().relative_to(root)
    except ValueError:
        raise ConfigError(f"problem.data: the {role} file {path} is outside data_root {root}; "
                          "the kit keeps the problem's paths under data/") from None


README = """# {title}: challenge {name}

This folder is your kit: the training data, a public test set, the problem and a
starting kit. Run the starting kit (cross-validation on the training data, then the
test set) from this folder:

```bash
python -m rampconf problem={problem} submission=starting_kit
```

Your submission is a folder `submissions/{folder}/<your_name>/` holding
{elements}. Copy the starting kit, change it, and run it:

```bash
cp -r submissions/{folder}/starting_kit submissions/{folder}/my_model
python -m rampconf problem={problem} submission=my_model
```

The scores you see here are those of the public leaderboard: the CV valid scores
(`{cv}`) and the test scores on the public test rows ({n_public} rows of
`data/{test}`). The teacher ranks the final leaderboard on private test rows you
do not have. Each fold may run {timeout} and use {memory}; the folds run without
network and without access to the data files (read the training data only
through what `fit` receives).

Hand in the folder `submissions/{folder}/<your_name>/` as the teacher asks
(a shared folder or a repository): `<your login>/<your_name>/` with your files.
"""


def _readme(challenge: Challenge, data: ChallengeData, problem: dict[str, Any],
            elements: dict[str, str], test: Path) -> str:
    limits = challenge.config.limits
    cv = problem["cv"]
    return README.format(
        title=problem.get("title") or problem["name"], name=challenge.config.name,
        problem=problem["name"], folder=data.config.problem.submissions_folder,
        elements=", ".join(f"`{file}.py` (with `{call}`)" for file, call in elements.items()),
        cv=" ".join(f"{k}={v}" for k, v in cv.items() if v is not None),
        n_public=len(data.public), test=test.as_posix(),
        timeout=f"{limits.fold_timeout:g} s" if limits.fold_timeout else "without time limit",
        memory=limits.fold_memory or "any memory")


def make_kit(challenge: Challenge, out: str | os.PathLike[str],
             data: ChallengeData | None = None) -> Path:
    """Write the students' kit of ``challenge`` to ``out`` (a new or empty folder).

    Raises
    ------
    ConfigError, DataError
        A bad challenge or problem, data outside ``data_root``, ``out`` not empty.
    """
    import yaml

    from rampconf.challenge.data import in_folder, load_challenge_data, read_raw_test
    from rampconf.outputs import write_atomic
    from rampconf.saved import build_plugins
    from rampconf.submission import find_submission

    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise DataError(f"{target}: the kit's folder exists and is not empty")
    data = data or load_challenge_data(challenge)
    root = data.reader.data_root.resolve()
    problem = kit_problem(data)
    with in_folder(challenge.folder):
        from rampconf.plugin import make_plugin
        from rampconf.workflows import BaseWorkflow

        spec = data.config.workflow_spec
        workflow = make_plugin("workflow", spec.type, spec.plugin_params(), "problem.workflow",
                               BaseWorkflow)
        starting = challenge.config.starting_kit
        is_path = "/" in starting or os.sep in starting
        source = find_submission(data.config.problem.submissions_folder,
                                 "starting_kit" if is_path else starting,
                                 str(challenge.resolve(starting)) if is_path else None,
                                 workflow.elements)
        build_plugins(data.config)  # every plugin the kit's problem names exists
    staging = target.with_name(f".{target.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    test_rel = Path()
    for role, path in data.files.items():
        rel = _relative(path, root, role)
        destination = staging / "data" / rel
        destination.parent.mkdir(parents=True, exist_ok=True)
        if role == "test":
            test_rel = rel
            table = read_raw_test(data.reader, path).iloc[data.public]
            options = dict(getattr(data.reader.params, "read_options", None) or {})
            table.to_csv(destination, index=False, sep=options.get("sep", ","))
        else:
            shutil.copyfile(path, destination)
    yaml_text = ("# The challenge's problem, resolved: the CV folds are those of the "
                 "evaluation.\n" + yaml.safe_dump(problem, sort_keys=False))
    write_atomic(staging / "conf" / "problem" / f"{problem['name']}.yaml", yaml_text)
    copy_submission(source, staging / "submissions" / data.config.problem.submissions_folder
                    / "starting_kit")
    write_atomic(staging / "README.md",
                 _readme(challenge, data, problem, dict(workflow.elements), test_rel))
    if target.exists():
        target.rmdir()
    staging.rename(target)
    return target
