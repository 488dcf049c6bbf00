"""The tables of a run: undefined scores explained below them, the submission described."""

from __future__ import annotations

import math

import pandas as pd
from rich.console import Console

from rampconf.outputs import RunResult
from rampconf.report import print_run, undefined_notes
from rampconf.submission import describe_submission


def run_result(summary_extra: dict | None = None, nan=math.nan) -> RunResult:
    scores = pd.DataFrame({
        "fold": [0, 0, 0, 0, 1, 1, 1, 1],
        "step": ["valid", "valid", "test", "test"] * 2,
        "score": ["ap", "madc"] * 4,
        "value": [0.5, nan, 0.5, nan, 0.4, 0.2, 0.4, 0.3],
    })
    summary = {
        "problem": "p", "submission": "s", "status": "ok", "official_score": "ap",
        "score_names": ["ap", "madc"], "precisions": {"ap": 2, "madc": 2}, "n_folds_ok": 2,
        "failed_folds": [],
        "mean": {"valid": {"ap": 0.45, "madc": nan}, "test": {"ap": 0.45, "madc": nan}},
        "std": {"valid": {"ap": 0.05, "madc": nan}, "test": {"ap": 0.05, "madc": nan}},
        "bagged": {"valid": {"ap": 0.5, "madc": 0.2}, "test": {"ap": 0.5, "madc": nan}},
        "description": "A fixed circle; the real detector is submission=real.",
        **(summary_extra or {}),
    }
    folds = pd.DataFrame({"fold": [0, 1], "status": ["ok", "ok"], "train_time": [0.1, 0.1],
                          "valid_time": [0.1, 0.1], "test_time": [0.1, 0.1]})
    return RunResult(run_dir=None, summary=summary, scores=scores, bagged=pd.DataFrame(),
                     folds=folds, config={})


def test_undefined_scores_say_where_and_in_which_folds():
    assert undefined_notes(run_result()) == [
        "madc: undefined (valid, test, bagged test): no value in fold(s) 0"]


def test_undefined_scores_read_back_from_json_as_null():
    assert undefined_notes(run_result(nan=None)) == [  # type: ignore[arg-type]
        "madc: undefined (valid, test, bagged test): no value in fold(s) 0"]


def test_the_scoring_reason_is_given_when_recorded():
    records = [{"score": "madc", "reason": "no matched crater", "where": ["fold 0 valid"]}]
    assert undefined_notes(run_result({"undefined": records})) == [
        "madc: undefined (valid, test, bagged test): no matched crater"]


def test_tables_show_nan_without_a_spread_then_the_notes():
    console = Console(width=200, record=True)
    print_run(run_result(), console)
    text = console.export_text()
    assert "nan" not in text and "NaN ± " not in text
    assert "│ valid │ 0.45 ± 0.050 │  NaN │" in text
    assert text.rstrip().endswith(
        "madc: undefined (valid, test, bagged test): no value in fold(s) 0\n"
        "submission s: A fixed circle; the real detector is submission=real.")


def test_std_has_one_more_decimal_than_the_mean():
    # ramp-test prints 0.38 ± 0.005 where the score's precision is 2: a spread below the
    # mean's last digit must not read as 0.00 or 0.01.
    console = Console(width=200, record=True)
    extra = {"mean": {"valid": {"ap": 0.3812, "madc": 0.5}},
             "std": {"valid": {"ap": 0.00512, "madc": 0.0}},
             "precisions": {"ap": 2, "madc": 3}}
    print_run(run_result(extra), console)
    assert "│ valid │ 0.38 ± 0.005 │ 0.500 ± 0.0000 │" in console.export_text()


def test_titles_are_never_wrapped_when_the_table_is_narrower():
    # One short score makes a table narrower than its title; piped output (no terminal)
    # must keep each title on one line.
    console = Console(width=200, record=True, force_terminal=False)
    summary = {"problem": "a_problem_with_a_long_name", "submission": "a_long_submission_name",
               "score_names": ["ap"], "precisions": {"ap": 2}}
    result = run_result(summary)
    result.scores = result.scores[result.scores["score"] == "ap"]
    print_run(result, console)
    lines = console.export_text().splitlines()
    title = "a_problem_with_a_long_name / a_long_submission_name: mean ± std over 2 folds"
    assert title in lines
    assert all(len(line) < len(title) for line in lines if line.startswith(("┏", "│")))


def test_describe_submission_reads_the_first_docstring_without_importing(tmp_path):
    (tmp_path / "feature_extractor.py").write_text("raise SystemExit('never imported')\n")
    (tmp_path / "classifier.py").write_text('"""A forest\nof trees.\n\nDetails."""\n')
    assert describe_submission(tmp_path, ["feature_extractor", "classifier"]) == \
        "A forest of trees."
    assert describe_submission(tmp_path, ["missing"]) == ""


def test_latest_run_of_a_folder_of_runs(tmp_path):
    import os

    from rampconf.report import latest_run

    for name, when in (("2026-01-02_00-00-00", 200), ("2026-01-01_00-00-00", 100),
                       ("2026-01-03_00-00-00", None)):
        (tmp_path / name).mkdir()
        if when is not None:  # the third never finished: no summary.json
            (tmp_path / name / "summary.json").write_text("{}")
            os.utime(tmp_path / name / "summary.json", (when, when))
    assert latest_run(tmp_path) == tmp_path / "2026-01-02_00-00-00"
    assert latest_run(tmp_path / "2026-01-01_00-00-00") == tmp_path / "2026-01-01_00-00-00"
    assert latest_run(tmp_path / "2026-01-03_00-00-00") == tmp_path / "2026-01-03_00-00-00"
