"""The error-class table of the differential tests is strict (runs without TensorFlow:
TensorFlow's classes are stood in for by classes that carry its module name)."""

import pytest

import rill
from tests.tf_errors import TF_TO_RILL, assert_same_error, compare_outcomes, tf_key


def _tf_class(name, *bases):
    return type(
        name, bases or (Exception,), {"__module__": "tensorflow.python.framework.errors_impl"}
    )


TFOpError = _tf_class("OpError")
TFInvalidArgument = _tf_class("InvalidArgumentError", TFOpError)
TFOutOfRange = _tf_class("OutOfRangeError", TFOpError)


def test_every_tf_errors_class_maps_to_its_rill_twin():
    for key, cls in TF_TO_RILL.items():
        if key.startswith("tf.errors."):
            assert cls is getattr(rill.errors, key.removeprefix("tf.errors."))
            assert issubclass(cls, rill.errors.OpError)


def test_classes_must_match_exactly():
    e = rill.errors
    assert tf_key(TFInvalidArgument("x")) == "tf.errors.InvalidArgumentError"
    assert_same_error(e.InvalidArgumentError("x"), TFInvalidArgument("x"))
    assert_same_error(ValueError("x"), ValueError("x"))
    assert_same_error(KeyError("x"), KeyError("x"))
    for rill_exc, tf_exc in [
        (ValueError("x"), TFInvalidArgument("x")),  # a plain ValueError is not enough
        (e.InvalidArgumentError("x"), ValueError("x")),  # nor too specific a class
        (e.InvalidArgumentError("x"), TFOutOfRange("x")),
        (TypeError("x"), ValueError("x")),
        (e.OpError("x"), TFInvalidArgument("x")),
    ]:
        with pytest.raises(AssertionError, match="so rill must raise"):
            assert_same_error(rill_exc, tf_exc)


def test_unmapped_tensorflow_class_fails():
    with pytest.raises(AssertionError, match="does not map"):
        assert_same_error(ValueError("x"), _tf_class("SomethingNew")("x"))


def test_one_side_raising_fails():
    assert not compare_outcomes(("ok", 1), ("ok", 1))
    assert compare_outcomes(("raise", ValueError("a")), ("raise", ValueError("b")))
    with pytest.raises(AssertionError, match="rill did not"):
        compare_outcomes(("ok", 1), ("raise", TFInvalidArgument("x")))
    with pytest.raises(AssertionError, match="TF did not"):
        compare_outcomes(("raise", ValueError("x")), ("ok", 1))
