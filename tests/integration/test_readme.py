"""The README's worked example (a CSV, a YAML problem, a submission, a command) runs as shown."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"


def examples() -> dict[str, str]:
    """Fenced blocks that follow ``<!-- example: NAME -->`` markers in the README."""
    pattern = re.compile(r"<!-- example: (\S+) -->\n```\w*\n(.*?)```", re.S)
    return {name: body for name, body in pattern.findall(README.read_text())}


def test_readme_worked_example_runs(run_cli, tmp_path):
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

#: A visible marker that keeps a README command (or, alone on a line, its whole block) out
#: of this test, with the reason: ``# not run by tests: downloads the public files``.
NOT_RUN = re.compile(r"#\s*not run by tests: \S")
#: A command the README says fails: ``# rejected: exit code 1``.
EXIT_CODE = re.compile(r"#.*\bexit code (\d+)\b")


def shell_blocks() -> list[tuple[int, str]]:
    """``(line, text)`` of every ```bash block but the worked example's command.

    That command (after ``<!-- example: command -->``) needs the YAML and
    Python files of the example, which the README asks the reader to write;
    ``test_readme_worked_example_runs`` writes them and runs it.
    """
    text = README.read_text()
    blocks = []
    for match in re.finditer(r"(<!-- example: \S+ -->\n)?```bash\n(.*?)```", text, re.S):
        if not match.group(1):
            blocks.append((text[:match.start(2)].count("\n") + 1, match.group(2)))
    return blocks


def as_script(block: str) -> str | None:
    """The block as a bash script that stops at the first failure; None if nothing is run.

    Lines marked ``not run by tests`` are dropped (the whole block when the
    marker is a comment line of its own); a command marked ``exit code N``
    must exit with N.
    """
    lines = block.splitlines()
    if any(NOT_RUN.search(line) and line.lstrip().startswith("#") for line in lines):
        return None
    script = ["set -e -o pipefail"]
    for i, line in enumerate(lines):
        if NOT_RUN.search(line):
            assert not line.rstrip().endswith("\\") and not (i and lines[i - 1].endswith("\\"))
            continue
        expected = EXIT_CODE.search(line)
        if expected:
            command = line.split("  #", 1)[0]
            script.append(f'set +e; {command}; rc=$?; set -e; [ "$rc" -eq {expected.group(1)} ] '
                          f'|| {{ echo "exit code $rc, the README says {expected.group(1)}: '
                          f'{shlex.quote(command)}" >&2; exit 1; }}')
            continue
        script.append(line)
    return "\n".join(script) + "\n" if len(script) > 1 else None


def fresh_clone(root: Path, kits: Path) -> Path:
    """The repository's tracked files under ``root/project``, with ``root/shared/kits`` beside."""
    import shutil

    (root / "shared").mkdir()
    (root / "shared" / "kits").symlink_to(kits)
    project = root / "project"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=README.parent, check=True,
                             capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, tracked):
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(README.parent / name, target)
    return project


BLOCKS = shell_blocks()
RUN = [(line, script) for line, block in BLOCKS if (script := as_script(block)) is not None]


def test_every_shell_block_is_found_and_exclusions_are_marked():
    assert len(BLOCKS) >= 15
    skipped = [line for line, block in BLOCKS if as_script(block) is None]
    # pip install (three times: run, they would replace the test environment's editable
    # install with the copy), the Slurm script, the submitit workers
    assert len(skipped) == 5, skipped
    tour = next(block for _, block in BLOCKS if "--describe score f1_above" in block)
    for command in tour.splitlines():
        if "problem=titanic" in command:
            assert "data_root=../shared/kits" in command, command


@pytest.mark.parametrize(("line", "script"), RUN, ids=[f"line-{line}" for line, _ in RUN])
def test_readme_shell_commands_run_as_written(line, script, kits, tmp_path):
    """From a fresh clone with ../shared/kits beside it, every README command runs."""
    import os

    from tests.conftest import cli_env

    project = fresh_clone(tmp_path, kits)
    env = cli_env()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(["bash", "-c", script], cwd=project, env=env, capture_output=True,
                          text=True, timeout=1500, check=False)
    assert proc.returncode == 0, f"README line {line}:\n{script}\n{proc.stderr[-3000:]}"
