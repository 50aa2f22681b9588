"""tf.debugging.enable_check_numerics / disable_check_numerics and the device placement
log: real checks of op outputs, eagerly and in functions traced while enabled."""

from __future__ import annotations

import numpy as np
import pytest

import rill
from rill.core import dispatch
from rill.errors import InvalidArgumentError


@pytest.fixture
def numerics():
    rill.debugging.enable_check_numerics()
    yield
    rill.debugging.disable_check_numerics()


def test_eager_op_with_nan_output_raises_naming_the_op(numerics):
    assert float(rill.math.log(2.0)) == pytest.approx(np.log(2.0))
    with pytest.raises(InvalidArgumentError, match=r'output 0 of eagerly-executing op "Log"') as e:
        rill.math.log(rill.constant([-1.0, 1.0]))
    msg = str(e.value)
    assert "# of +NaN elements: 1" in msg and "shape: (2,)" in msg and "Tensor had NaN" in msg
    with pytest.raises(InvalidArgumentError, match=r"# of \+Inf elements: 1"):
        rill.constant([1.0, 2.0]) / rill.constant([0.0, 1.0])
    # integer outputs are not checked (integer division by zero is not NaN/Inf)
    rill.constant([3, 4]) + rill.constant([1, 2])


def test_functions_traced_while_enabled_check_their_outputs(numerics):
    @rill.function(autograph=False)
    def f(x):
        return rill.sqrt(x) * 2.0

    np.testing.assert_allclose(f(rill.constant([4.0])).numpy(), [4.0])
    with pytest.raises(InvalidArgumentError, match=r'graph op "Sqrt"'):
        f(rill.constant([-1.0]))


def test_gradients_still_flow_and_disable_restores_the_fast_path():
    before = dispatch._slow
    rill.debugging.enable_check_numerics()
    rill.debugging.enable_check_numerics()  # idempotent
    try:
        x = rill.constant([1.0, 4.0])
        with rill.GradientTape() as tape:
            tape.watch(x)
            y = rill.reduce_sum(rill.sqrt(x))
        np.testing.assert_allclose(tape.gradient(y, x).numpy(), 0.5 / np.sqrt([1.0, 4.0]))
    finally:
        rill.debugging.disable_check_numerics()
    assert dispatch._slow == before
    assert np.isnan(rill.math.log(-1.0).numpy())  # unchecked again


def test_log_device_placement(capsys):
    assert rill.debugging.get_log_device_placement() is False
    rill.debugging.set_log_device_placement(True)
    try:
        assert rill.debugging.get_log_device_placement() is True
        rill.constant(1.0) + 2.0
    finally:
        rill.debugging.set_log_device_placement(False)
    err = capsys.readouterr().err
    assert "Executing op AddV2 in device /job:localhost/replica:0/task:0/device:CPU:0" in err
    rill.constant(1.0) + 2.0
    assert "Executing op" not in capsys.readouterr().err


def test_matches_tensorflow_eager_message():
    tf = pytest.importorskip("tensorflow")
    tf.debugging.enable_check_numerics()
    try:
        with pytest.raises(tf.errors.InvalidArgumentError) as te:
            tf.math.log(tf.constant([-1.0, 1.0]))
    finally:
        tf.debugging.disable_check_numerics()
    rill.debugging.enable_check_numerics()
    try:
        with pytest.raises(InvalidArgumentError) as re_:
            rill.math.log(rill.constant([-1.0, 1.0]))
    finally:
        rill.debugging.disable_check_numerics()
    for line in ('op "Log" (# of outputs: 1)', "dtype: <dtype: 'float32'>", "shape: (2,)",
                 "# of +NaN elements: 1", "Tensor had NaN values"):  # fmt: skip
        assert line in str(te.value) and line in str(re_.value)
