"""Scaling options checked before anything runs: storage URLs for PostgreSQL, backend=dask."""

from __future__ import annotations

import importlib.util

import pytest

from rampconf.errors import ConfigError
from rampconf.schema import validate_config
from rampconf.trial import engine_url


def test_a_plain_postgresql_url_uses_psycopg_3_when_psycopg2_is_absent():
    url = "postgresql://me:secret@dbhost:5432/optuna"
    expected = url if importlib.util.find_spec("psycopg2") else \
        "postgresql+psycopg://me:secret@dbhost:5432/optuna"
    assert engine_url(url) == expected
    assert engine_url("postgresql+psycopg://me@h/db") == "postgresql+psycopg://me@h/db"
    assert engine_url("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db"


def raw(**options) -> dict:
    from rampconf.api import compose

    composed = {k: v for k, v in compose(["problem=iris"]).items() if k != "hydra_run_dir"}
    return {**composed, **options}


@pytest.mark.parametrize(("options", "message"), [
    ({"backend": "dask"}, "backend=dask needs dask_address"),
    ({"backend": "dask", "dask_address": "tcp://127.0.0.1:8786", "unsafe_in_process": True},
     "choose one"),
    ({"backend": "ray"}, "backend"),
])
def test_bad_backend_settings_are_refused(options, message):
    with pytest.raises(ConfigError) as info:
        validate_config(raw(**options))
    assert message in str(info.value)


def test_backend_dask_with_an_address_is_valid():
    config = validate_config(raw(backend="dask", dask_address="tcp://127.0.0.1:8786"))
    assert config.backend == "dask" and config.dask_address == "tcp://127.0.0.1:8786"
    assert validate_config(raw()).backend == "local"
