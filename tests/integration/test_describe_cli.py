"""``python -m rampconf --describe``: plugin help from the command line, named in ``--help``."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_describe_one_plugin(run_cli):
    proc = run_cli("--describe", "score", "f1_above")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("score f1_above (rampconf_tabular.scores.F1Above)\n")
    assert "  threshold: float, default 0.5, >= 0.0, <= 1.0\n" in proc.stdout


def test_describe_unknown_name_exits_2_with_one_line(run_cli):
    proc = run_cli("--describe", "cv", "kfld")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [proc.stderr.strip()]
    assert "unknown cv 'kfld'; did you mean 'kfold'?" in proc.stderr


def test_help_names_describe(run_cli):
    proc = run_cli("--help")
    assert proc.returncode == 0, proc.stderr
    assert "python -m rampconf --describe" in proc.stdout
