"""Errors raised while tracing, with TF's classes."""

import pytest

import rill as tf


def test_python_bool_of_a_symbolic_tensor_is_operator_not_allowed_in_graph():
    @tf.function(autograph=False)
    def f(x):
        if x > 0:
            return x
        return -x

    # TF's class: a TypeError subclass, so code catching TypeError keeps working
    with pytest.raises(tf.errors.OperatorNotAllowedInGraphError, match="bool"):
        f(tf.constant(1.0))
    assert issubclass(tf.errors.OperatorNotAllowedInGraphError, TypeError)
