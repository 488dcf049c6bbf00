"""Hydra's composition errors in one line; the run directory of a run that never started removed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rampconf.api import compose
from rampconf.errors import ConfigError
from rampconf.hydra_errors import composition_error, discard_run_dir, hydra_raises


def hydra_exception(overrides: list[str]) -> BaseException:
    """What Hydra's compose API raises for ``overrides`` (our ``compose`` keeps the cause)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from rampconf.api import register_submissions
    from rampconf.resources import packaged_conf_dir

    register_submissions()
    try:
        with initialize_config_dir(config_dir=str(packaged_conf_dir()), version_base="1.3"):
            hydra_compose(config_name="config", overrides=overrides)
    except Exception as exc:
        return exc
    raise AssertionError(f"{overrides} composed")


@pytest.fixture
def in_tmp(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(("overrides", "expected"), [
    (["retrian=true"], "retrian: unknown key; did you mean 'retrain'? keys of the top level: "
                       "problem, submission, data_root, n_jobs, seed, retrain,"),
    (["problem.cv.n_split=3"], "problem.cv.n_split: unknown key; did you mean "
                               "'problem.cv.n_splits'? keys of problem.cv: type, n_splits, "
                               "test_size, train_size, random_state"),
    (["problem.scores.acc.thrshold=0.5"],
     "problem.scores.acc.thrshold: unknown key; keys of problem.scores.acc: type, name, "
     "precision; to add a key that is not there, write +problem.scores.acc.thrshold=VALUE"),
    (["hydra/launcher=joblb"], "hydra/launcher=joblb: unknown hydra/launcher option 'joblb'; "
                               "did you mean 'joblib'? valid names: basic, joblib"),
], ids=["top-level-key", "nested-key", "no-close-key", "hydra-group"])
def test_composition_error_is_one_line_with_the_closest_name(in_tmp, overrides, expected):
    line = composition_error(hydra_exception(overrides))
    assert line.startswith(expected), line
    assert "\n" not in line


@pytest.mark.parametrize(("group", "option", "closest"), [
    ("score", "acuracy", "accuracy"), ("cv", "kfld", "kfold"), ("workflow", "estimatr",
                                                               "estimator")])
def test_unknown_option_in_a_problem_defaults_list_names_the_file(in_tmp, group, option,
                                                                   closest):
    folder = in_tmp / "conf" / "problem"
    folder.mkdir(parents=True)
    (folder / "mine.yaml").write_text(f"defaults:\n  - iris\n  - /{group}@x: {option}\n"
                                      "  - _self_\nname: mine\n")
    line = composition_error(hydra_exception(["problem=mine"]))
    assert line.startswith(f"{Path('conf/problem/mine.yaml')}: defaults list: unknown {group} "
                           f"option {option!r}; did you mean {closest!r}? valid names: ")
    assert "\n" not in line


def test_other_composition_errors_are_one_line(in_tmp):
    line = composition_error(hydra_exception(["+problem.cv.n_splits=3"]))
    assert line.startswith("config: Could not append to config. An item is already at "
                           "'problem.cv.n_splits'.")
    assert "\n" not in line


def test_a_config_file_yaml_cannot_parse_is_named_with_its_line(in_tmp):
    folder = in_tmp / "conf" / "problem"
    folder.mkdir(parents=True)
    (folder / "broken.yaml").write_text("name: broken\ndata: [unclosed\n")
    line = composition_error(hydra_exception(["problem=broken"]))
    assert line == (f"{folder / 'broken.yaml'}, line 3, column 1: bad YAML: while parsing a "
                    "flow sequence; expected ',' or ']', but got '<stream end>'")


def test_compose_api_raises_config_error(in_tmp):
    with pytest.raises(ConfigError, match=r"^retrian: unknown key; did you mean 'retrain'\?"):
        compose(["retrian=true"])


def test_hydra_raises_sets_and_restores_the_switch(monkeypatch):
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    with hydra_raises() as asked:
        assert os.environ["HYDRA_FULL_ERROR"] == "1" and not asked
    assert "HYDRA_FULL_ERROR" not in os.environ
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    with hydra_raises() as asked:
        assert asked
    assert os.environ["HYDRA_FULL_ERROR"] == "1"


def hydra_run_dir(root: Path) -> Path:
    """A run directory as Hydra leaves it before calling the task."""
    run_dir = root / "outputs" / "iris" / "starting_kit" / "2026-01-01_00-00-00"
    (run_dir / ".hydra").mkdir(parents=True)
    for name in ("config.yaml", "hydra.yaml", "overrides.yaml"):
        (run_dir / ".hydra" / name).write_text("x: 1\n")
    (run_dir / "rampconf.log").write_text("")
    return run_dir


def test_discard_run_dir_removes_hydra_files_and_empty_parents(in_tmp):
    (in_tmp / "outputs" / "titanic").mkdir(parents=True)
    run_dir = hydra_run_dir(in_tmp)
    assert discard_run_dir(run_dir, ".hydra", str(run_dir / "rampconf.log"))
    assert not (in_tmp / "outputs" / "iris").exists()
    assert (in_tmp / "outputs" / "titanic").is_dir()  # not Hydra's: kept, so is outputs/


def test_discard_run_dir_keeps_anything_else(in_tmp):
    run_dir = hydra_run_dir(in_tmp)
    (run_dir / "config.yaml").write_text("ours\n")
    assert not discard_run_dir(run_dir, ".hydra", str(run_dir / "rampconf.log"))
    assert (run_dir / "config.yaml").is_file() and (run_dir / ".hydra").is_dir()


def test_discard_run_dir_outside_the_current_directory_keeps_its_parents(in_tmp, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    run_dir = hydra_run_dir(elsewhere)
    assert discard_run_dir(run_dir, ".hydra", "rampconf.log")
    assert not run_dir.exists() and run_dir.parent.is_dir()
