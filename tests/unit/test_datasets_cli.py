"""``rampconf-data NAME ACTION [options]``: each data set takes the options its methods take."""

from __future__ import annotations

import pytest

from rampconf import registry
from rampconf.datasets import ACTIONS, action_options, main, parse_arguments
from rampconf.errors import ConfigError

DATASETS = registry.available("dataset")


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_of_every_data_set_parses_its_defaults(name, action, tmp_path):
    got_name, got_action, root, options = parse_arguments([name, action, "--data-root",
                                                           str(tmp_path)])
    assert (got_name, got_action, root) == (name, action, tmp_path)
    assert set(options) <= set(action_options(registry.get("dataset", name), action))


def test_options_come_from_the_method_signature():
    mars = registry.get("dataset", "mars_craters")
    assert list(action_options(mars, "check")) == ["mini"]
    assert list(action_options(registry.get("dataset", "higgs_toy"), "check")) == []
    assert {"n_train", "n_test", "seed", "size", "names"} == \
        set(action_options(mars, "generate"))


def test_an_option_reaches_the_method_with_its_type(tmp_path):
    _, _, _, options = parse_arguments(["mars_craters", "generate", "--n-train", "5",
                                        "--size", "32", "--names", "mini"])
    assert options == {"n_train": 5, "n_test": 100, "seed": 0, "size": 32, "names": "mini"}
    assert parse_arguments(["mars_craters", "check", "--mini"])[3] == {"mini": True}


@pytest.mark.parametrize(("argv", "expected"), [
    (["higgs_toy", "check", "--mini"],
     "rampconf-data higgs_toy check: unknown option '--mini'; options of higgs_toy check: "
     "--data-root, --quiet"),
    (["mars_craters", "generate", "--siz", "3"],
     "rampconf-data mars_craters generate: unknown option '--siz'; did you mean '--size'?"),
    (["light_curves", "generate", "--size", "3"],
     "rampconf-data light_curves generate: unknown option '--size'"),
    (["higgs_toy", "chek"], "rampconf-data higgs_toy: unknown action 'chek'; did you mean "
                            "'check'?"),
    (["--mini", "higgs_toy", "check"], "rampconf-data: "),
    (["higgs_toy", "generate", "--n-train", "ten"],
     "rampconf-data higgs_toy generate: argument --n-train: invalid int value: 'ten'"),
], ids=["option-of-another-data-set", "no-abbreviation", "option-of-another-action",
        "unknown-action", "options-first", "bad-type"])
def test_bad_command_lines_are_one_line_config_errors(argv, expected):
    with pytest.raises(ConfigError) as info:
        parse_arguments(argv)
    assert str(info.value).startswith(expected), str(info.value)
    assert "\n" not in str(info.value)


def test_quiet_is_understood_by_every_action_and_reaches_only_those_that_take_it():
    assert parse_arguments(["higgs_toy", "check", "--quiet"])[3] == {}
    assert parse_arguments(["mars_craters", "download", "--quiet"])[3]["quiet"] is True


def test_main_prints_one_line_and_exits_2(capsys):
    assert main(["higgs_toy", "check", "--mini"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_mars_mini_files_are_checked_with_mini(kits, capsys):
    assert main(["mars_craters", "check", "--mini", "--data-root", str(kits)]) == 0
