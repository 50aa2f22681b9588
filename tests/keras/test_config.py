"""keras.config: defaults, setters and their errors (against Keras 3 when installed)."""

from __future__ import annotations

import json
import os

import pytest

import rill
from rill.keras import config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


@pytest.fixture(autouse=True)
def restore():
    saved = dict(vars(config._Settings))
    yield
    for k, v in saved.items():
        if not k.startswith("__"):
            setattr(config._Settings, k, v)


def test_every_name_and_defaults():
    names = json.load(open(os.path.join(ROOT, "tools", "api", "tf-2.21.json")))["namespaces"]
    assert [n for n in names["keras.config"] if not hasattr(rill.keras.config, n)] == []
    assert config.floatx() == "float32" and config.epsilon() == 1e-7
    assert config.image_data_format() == "channels_last" and config.backend() == "tensorflow"
    assert config.is_flash_attention_enabled() is None and config.is_nnx_enabled() is False
    assert config.is_traceback_filtering_enabled() and config.is_interactive_logging_enabled()
    assert config.max_epochs() is None and config.max_steps_per_epoch() is None


def test_setters():
    config.set_floatx("float64")
    assert config.floatx() == "float64"
    assert rill.keras.ops.zeros(2).dtype == rill.float64
    config.set_epsilon(1e-3)
    assert config.epsilon() == 1e-3
    config.set_image_data_format("CHANNELS_FIRST")
    assert config.image_data_format() == "channels_first"
    config.disable_flash_attention()
    assert config.is_flash_attention_enabled() is False
    config.enable_flash_attention()
    assert config.is_flash_attention_enabled() is None
    config.disable_traceback_filtering()
    assert not config.is_traceback_filtering_enabled()
    config.disable_interactive_logging()
    assert not config.is_interactive_logging_enabled()
    config.set_max_epochs(3)
    config.set_max_steps_per_epoch(5)
    assert (config.max_epochs(), config.max_steps_per_epoch()) == (3, 5)
    config.set_backend("tensorflow")
    config.enable_unsafe_deserialization()
    from rill.keras.saving import serialization_lib

    assert serialization_lib.in_safe_mode() is False
    serialization_lib._safe_mode.value = None


def test_dtype_policy():
    assert config.dtype_policy().name == "float32"
    config.set_dtype_policy("mixed_float16")
    p = config.dtype_policy()
    assert (p.name, p.compute_dtype, p.variable_dtype) == ("mixed_float16", "float16", "float32")
    assert p.get_config() == {"name": "mixed_float16"}
    config.set_dtype_policy(config.DTypePolicy("bfloat16"))
    assert config.dtype_policy().compute_dtype == "bfloat16"


CALLS = [
    ("set_floatx", ("int32",)), ("set_floatx", ("float8",)), ("set_image_data_format", ("x",)),
    ("set_dtype_policy", (3,)), ("set_dtype_policy", ("mixed_int8",)),
    ("set_dtype_policy", ("not_a_dtype",)),
]  # fmt: skip


@pytest.mark.parametrize("call", CALLS, ids=[c[0] + "-" + str(c[1][0]) for c in CALLS])
def test_errors_match_keras(call):
    keras = pytest.importorskip("keras")
    from tests.tf_errors import assert_same_error

    name, args = call
    with pytest.raises(Exception) as ref:
        getattr(keras.config, name)(*args)
    with pytest.raises(Exception) as got:
        getattr(config, name)(*args)
    assert_same_error(got.value, ref.value, name)


def test_values_match_keras():
    keras = pytest.importorskip("keras")
    for name in ("floatx", "epsilon", "image_data_format", "backend", "is_flash_attention_enabled",
                 "is_nnx_enabled", "is_traceback_filtering_enabled", "max_epochs",
                 "max_steps_per_epoch", "is_interactive_logging_enabled"):  # fmt: skip
        assert getattr(config, name)() == getattr(keras.config, name)(), name
    assert config.dtype_policy().name == keras.config.dtype_policy().name
