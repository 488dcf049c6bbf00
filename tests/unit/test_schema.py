"""The run configuration schema: validation of the composed config, one line per problem."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

import rampconf
from rampconf.errors import ConfigError
from rampconf.schema import CVSpec, RunConfig, WorkflowSpec, validate_config


@pytest.fixture(scope="module")
def composed() -> dict[str, Any]:
    raw = rampconf.compose([])
    assert "hydra_run_dir" in raw
    return {k: v for k, v in raw.items() if k != "hydra_run_dir"}


@pytest.fixture
def raw(composed) -> dict[str, Any]:
    return copy.deepcopy(composed)


def errors(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        validate_config(raw)
    assert str(info.value) == info.value.lines[0]
    return info.value.lines


# --------------------------------------------------------------------------- valid


def test_default_config_validates(raw):
    config = validate_config(raw)
    assert isinstance(config, RunConfig)
    assert config.problem.name == "iris"
    assert config.submission.name == "starting_kit"
    assert config.seed == 42 and config.n_jobs == 1
    assert next(iter(config.problem.scores)) == "acc"  # the official score comes first
    assert config.problem.scores["acc"].type == "accuracy"
    assert config.problem.scores["f1_70"].plugin_params() == {"threshold": 0.7}
    assert config.problem.scores["acc"].plugin_params() == {}
    assert config.problem.data.reader == "sklearn"
    assert config.problem.data.plugin_params() == {"dataset": "iris", "test_size": 0.2,
                                                   "random_state": 57}
    assert config.problem.prediction.plugin_params() == {
        "labels": ["setosa", "versicolor", "virginica"]}
    assert config.problem.submissions_folder == "iris"


def test_hydra_key_ignored(raw):
    raw["hydra"] = {"run": {"dir": "x"}}
    assert isinstance(validate_config(raw), RunConfig)


@pytest.mark.parametrize(("attribute", "value"), [
    ("seed", 1), ("n_jobs", 2), ("problem", None), ("data_root", "elsewhere")])
def test_run_config_is_frozen(raw, attribute, value):
    config = validate_config(raw)
    with pytest.raises(ValidationError, match="frozen"):
        setattr(config, attribute, value)


def test_nested_configs_are_frozen(raw):
    config = validate_config(raw)
    with pytest.raises(ValidationError, match="frozen"):
        config.problem.name = "other"
    with pytest.raises(ValidationError, match="frozen"):
        config.problem.cv.type = "kfold"
    with pytest.raises(ValidationError, match="frozen"):
        config.submission.name = "other"


def test_workflow_and_cv_fall_back_to_the_problems(raw):
    config = validate_config(raw)
    assert config.workflow is None and config.cv is None
    assert config.workflow_spec == WorkflowSpec(type="estimator")
    assert config.workflow_spec is config.problem.workflow
    assert config.cv_spec is config.problem.cv
    assert config.cv_spec.type == "stratified_shuffle_split"
    assert config.cv_spec.plugin_params() == {"n_splits": 2, "test_size": 0.2,
                                              "train_size": None, "random_state": 57}


def test_workflow_and_cv_chosen_on_the_command_line_win(raw):
    raw["workflow"] = {"type": "classifier"}
    raw["cv"] = {"type": "kfold", "n_splits": 3}
    config = validate_config(raw)
    assert config.workflow_spec == WorkflowSpec(type="classifier")
    assert config.cv_spec == CVSpec(type="kfold", n_splits=3)
    assert config.cv_spec.plugin_params() == {"n_splits": 3}
    assert config.problem.cv.type == "stratified_shuffle_split"


def test_composed_overrides_validate():
    raw = rampconf.compose(["cv=kfold", "workflow=classifier", "seed=7"])
    raw.pop("hydra_run_dir")
    config = validate_config(raw)
    assert config.cv_spec.type == "kfold"
    assert config.cv_spec.plugin_params()["random_state"] == 7
    assert config.workflow_spec.type == "classifier"


def test_workflow_given_as_mapping_in_problem(raw):
    raw["problem"]["workflow"] = {"type": "regressor"}
    assert validate_config(raw).workflow_spec.type == "regressor"


@pytest.mark.parametrize("n_jobs", [-1, 1, 8])
def test_n_jobs_accepted(raw, n_jobs):
    raw["n_jobs"] = n_jobs
    assert validate_config(raw).n_jobs == n_jobs


# --------------------------------------------------------------------------- errors


def test_several_errors_one_line_each(raw):
    raw["n_jobs"] = 0
    raw["seed"] = -1
    raw["colour"] = "red"
    lines = errors(raw)
    assert len(lines) == 3
    assert lines[0].startswith("n_jobs: ")
    assert "n_jobs must be a positive number of workers or -1 for all cores" in lines[0]
    assert lines[0].endswith("got 0")
    assert "seed: input should be greater than or equal to 0, got -1" in lines
    assert "colour: unknown key, got 'red'" in lines


@pytest.mark.parametrize(("path", "value", "line"), [
    (("seed",), "abc", "seed: input should be a valid integer, unable to parse string as an "
                       "integer, got 'abc'"),
    (("retrain",), "maybe", "retrain: input should be a valid boolean, unable to interpret "
                            "input, got 'maybe'"),
    (("problem", "name"), "has space", "problem.name: string should match pattern "
                                       "'^[A-Za-z0-9_][A-Za-z0-9_.-]*$', got 'has space'"),
    (("submission", "name"), "../up", "submission.name: string should match pattern "
                                      "'^[A-Za-z0-9_][A-Za-z0-9_.-]*$', got '../up'"),
    (("problem", "scores", "acc", "precision"), 20,
     "problem.scores.acc.precision: input should be less than or equal to 15, got 20"),
    (("problem", "shape"), "round", "problem.shape: unknown key, got 'round'"),
    (("submission", "colour"), 1, "submission.colour: unknown key, got 1"),
], ids=["seed-text", "retrain-text", "problem-name", "submission-name", "precision",
        "problem-unknown", "submission-unknown"])
def test_error_line_names_key_path(raw, path, value, line):
    target = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert errors(raw) == [line]


@pytest.mark.parametrize(("path", "line"), [
    (("data_root",), "data_root: required key is missing"),
    (("problem", "data"), "problem.data: required key is missing"),
    (("problem", "data", "reader"), "problem.data.reader: required key is missing"),
    (("problem", "prediction", "type"), "problem.prediction.type: required key is missing"),
    (("problem", "scores", "acc", "type"), "problem.scores.acc.type: required key is missing"),
    (("problem", "cv", "type"), "problem.cv.type: required key is missing"),
], ids=lambda v: ".".join(v) if isinstance(v, tuple) else "")
def test_missing_key_named(raw, path, line):
    target = raw
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    assert errors(raw) == [line]


def test_empty_scores_rejected(raw):
    raw["problem"]["scores"] = {}
    lines = errors(raw)
    assert len(lines) == 1
    assert lines[0].startswith("problem.scores: ")
    assert "at least 1 item" in lines[0]


def test_n_jobs_zero_rejected_alone(raw):
    raw["n_jobs"] = 0
    assert errors(raw) == ["n_jobs: value error, n_jobs must be a positive number of workers "
                           "or -1 for all cores, got 0"]
