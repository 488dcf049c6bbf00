"""The README's and the documentation's commands run as written, from a fresh clone.

Every ```bash block of ``README.md`` and of every ``docs/**/*.md`` page runs:
the blocks of a page in order, in one shell (a ``cd`` or an ``export`` carries
over, as in a reader's terminal), from a copy of the repository's tracked
files with the public kits at ``../shared/kits``. The new-problem tutorial's
worked example (a CSV, a YAML problem, a submission, a command) runs with its
printed numbers.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
#: The page whose worked example (``<!-- example: NAME -->`` blocks) is checked with its numbers.
NEW_PROBLEM = ROOT / "docs" / "tutorials" / "new-problem.md"
PAGES = [README, *sorted((ROOT / "docs").rglob("*.md"))]


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def examples(page: Path = NEW_PROBLEM) -> dict[str, str]:
    """Fenced blocks that follow ``<!-- example: NAME -->`` markers in a page."""
    pattern = re.compile(r"<!-- example: (\S+) -->\n```\w*\n(.*?)```", re.S)
    return {name: body for name, body in pattern.findall(page.read_text())}


def test_new_problem_worked_example_runs(run_cli, tmp_path):
    blocks = examples()
    assert {"conf/problem/wine.yaml", "submissions/wine/my_model/estimator.py",
            "command"} <= set(blocks)
    for name in ("conf/problem/wine.yaml", "submissions/wine/my_model/estimator.py"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(blocks[name])
    data = tmp_path / "data" / "wine"
    data.mkdir(parents=True)
    subprocess.run([sys.executable, "-c",
                    "from sklearn.datasets import load_wine\n"
                    "frame = load_wine(as_frame=True).frame.rename("
                    "columns={'target': 'cultivar'})\n"
                    "frame = frame.sample(frac=1, random_state=0)\n"
                    "frame.iloc[:140].to_csv('data/wine/train.csv', index=False)\n"
                    "frame.iloc[140:].to_csv('data/wine/test.csv', index=False)\n"],
                   cwd=tmp_path, check=True)
    command = shlex.split(blocks["command"].strip())
    assert command[:3] == ["python", "-m", "rampconf"]
    proc = run_cli(*command[3:], "progress=false")
    assert proc.returncode == 0, proc.stderr
    assert "wine / my_model: mean ± std over 4 folds" in proc.stdout
    assert "│ valid │ 0.98 ± 0.024 │ 0.18 ± 0.006 │ 0.98 ± 0.024 │" in proc.stdout
    assert "│ test  │ 1.00 │ 0.14 │     1.00 │" in proc.stdout


# --------------------------------------------------------------------------- shell commands

#: A visible marker that keeps a command (or, alone on a line, its whole block) out of
#: this test, with the reason: ``# not run by tests: downloads the public files``.
NOT_RUN = re.compile(r"#\s*not run by tests: \S")
#: A command the page says fails: ``# rejected: exit code 1``.
EXIT_CODE = re.compile(r"#.*\bexit code (\d+)\b")


def shell_blocks(page: Path) -> list[tuple[int, str]]:
    """``(line, text)`` of every ```bash block of a page but a worked example's command.

    That command (after ``<!-- example: command -->``) needs the YAML and
    Python files of the example, which the page asks the reader to write;
    ``test_new_problem_worked_example_runs`` writes them and runs it.
    """
    text = page.read_text()
    blocks = []
    pattern = r"(<!-- example: \S+ -->\n)?^( *)```bash\n(.*?)^\2```"  # fences in list items too
    for match in re.finditer(pattern, text, re.S | re.M):
        if not match.group(1):
            body = re.sub(rf"^{match.group(2)}", "", match.group(3), flags=re.M)
            blocks.append((text[:match.start(3)].count("\n") + 1, body))
    return blocks


def as_script(block: str, where: str) -> str | None:
    """The block as bash lines that stop at the first failure; None if nothing is run.

    Lines marked ``not run by tests`` are dropped (the whole block when the
    marker is a comment line of its own); a command marked ``exit code N``
    must exit with N.
    """
    lines = block.splitlines()
    if any(NOT_RUN.search(line) and line.lstrip().startswith("#") for line in lines):
        return None
    script = []
    for i, line in enumerate(lines):
        if NOT_RUN.search(line):
            assert not line.rstrip().endswith("\\") and not (i and lines[i - 1].endswith("\\"))
            continue
        expected = EXIT_CODE.search(line)
        if expected:
            command = line.split("  #", 1)[0]
            script.append(f'set +e; {command}; rc=$?; set -e; [ "$rc" -eq {expected.group(1)} ] '
                          f'|| {{ echo "exit code $rc, {where} says {expected.group(1)}: '
                          f'{shlex.quote(command)}" >&2; exit 1; }}')
            continue
        script.append(line)
    return "\n".join(script) + "\n" if script else None


def page_script(page: Path) -> str | None:
    """The runnable blocks of a page as one bash script (a marker before each block)."""
    parts = []
    for line, block in shell_blocks(page):
        where = f"{page_id(page)} line {line}"
        script = as_script(block, where)
        if script is not None:
            parts.append(f"echo '@@ {where}' >&2\n{script}")
    return "set -e -o pipefail\n" + "".join(parts) if parts else None


def fresh_clone(root: Path, kits: Path) -> Path:
    """The repository's tracked files under ``root/project``, with ``root/shared/kits`` beside."""
    import shutil

    (root / "shared").mkdir()
    (root / "shared" / "kits").symlink_to(kits)
    project = root / "project"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, tracked):
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return project


#: Blocks left out of the test, per page (each marked with its reason on the page).
SKIPPED = {
    "README.md": 2,  # the two commands: they install (into the environment under test)
    "docs/install.md": 3,  # the two commands and an extra's pip install
    "docs/index.md": 1,  # pip install
    "docs/contributing/docs.md": 1,  # pip install, then a web server
    "docs/guide/sweeps.md": 2,  # a Slurm batch script; Slurm workers with PostgreSQL
    "docs/tutorials/sweep.md": 1,  # pip install optuna-dashboard, a web server
    "docs/tutorials/plugin-package.md": 1,  # pip install -e into the environment
    "docs/tutorials/mars-craters.md": 1,  # a minute-long detector run the domain page runs
    "docs/tutorials/challenge.md": 4,  # run in order with the first by test_challenge_docs.py
    "docs/mlflow.md": 2,  # pip install; a web server
    "docs/performance.md": 6,  # benchmarks: minutes each, they print figures, assert nothing
    "docs/tutorials/scaling.md": 5,  # PostgreSQL, the benchmark, Slurm (two), a web server
}


def test_every_shell_block_is_found_and_exclusions_are_marked():
    blocks = {page_id(page): shell_blocks(page) for page in PAGES}
    assert sum(map(len, blocks.values())) >= 50
    skipped = {page: n for page, found in blocks.items()
               if (n := sum(as_script(block, page) is None for _, block in found))}
    assert skipped == SKIPPED
    tour = next(block for _, block in blocks["README.md"] if "--describe score" in block)
    assert len(tour.strip().splitlines()) == 5
    for command in tour.splitlines():
        if "problem=titanic" in command:
            assert "data_root=../shared/kits" in command, command
    # every tutorial is run, and ends up in the site's navigation
    tutorials = [page for page in blocks if page.startswith("docs/tutorials/")]
    assert len(tutorials) >= 7
    assert all(page_script(ROOT / page) for page in tutorials)


#: Pages whose commands a test of their own runs and checks in more detail.
OWN_TEST = {"docs/tutorials/challenge.md", "docs/mlflow.md",  # test_challenge_docs.py
            "docs/tutorials/scaling.md"}  # test_scaling_docs.py, test_scaling_launchers.py
RUN = [page for page in PAGES
       if page_script(page) is not None and page_id(page) not in OWN_TEST]


@pytest.mark.parametrize("page", RUN, ids=[page_id(page) for page in RUN])
def test_page_commands_run_as_written(page, kits, tmp_path):
    """From a fresh clone with ../shared/kits beside it, every command of the page runs."""
    import os

    from tests.conftest import cli_env

    project = fresh_clone(tmp_path, kits)
    env = cli_env()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(["bash", "-c", page_script(page)], cwd=project, env=env,
                          capture_output=True, text=True, timeout=1800, check=False)
    markers = re.findall(r"^@@ (.*)$", proc.stderr, re.M)
    assert proc.returncode == 0, (f"{markers[-1] if markers else page_id(page)} failed:\n"
                                  f"{proc.stderr[-3000:]}")
