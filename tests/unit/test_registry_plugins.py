"""Tests derived from the registry: every registered plugin (and every conf option) is checked.

A plugin is tested the day it is registered: the parameter lists below are
built from :mod:`rampconf.registry` and from ``conf/{score,cv,workflow}``.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf
from pydantic import BaseModel

from rampconf import registry
from rampconf.compat import compat_defaults
from rampconf.cv import BaseCV
from rampconf.datasets import BaseDataset
from rampconf.errors import ConfigError, RegistryError
from rampconf.plugin import Plugin, StrictModel, make_plugin
from rampconf.predictions import BasePrediction
from rampconf.readers import BaseReader
from rampconf.resources import packaged_conf_dir
from rampconf.scores import BaseScore
from rampconf.workflows import BaseWorkflow

CONF = packaged_conf_dir()
BASES: dict[str, type] = {
    "reader": BaseReader,
    "prediction": BasePrediction,
    "score": BaseScore,
    "cv": BaseCV,
    "workflow": BaseWorkflow,
    "dataset": BaseDataset,
}
#: Kinds whose plugins take validated parameters (a ``Params`` model).
PARAM_KINDS = tuple(kind for kind in registry.KINDS if issubclass(BASES[kind], Plugin))
#: Keyword arguments of a plugin's constructor beyond its parameters.
CONTEXT: dict[str, dict[str, Any]] = {"reader": {"data_root": Path(".")}}
#: Conf groups whose options are plugin choices, and the keys that are not plugin parameters.
OPTION_KINDS = ("score", "cv", "workflow")
NOT_PARAMS = {"type", "name", "precision"}
#: A value that no scalar, list or tuple field accepts.
NESTED_DICT = {"a": {"b": 1}}
#: A value that no mapping field accepts.
NOT_A_MAPPING = "not a mapping"

ALL_PLUGINS = [(kind, name) for kind in registry.KINDS for name in registry.available(kind)]
ALL_IDS = [f"{kind}-{name}" for kind, name in ALL_PLUGINS]
PLUGINS = [(kind, name) for kind, name in ALL_PLUGINS if kind in PARAM_KINDS]
PLUGIN_IDS = [f"{kind}-{name}" for kind, name in PLUGINS]


def _params(kind: str, name: str) -> type[BaseModel]:
    return registry.get(kind, name).Params


WITH_FIELDS = [(kind, name) for kind, name in PLUGINS if _params(kind, name).model_fields]
FIELDS = [(kind, name, field) for kind, name in WITH_FIELDS
          for field in _params(kind, name).model_fields]
OPTIONS = sorted((kind, path) for kind in OPTION_KINDS for path in (CONF / kind).glob("*.yaml"))


def _is_mapping_field(annotation: Any) -> bool:
    """True when the field's type (or a member of its union) is a mapping."""
    origin = typing.get_origin(annotation)
    if origin in (dict, Mapping) or annotation in (dict, Mapping):
        return True
    return any(_is_mapping_field(arg) for arg in typing.get_args(annotation)
               if origin is not None and origin not in (list, tuple, set, frozenset))


def _wrong_value(kind: str, name: str, field: str) -> Any:
    annotation = _params(kind, name).model_fields[field].annotation
    return NOT_A_MAPPING if _is_mapping_field(annotation) else NESTED_DICT


def _load_option(path: Path) -> dict[str, Any]:
    """A conf option resolved with ``seed=42``; ``???`` (mandatory) values are dropped."""
    cfg = OmegaConf.merge({"seed": 42}, OmegaConf.load(path))
    missing = {key for key in cfg if OmegaConf.is_missing(cfg, key)}
    raw = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(raw, dict)
    del raw["seed"]
    return {"_missing": missing, **{k: v for k, v in raw.items() if k not in missing}}


# --------------------------------------------------------------------------- classes


def test_every_kind_has_a_base_class():
    assert set(BASES) == set(registry.KINDS)


@pytest.mark.parametrize(("kind", "name"), ALL_PLUGINS, ids=ALL_IDS)
def test_plugin_class_derives_from_its_base(kind, name):
    cls = registry.get(kind, name)
    assert isinstance(cls, type)
    assert issubclass(cls, BASES[kind])


@pytest.mark.parametrize(("kind", "name"), ALL_PLUGINS, ids=ALL_IDS)
def test_plugin_class_has_its_own_docstring(kind, name):
    cls = registry.get(kind, name)
    # A class's __doc__ is not inherited: this is the plugin's own docstring.
    assert cls.__doc__ and cls.__doc__.strip(), f"{cls.__qualname__} has no docstring"


@pytest.mark.parametrize(("kind", "name", "field"), FIELDS,
                         ids=[f"{k}-{n}-{f}" for k, n, f in FIELDS])
def test_every_parameter_has_a_description(kind, name, field):
    """The help (``--describe``, docstrings) is generated from ``Field(description=...)``."""
    description = _params(kind, name).model_fields[field].description
    assert description and description.strip(), \
        f"{kind} {name}: parameter {field} has no Field(description=...)"


@pytest.mark.parametrize(("kind", "name"), WITH_FIELDS,
                         ids=[f"{kind}-{name}" for kind, name in WITH_FIELDS])
def test_docstring_lists_the_parameters(kind, name):
    doc = registry.get(kind, name).__doc__
    assert "\nParameters\n----------\n" in doc
    for field in _params(kind, name).model_fields:
        assert f"\n{field} : " in doc, field


@pytest.mark.parametrize(("kind", "name"), PLUGINS, ids=PLUGIN_IDS)
def test_plugin_params_is_strict_frozen_pydantic_model(kind, name):
    params = _params(kind, name)
    assert isinstance(params, type) and issubclass(params, BaseModel)
    assert params.model_config.get("extra") == "forbid"
    assert params.model_config.get("frozen") is True


@pytest.mark.parametrize(("kind", "name"), ALL_PLUGINS, ids=ALL_IDS)
def test_get_returns_the_class_its_entry_point_names(kind, name):
    """``registry.get`` gives the object ``module:attribute`` of the entry point, imported."""
    import importlib
    from importlib.metadata import entry_points

    (point,) = entry_points(group=registry.ENTRY_POINT_GROUPS[kind], name=name)
    module, _, attribute = point.value.partition(":")
    expected = importlib.import_module(module)
    for part in attribute.split("."):
        expected = getattr(expected, part)
    assert registry.get(kind, name) is expected
    assert expected.__name__ == attribute.split(".")[-1]


# --------------------------------------------------------------------------- conf options


def test_conf_options_found():
    assert {kind for kind, _ in OPTIONS} == set(OPTION_KINDS)


@pytest.mark.parametrize(("kind", "path"), OPTIONS, ids=[f"{k}-{p.stem}" for k, p in OPTIONS])
def test_conf_option_type_is_registered(kind, path):
    option = _load_option(path)
    assert option["type"] in registry.available(kind), \
        f"{path.name}: type {option['type']!r} is not a registered {kind}"


@pytest.mark.parametrize(("kind", "path"), OPTIONS, ids=[f"{k}-{p.stem}" for k, p in OPTIONS])
def test_conf_option_parameters_validate(kind, path):
    option = _load_option(path)
    missing = option.pop("_missing")
    params = {k: v for k, v in option.items() if k not in NOT_PARAMS}
    assert not missing & NOT_PARAMS
    cls = registry.get(kind, option["type"])
    if not missing:
        plugin = make_plugin(kind, option["type"], params, "x", BASES[kind])
        assert isinstance(plugin, cls)
        assert set(plugin.params.model_dump()) == set(cls.Params.model_fields)
        dumped = plugin.params.model_dump()
        left_to_compat = compat_defaults(cls.Params, "ramp")
        for key, value in params.items():
            if value is None and key in left_to_compat:  # null: the field's own default
                value = cls.Params.model_fields[key].default
            assert dumped[key] == value, key
        return
    # A mandatory value (``???``) must be a required parameter, and the only thing missing.
    for key in missing:
        assert cls.Params.model_fields[key].is_required(), f"{path.name}: {key} is ??? " \
            "but the plugin gives it a default"
    with pytest.raises(ConfigError) as info:
        make_plugin(kind, option["type"], params, "x", BASES[kind])
    assert sorted(info.value.lines) == sorted(f"x.{key}: required key is missing"
                                              for key in missing)


@pytest.mark.parametrize("kind", OPTION_KINDS)
def test_every_registered_plugin_has_a_conf_option(kind):
    stems = {path.stem: path for k, path in OPTIONS if k == kind}
    without = sorted(set(registry.available(kind)) - set(stems))
    assert not without, f"registered {kind} plugins without conf/{kind}/NAME.yaml: {without}"
    for name in registry.available(kind):
        assert _load_option(stems[name])["type"] == name, stems[name]


# --------------------------------------------------------------------------- bad parameters


@pytest.mark.parametrize(("kind", "name"), WITH_FIELDS,
                         ids=[f"{kind}-{name}" for kind, name in WITH_FIELDS])
def test_unknown_key_rejected_with_path_and_parameters(kind, name):
    path = f"problem.{kind}.x"
    with pytest.raises(ConfigError) as info:
        make_plugin(kind, name, {"no_such_key": 1}, path, BASES[kind], **CONTEXT.get(kind, {}))
    lines = [line for line in info.value.lines if line.startswith(f"{path}.no_such_key: ")]
    assert len(lines) == 1, info.value.lines
    line = lines[0]
    assert line.startswith(f"{path}.no_such_key: unknown key")
    cls = registry.get(kind, name)
    assert f"parameters of {cls.__name__}: " in line
    for field in cls.Params.model_fields:
        assert field in line.split("parameters of", 1)[1], (field, line)


def test_unknown_key_line_example():
    with pytest.raises(ConfigError) as info:
        make_plugin("score", "f1_above", {"no_such_key": 1}, "problem.scores.x", BaseScore)
    assert info.value.lines == [
        "problem.scores.x.no_such_key: unknown key, got 1 (parameters of F1Above: threshold)"]
    assert str(info.value) == info.value.lines[0]


def test_unknown_key_of_plugin_without_parameters_says_none():
    with pytest.raises(ConfigError) as info:
        make_plugin("cv", "leave_one_group_out", {"n_splits": 3}, "cv", BaseCV)
    assert info.value.lines == [
        "cv.n_splits: unknown key, got 3 (parameters of LeaveOneGroupOut: none)"]


@pytest.mark.parametrize(("kind", "name", "field"), FIELDS,
                         ids=[f"{k}-{n}-{f}" for k, n, f in FIELDS])
def test_wrong_typed_value_rejected_naming_the_field(kind, name, field):
    path = f"problem.{kind}.x"
    value = _wrong_value(kind, name, field)
    with pytest.raises(ConfigError) as info:
        make_plugin(kind, name, {field: value}, path, BASES[kind], **CONTEXT.get(kind, {}))
    about = [line for line in info.value.lines
             if line.startswith((f"{path}.{field}:", f"{path}.{field}."))]
    assert about, info.value.lines
    assert all(f"got {value!r}" in line for line in about), about
    # Only the wrong field and required keys left out are reported.
    others = [line for line in info.value.lines if line not in about]
    assert all(line.endswith(": required key is missing") for line in others), others


def _values_may_be_mappings(annotation: Any) -> bool:
    """True when a mapping field's values may be mappings (``dict[str, Any]``), not only
    scalars (``dict[str | int, str | int]``, which rejects the nested dict too)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (dict, Mapping):
        return not args or args[1] is Any or _is_mapping_field(args[1])
    return any(_values_may_be_mappings(arg) for arg in args
               if origin is not None and origin not in (list, tuple, set, frozenset))


MAPPING_FIELDS = [f for f in FIELDS if _wrong_value(*f) is NOT_A_MAPPING
                  and _values_may_be_mappings(_params(f[0], f[1]).model_fields[f[2]].annotation)]


@pytest.mark.parametrize(("kind", "name", "field"), MAPPING_FIELDS,
                         ids=[f"{k}-{n}-{f}" for k, n, f in MAPPING_FIELDS])
def test_mapping_fields_accept_the_nested_dict(kind, name, field):
    """The nested dict is a valid mapping: such fields are given a string as the wrong value."""
    path = f"problem.{kind}.x"
    try:
        make_plugin(kind, name, {field: NESTED_DICT}, path, BASES[kind], **CONTEXT.get(kind, {}))
    except ConfigError as exc:
        assert not [line for line in exc.lines if line.startswith(f"{path}.{field}")], exc.lines


@pytest.mark.parametrize(("kind", "name", "field", "value"), [
    ("cv", "shuffle_split", "test_size", "a lot"),
    ("reader", "csv", "target", 3.5),
    ("score", "brier_score_reliability", "bins", "ten"),
], ids=["shuffle_split-test_size", "csv-target", "brier_score_reliability-bins"])
def test_union_field_error_names_the_key_path_only(kind, name, field, value):
    """Key paths in errors are real keys: no pydantic union member tags (``.float``, ``.int``)."""
    path = f"problem.{kind}.x"
    with pytest.raises(ConfigError) as info:
        make_plugin(kind, name, {field: value}, path, BASES[kind], **CONTEXT.get(kind, {}))
    about = [line for line in info.value.lines if line.startswith(f"{path}.{field}")]
    assert about, info.value.lines
    for line in about:
        assert line.startswith(f"{path}.{field}: "), line


# --------------------------------------------------------------------------- lookup


def test_get_unknown_name_suggests_closest_and_lists_sorted_names():
    with pytest.raises(RegistryError) as info:
        registry.get("score", "acuracy")
    message = str(info.value)
    assert "did you mean 'accuracy'" in message
    names = registry.available("score")
    assert names == sorted(names)
    assert message.endswith("valid names: " + ", ".join(names))
    assert "'acuracy'" in message


def test_get_unknown_name_without_close_match():
    with pytest.raises(RegistryError) as info:
        registry.get("cv", "zzzzzzzz")
    assert "did you mean" not in str(info.value)
    assert ", ".join(registry.available("cv")) in str(info.value)


def test_registry_error_is_a_config_error():
    assert issubclass(RegistryError, ConfigError)


def test_make_plugin_unknown_name_names_the_key_path():
    with pytest.raises(RegistryError) as info:
        make_plugin("score", "acuracy", {}, "problem.scores.acc", BaseScore)
    assert str(info.value).startswith("problem.scores.acc: unknown score 'acuracy'")
    assert "did you mean 'accuracy'" in str(info.value)


def test_make_plugin_rejects_wrong_base():
    with pytest.raises(ConfigError) as info:
        make_plugin("score", "accuracy", {}, "cv", BaseCV)
    assert str(info.value).startswith("cv: plugin 'accuracy' of kind score")
    assert "not a BaseCV" in str(info.value)


def test_unknown_kind_rejected():
    with pytest.raises(ValueError, match="unknown plugin kind 'scorer'"):
        registry.available("scorer")
    with pytest.raises(ValueError, match="kinds are reader, prediction, score, cv, workflow"):
        registry.get("scorer", "accuracy")


@pytest.fixture
def runtime_registry(monkeypatch):
    """A private copy of the run-time registrations, restored after the test."""
    monkeypatch.setattr(registry, "_runtime", {kind: {} for kind in registry.KINDS})


def test_register_adds_a_runtime_plugin(runtime_registry):
    @registry.register("score", "always_one")
    class AlwaysOne(BaseScore):
        """Scores one, whatever the predictions."""

        class Params(StrictModel):
            offset: float = 0.0

        def score(self, y_true, y_pred):
            return 1.0 + self.params.offset

    assert "always_one" in registry.available("score")
    assert registry.available("score") == sorted(registry.available("score"))
    assert registry.get("score", "always_one") is AlwaysOne
    score = make_plugin("score", "always_one", {"offset": 0.5}, "problem.scores.one", BaseScore,
                        name="one")
    assert isinstance(score, AlwaysOne)
    assert score.name == "one"
    assert score([0], [[1.0]]) == 1.5
    with pytest.raises(ConfigError, match=r"problem.scores.one.offst: unknown key"):
        make_plugin("score", "always_one", {"offst": 1}, "problem.scores.one", BaseScore)


def test_runtime_registration_shadows_entry_point(runtime_registry):
    original = registry.get("cv", "kfold")

    @registry.register("cv", "kfold")
    class MyKFold(BaseCV):
        """A replacement of the built-in kfold."""

    assert registry.get("cv", "kfold") is MyKFold
    assert registry.available("cv").count("kfold") == 1
    assert original is not MyKFold


def test_runtime_registration_lives_only_in_the_runtime_mapping():
    """Restoring the run-time mapping (as the fixture does) undoes a registration whole:
    nothing of it stays cached, and the entry point it shadowed is back."""
    original = registry.get("cv", "kfold")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry, "_runtime", {kind: {} for kind in registry.KINDS})

        @registry.register("cv", "kfold")
        @registry.register("score", "always_two")
        class Two:
            """Registered under two kinds for this test only."""

        assert registry.get("score", "always_two") is Two
        assert registry.get("cv", "kfold") is Two
    assert "always_two" not in registry.available("score")
    with pytest.raises(RegistryError, match="unknown score 'always_two'"):
        registry.get("score", "always_two")
    assert registry.get("cv", "kfold") is original
