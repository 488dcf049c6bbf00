"""Plugin help generated from the registry: ``python -m rampconf --describe [KIND [NAME]]``."""

from __future__ import annotations

import pytest

from rampconf import registry
from rampconf.describe import describe, main
from rampconf.errors import ConfigError
from rampconf.plugin import describe_params

PARAM_KINDS = ("reader", "prediction", "score", "cv", "workflow")


def test_one_plugin_lists_type_default_constraints_and_description():
    text = describe("score", "f1_above")
    lines = text.splitlines()
    assert lines[0] == "score f1_above (rampconf_tabular.scores.F1Above)"
    assert lines[1] == "  Fraction of labels whose F1 score is strictly above a threshold."
    assert "  threshold: float, default 0.5, >= 0.0, <= 1.0" in lines
    assert "      a label counts when its F1 score is above this value" in lines
    assert text.endswith("set as problem.scores.KEY.PARAM (type: NAME; every score also "
                         "takes name and precision)")


def test_required_parameters_and_factories_are_shown():
    text = describe("reader", "csv")
    assert "  train: str, required" in text.splitlines()
    assert "  ignore: list[str], default []" in text.splitlines()
    assert "  groups: str | None, default null" in text.splitlines()
    assert "  iou_formula: 'exact' | 'ramp', default exact" in describe("prediction", "detection")


def test_plugin_without_parameters_says_so():
    assert describe("cv", "leave_one_group_out").splitlines()[2] == "  no parameters"


@pytest.mark.parametrize("kind", PARAM_KINDS)
def test_a_kind_lists_every_plugin_and_every_parameter(kind):
    text = describe(kind)
    for name in registry.available(kind):
        assert f"\n{kind} {name} (" in text, name
        for info in describe_params(registry.get(kind, name).Params):
            assert f"  {info.name}: {info.type}" in text, (name, info.name)
            assert info.description and info.description[:40] in text.replace("\n      ", " ")


def test_overview_lists_every_kind_and_plugin():
    text = describe()
    for kind in registry.KINDS:
        assert f"\n{kind}: set as " in text
        for name in registry.available(kind):
            assert f"\n  {name} " in text, (kind, name)


@pytest.mark.parametrize(("args", "message"), [
    (["scor"], "unknown plugin kind 'scor'; did you mean 'score'?"),
    (["score", "f1_abov"], "--describe score: unknown score 'f1_abov'; did you mean 'f1_above'?"),
], ids=["kind", "name"])
def test_unknown_kind_or_name_names_the_closest(args, message):
    with pytest.raises(ConfigError, match=message):
        describe(*args)


def test_main_exit_codes(capsys):
    assert main(["cv", "kfold"]) == 0
    assert "n_splits: int, default 5, >= 2" in capsys.readouterr().out
    assert main(["cv", "nope"]) == 2
    assert capsys.readouterr().err.startswith("config error: --describe cv: unknown cv 'nope'")
    assert main(["cv", "kfold", "extra"]) == 2
    assert "usage: python -m rampconf --describe [KIND [NAME]]" in capsys.readouterr().err
