"""The plugin base class: a plugin names its parameter model once, as a type argument."""

from __future__ import annotations

from typing import TypeVar

import pytest
from pydantic import BaseModel, Field

from rampconf import registry
from rampconf.plugin import NoParams, StrictModel, make_plugin, params_docstring
from rampconf.scores import BaseScore


class OffsetParams(StrictModel):
    offset: float = Field(0.0, ge=0, description="added to every score")


class Offset(BaseScore[OffsetParams]):
    """Scores ``offset``."""

    def score(self, y_true, y_pred):
        return self.params.offset


class Bare(BaseScore):
    """Scores zero; takes no parameters."""

    def score(self, y_true, y_pred):
        return 0.0


class LargeOffsetParams(OffsetParams):
    scale: float = Field(1.0, description="multiplies the offset")


OffsetT = TypeVar("OffsetT", bound=OffsetParams)


class GenericOffset(BaseScore[OffsetT]):
    """A base to extend with more parameters."""

    def score(self, y_true, y_pred):
        return self.params.offset


class Scaled(GenericOffset[LargeOffsetParams]):
    """Scores ``offset * scale``."""

    def score(self, y_true, y_pred):
        return self.params.offset * self.params.scale


class Unfinished(BaseScore[OffsetParams]):
    """Forgets to implement ``score``."""


def test_params_comes_from_the_type_argument():
    assert Offset.Params is OffsetParams
    assert Offset(OffsetParams(offset=2.0))([0], [0]) == 2.0
    assert Offset().params == OffsetParams()


def test_without_a_type_argument_the_plugin_takes_no_parameters():
    assert Bare.Params is NoParams
    assert BaseScore.Params is NoParams
    assert Bare().params == NoParams()


def test_a_generic_base_takes_its_bound_and_subclasses_narrow_it():
    assert GenericOffset.Params is OffsetParams
    assert Scaled.Params is LargeOffsetParams
    assert Scaled(LargeOffsetParams(offset=2.0, scale=3.0))([0], [0]) == 6.0


def test_a_subclass_that_names_no_model_inherits_it():
    class Twice(Offset):
        """Twice the offset."""

    assert Twice.Params is OffsetParams


def test_the_docstring_gets_a_generated_parameters_section():
    assert Offset.__doc__.startswith("Scores ``offset``.\n\nParameters\n----------\n")
    assert "offset : float, >= 0, default 0.0\n    added to every score" in Offset.__doc__
    assert params_docstring(LargeOffsetParams).endswith(
        "scale : float, default 1.0\n    multiplies the offset")
    assert "Parameters" not in Bare.__doc__


def test_the_model_must_be_a_strict_model():
    class Loose(BaseModel):
        x: int = 0

    with pytest.raises(TypeError, match="must be a StrictModel subclass"):
        class Bad(BaseScore[Loose]):
            """Bad."""


def test_params_is_read_only():
    score = Offset()
    with pytest.raises(AttributeError):
        score.params = OffsetParams(offset=1.0)


@pytest.fixture
def runtime_registry(monkeypatch):
    monkeypatch.setattr(registry, "_runtime", {kind: {} for kind in registry.KINDS})


def test_make_plugin_validates_with_the_type_argument(runtime_registry):
    registry.register("score", "scaled")(Scaled)
    score = make_plugin("score", "scaled", {"offset": 1.5, "scale": 2}, "problem.scores.s",
                        BaseScore, name="s")
    assert isinstance(score.params, LargeOffsetParams) and score([0], [0]) == 3.0


def test_make_plugin_names_the_method_a_plugin_leaves_abstract(runtime_registry):
    registry.register("score", "unfinished")(Unfinished)
    with pytest.raises(TypeError, match=r"plugin 'unfinished' of kind score .* does not "
                                        r"implement score, which BaseScore requires"):
        make_plugin("score", "unfinished", {}, "problem.scores.u", BaseScore)


def test_a_params_in_the_body_must_agree_with_the_type_argument():
    class Other(StrictModel):
        x: int = Field(0, description="x")

    with pytest.raises(TypeError, match="is not a subclass of the type argument OffsetParams"):
        class Both(BaseScore[OffsetParams]):
            """Names two models."""

            Params = Other
