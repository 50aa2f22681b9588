"""tf.test.TestCase: which inputs each assertion accepts and which it rejects, and with
which exception class, as TensorFlow 2.21's TestCase does.

``CASES`` holds the outcomes TF gives (recorded from TF, and re-checked against TF by
``test_cases_match_tensorflow`` when TensorFlow is installed); ``test_cases`` checks rill
against the same table. ``RILL_ONLY`` lists the inputs where rill deliberately differs.
"""

import collections
import importlib.util
import io
import os
import sys
import threading

import numpy as np
import pytest

import rill

HAS_TF = importlib.util.find_spec("tensorflow") is not None
N = collections.namedtuple("N", "a b")
PASS = "pass"
AE, VE, TE = AssertionError, ValueError, TypeError


def _c(tf, x, dtype=None):
    return tf.constant(x, dtype) if dtype is None else tf.constant(x, getattr(tf, dtype))


# (id, method, args(tf) -> tuple, kwargs, expected outcome in TF)
CASES = [
    ("close_scalar", "assertAllClose", lambda tf: (1.0, 1.0 + 1e-7), {}, PASS),
    ("close_scalar_off", "assertAllClose", lambda tf: (1.0, 1.0 + 3e-6), {}, AE),
    ("close_no_broadcast", "assertAllClose", lambda tf: (1.0, [1.0, 1.0]), {}, AE),
    ("close_no_broadcast2", "assertAllClose", lambda tf: ([[1.0, 1.0]], [1.0, 1.0]), {}, AE),
    ("close_shape", "assertAllClose", lambda tf: ([1.0, 2.0], [1.0, 2.0, 3.0]), {}, AE),
    ("close_nan", "assertAllClose", lambda tf: ([np.nan], [np.nan]), {}, PASS),
    ("close_inf", "assertAllClose", lambda tf: ([np.inf], [np.inf]), {}, PASS),
    (
        "close_f16_not_widened",
        "assertAllClose",
        lambda tf: (np.float16(1), np.float16(1.0009)),
        {},
        AE,
    ),
    (
        "close_dict",
        "assertAllClose",
        lambda tf: ({"a": 1.0, "b": [1.0, 2.0]}, {"a": 1.0, "b": [1.0, 2.0]}),
        {},
        PASS,
    ),
    (
        "close_dict_value",
        "assertAllClose",
        lambda tf: ({"a": 1.0, "b": [1.0, 2.0]}, {"a": 1.0, "b": [1.0, 2.5]}),
        {},
        AE,
    ),
    ("close_dict_keys", "assertAllClose", lambda tf: ({"a": 1.0}, {"b": 1.0}), {}, AE),
    (
        "close_dict_order",
        "assertAllClose",
        lambda tf: ({"a": 1.0, "b": 2.0}, {"b": 2.0, "a": 1.0}),
        {},
        PASS,
    ),
    (
        "close_dict_nested",
        "assertAllClose",
        lambda tf: ({"a": {"x": [1.0]}}, {"a": {"x": [1.0]}}),
        {},
        PASS,
    ),
    ("close_namedtuple", "assertAllClose", lambda tf: (N(1.0, 2.0), N(1.0, 2.0)), {}, PASS),
    ("close_namedtuple_vs_tuple", "assertAllClose", lambda tf: (N(1.0, 2.0), (1.0, 2.0)), {}, VE),
    ("close_dict_vs_list", "assertAllClose", lambda tf: ({"a": 1}, [1]), {}, VE),
    ("close_list_vs_tuple", "assertAllClose", lambda tf: ([1.0, 2.0], (1.0, 2.0)), {}, PASS),
    (
        "close_ragged_lists",
        "assertAllClose",
        lambda tf: ([[1.0], [2.0, 3.0]], [[1.0], [2.0, 3.0]]),
        {},
        PASS,
    ),
    (
        "close_ragged_lists_off",
        "assertAllClose",
        lambda tf: ([[1.0], [2.0, 3.0]], [[1.0], [2.0, 3.1]]),
        {},
        AE,
    ),
    (
        "close_list_lengths",
        "assertAllClose",
        lambda tf: ([[1.0, 2.0], [3.0]], [[1.0, 2.0], [3.0, 4.0]]),
        {},
        AE,
    ),
    (
        "close_arrays_in_tuple",
        "assertAllClose",
        lambda tf: ((np.zeros(2), np.zeros(3)), (np.zeros(2), np.zeros(3))),
        {},
        PASS,
    ),
    (
        "close_tuple_lengths",
        "assertAllClose",
        lambda tf: ((np.zeros(2), np.zeros(3)), (np.zeros(2),)),
        {},
        AE,
    ),
    (
        "close_tensor",
        "assertAllClose",
        lambda tf: (tf.constant([1.0, 2.0]), np.array([1.0, 2.0])),
        {},
        PASS,
    ),
    ("close_variable", "assertAllClose", lambda tf: (tf.Variable([1.0]), [1.0]), {}, PASS),
    ("close_tensorshape", "assertAllClose", lambda tf: (tf.TensorShape([1, 2]), [1, 2]), {}, PASS),
    (
        "close_ragged_tensor",
        "assertAllClose",
        lambda tf: (tf.ragged.constant([[1.0], [2.0, 3.0]]), [[1.0], [2.0, 3.0]]),
        {},
        PASS,
    ),
    (
        "close_ragged_tensors",
        "assertAllClose",
        lambda tf: (
            tf.ragged.constant([[1.0], [2.0, 3.0]]),
            tf.ragged.constant([[1.0], [2.0, 3.0]]),
        ),
        {},
        PASS,
    ),
    (
        "close_ragged_rows",
        "assertAllClose",
        lambda tf: (tf.ragged.constant([[1.0], [2.0, 3.0]]), [[1.0], [2.0]]),
        {},
        AE,
    ),
    ("close_str", "assertAllClose", lambda tf: ("a", "a"), {}, TE),
    ("close_none", "assertAllClose", lambda tf: (None, None), {}, TE),
    ("close_int", "assertAllClose", lambda tf: ([1, 2], [1, 2]), {}, PASS),
    (
        "close_big_int",
        "assertAllClose",
        lambda tf: (np.array([10**9], np.int64), np.array([10**9 + 1], np.int64)),
        {},
        PASS,
    ),
    ("close_bool", "assertAllClose", lambda tf: ([True], [True]), {}, PASS),
    ("close_bool_off", "assertAllClose", lambda tf: ([True], [False]), {}, TE),
    ("close_complex", "assertAllClose", lambda tf: ([1 + 1j], [1 + 1j]), {}, PASS),
    ("close_rtol", "assertAllClose", lambda tf: (1.0, 1.1), {"rtol": 0.2}, PASS),
    ("close_atol_default", "assertAllClose", lambda tf: (0.0, 1e-5), {}, AE),
    ("close_atol", "assertAllClose", lambda tf: (0.0, 1e-5), {"atol": 1e-4}, PASS),
    (
        "close_mixed_dtypes",
        "assertAllClose",
        lambda tf: (np.float32(1.0), np.float64(1.0000001)),
        {},
        PASS,
    ),
    ("close_empty", "assertAllClose", lambda tf: ([], []), {}, PASS),
    ("close_empty2", "assertAllClose", lambda tf: (np.zeros((0, 3)), np.zeros((0, 3))), {}, PASS),
    (
        "close_object_array",
        "assertAllClose",
        lambda tf: (np.array([1.0], dtype=object), [1.0]),
        {},
        PASS,
    ),
    ("close_msg", "assertAllClose", lambda tf: (1.0, 2.0), {"msg": "hi"}, AE),
    ("not_close_same", "assertNotAllClose", lambda tf: ([1.0], [1.0]), {}, AE),
    ("not_close_diff", "assertNotAllClose", lambda tf: ([1.0], [2.0]), {}, PASS),
    ("not_close_shape", "assertNotAllClose", lambda tf: ([1.0], [1.0, 2.0]), {}, PASS),
    (
        "by_type_half",
        "assertAllCloseAccordingToType",
        lambda tf: (np.float16(1.0), np.float16(1.0009)),
        {},
        PASS,
    ),
    (
        "by_type_float",
        "assertAllCloseAccordingToType",
        lambda tf: (np.float32(1.0), np.float32(1.000001)),
        {},
        PASS,
    ),
    (
        "by_type_double",
        "assertAllCloseAccordingToType",
        lambda tf: (np.float64(1.0), 1.000005),
        {},
        AE,
    ),
    (
        "by_type_float_off",
        "assertAllCloseAccordingToType",
        lambda tf: (np.float32(1.0), np.float32(1.000005)),
        {},
        AE,
    ),
    (
        "by_type_float_rtol",
        "assertAllCloseAccordingToType",
        lambda tf: (np.float32(1.0), np.float32(1.000005)),
        {"float_rtol": 1e-5},
        PASS,
    ),
    (
        "by_type_bfloat16",
        "assertAllCloseAccordingToType",
        lambda tf: (_c(tf, 1.0, "bfloat16"), _c(tf, 1.008, "bfloat16")),
        {},
        PASS,
    ),
    (
        "by_type_mixed_half",
        "assertAllCloseAccordingToType",
        lambda tf: (np.float16(1.0), np.float32(1.0009)),
        {},
        PASS,
    ),
    ("equal", "assertAllEqual", lambda tf: ([1, 2], [1, 2]), {}, PASS),
    ("equal_off", "assertAllEqual", lambda tf: ([1, 2], [1, 3]), {}, AE),
    ("equal_no_broadcast", "assertAllEqual", lambda tf: (1, [1, 1]), {}, AE),
    ("equal_no_broadcast2", "assertAllEqual", lambda tf: ([[1, 1]], [1, 1]), {}, AE),
    ("equal_shape", "assertAllEqual", lambda tf: ([1, 2], [1, 2, 3]), {}, AE),
    ("equal_size_not_shape", "assertAllEqual", lambda tf: ([[1, 2], [3, 4]], [1, 2, 3, 4]), {}, AE),
    ("equal_str_bytes", "assertAllEqual", lambda tf: (["a", "b"], [b"a", b"b"]), {}, PASS),
    (
        "equal_string_tensor_bytes",
        "assertAllEqual",
        lambda tf: (tf.constant(["a", "b"]), [b"a", b"b"]),
        {},
        PASS,
    ),
    (
        "equal_string_tensor_str",
        "assertAllEqual",
        lambda tf: (tf.constant(["a", "b"]), ["a", "b"]),
        {},
        PASS,
    ),
    ("equal_str_off", "assertAllEqual", lambda tf: (["a"], ["b"]), {}, AE),
    ("equal_nan", "assertAllEqual", lambda tf: ([np.nan], [np.nan]), {}, PASS),
    ("equal_dict", "assertAllEqual", lambda tf: ({"a": 1}, {"a": 1}), {}, PASS),
    ("equal_nested_ragged", "assertAllEqual", lambda tf: ([[1], [2, 3]], [[1], [2, 3]]), {}, PASS),
    (
        "equal_nested_lengths",
        "assertAllEqual",
        lambda tf: ([[1, 2], [3]], [[1, 2], [3, 4]]),
        {},
        AE,
    ),
    ("equal_float_int", "assertAllEqual", lambda tf: ([1.0], [1]), {}, PASS),
    ("equal_int_widths", "assertAllEqual", lambda tf: (np.int32(1), np.int64(1)), {}, PASS),
    ("equal_int_bool", "assertAllEqual", lambda tf: ([1, 0], [True, False]), {}, PASS),
    ("equal_none", "assertAllEqual", lambda tf: (None, None), {}, PASS),
    (
        "equal_ragged",
        "assertAllEqual",
        lambda tf: (tf.ragged.constant([[1], [2, 3]]), [[1], [2, 3]]),
        {},
        PASS,
    ),
    (
        "equal_ragged_off",
        "assertAllEqual",
        lambda tf: (tf.ragged.constant([[1], [2, 3]]), [[1], [2, 4]]),
        {},
        AE,
    ),
    ("equal_variable", "assertAllEqual", lambda tf: (tf.Variable([1.0]), [1.0]), {}, PASS),
    ("equal_tensorshape", "assertAllEqual", lambda tf: (tf.TensorShape([1, 2]), [1, 2]), {}, PASS),
    ("equal_msg", "assertAllEqual", lambda tf: (1, 2), {"msg": "hi"}, AE),
    ("not_equal_diff", "assertNotAllEqual", lambda tf: ([1, 2], [1, 3]), {}, PASS),
    ("not_equal_same", "assertNotAllEqual", lambda tf: ([1, 2], [1, 2]), {}, AE),
    (
        "dict_equal_arrays",
        "assertDictEqual",
        lambda tf: ({"a": np.array([1, 2])}, {"a": np.array([1, 2])}),
        {},
        PASS,
    ),
    (
        "dict_equal_arrays_off",
        "assertDictEqual",
        lambda tf: ({"a": np.array([1, 2])}, {"a": np.array([1, 3])}),
        {},
        AE,
    ),
    (
        "dict_equal_close_floats",
        "assertDictEqual",
        lambda tf: ({"a": 1.0}, {"a": 1.0 + 1e-7}),
        {},
        PASS,
    ),
    (
        "dict_equal_far_floats",
        "assertDictEqual",
        lambda tf: ({"a": 1.0}, {"a": 1.0 + 1e-5}),
        {},
        AE,
    ),
    (
        "dict_equal_tensor",
        "assertDictEqual",
        lambda tf: ({"a": tf.constant(1)}, {"a": 1}),
        {},
        PASS,
    ),
    (
        "dict_equal_float_tensors",
        "assertDictEqual",
        lambda tf: ({"a": tf.constant([1.0])}, {"a": tf.constant([1.0 + 1e-7])}),
        {},
        PASS,
    ),
    ("dict_equal_keys", "assertDictEqual", lambda tf: ({"a": 1}, {"b": 1}), {}, AE),
    ("dict_equal_extra_key", "assertDictEqual", lambda tf: ({"a": 1}, {"a": 1, "b": 2}), {}, AE),
    ("dict_equal_str", "assertDictEqual", lambda tf: ({"a": "x"}, {"a": "y"}), {}, AE),
    (
        "dict_equal_nested",
        "assertDictEqual",
        lambda tf: ({"a": {"b": 1.0}}, {"a": {"b": 1.0 + 1e-9}}),
        {},
        AE,
    ),
    ("range", "assertAllInRange", lambda tf: ([1, 2], 1, 2), {}, PASS),
    (
        "range_open_lower",
        "assertAllInRange",
        lambda tf: ([1, 2], 1, 2),
        {"open_lower_bound": True},
        AE,
    ),
    (
        "range_open_upper",
        "assertAllInRange",
        lambda tf: ([1, 2], 1, 2),
        {"open_upper_bound": True},
        AE,
    ),
    ("range_nan", "assertAllInRange", lambda tf: ([np.nan], 0, 2), {}, AE),
    ("range_inside", "assertAllInRange", lambda tf: ([1, 2], 0, 3), {}, PASS),
    ("range_str", "assertAllInRange", lambda tf: (["a"], 0, 3), {}, AE),
    ("range_tensor", "assertAllInRange", lambda tf: (tf.constant([0.5, 1.5]), 0, 2), {}, PASS),
    ("in_set", "assertAllInSet", lambda tf: ([1, 2], [1, 2, 3]), {}, PASS),
    ("in_set_off", "assertAllInSet", lambda tf: ([1, 4], {1, 2, 3}), {}, AE),
    ("in_set_2d", "assertAllInSet", lambda tf: ([[1, 2]], (1, 2)), {}, PASS),
    ("in_set_tensor", "assertAllInSet", lambda tf: (tf.constant([1, 2]), [1, 2]), {}, PASS),
    ("greater", "assertAllGreater", lambda tf: ([2, 3], 1), {}, PASS),
    ("greater_off", "assertAllGreater", lambda tf: ([1, 3], 1), {}, AE),
    ("greater_tensor", "assertAllGreater", lambda tf: (tf.constant([2, 3]), 1), {}, PASS),
    ("greater_array_target", "assertAllGreater", lambda tf: ([2, 3], [1, 4]), {}, VE),
    ("greater_equal", "assertAllGreaterEqual", lambda tf: ([1, 3], 1), {}, PASS),
    ("less_off", "assertAllLess", lambda tf: ([0, 1], 1), {}, AE),
    ("less_equal", "assertAllLessEqual", lambda tf: ([0, 1], 1), {}, PASS),
    ("array_near", "assertArrayNear", lambda tf: ([1.0, 2.0], [1.05, 2.0], 0.1), {}, PASS),
    ("array_near_off", "assertArrayNear", lambda tf: ([1.0, 2.0], [1.2, 2.0], 0.1), {}, AE),
    ("array_near_len", "assertArrayNear", lambda tf: ([1.0, 2.0], [1.0], 0.1), {}, AE),
    (
        "array_near_np",
        "assertArrayNear",
        lambda tf: (np.array([1.0, 2.0]), np.array([1.0, 2.0]), 0.1),
        {},
        PASS,
    ),
    ("near", "assertNear", lambda tf: (1.0, 1.05, 0.1), {}, PASS),
    ("near_off", "assertNear", lambda tf: (1.0, 1.2, 0.1), {}, AE),
    ("near_rounding", "assertNear", lambda tf: (1.0, 1.1, 0.1), {}, AE),  # 0.10000000000000009
    ("near_inf", "assertNear", lambda tf: (float("inf"), float("inf"), 0.1), {}, PASS),
    (
        "ndarray_near",
        "assertNDArrayNear",
        lambda tf: (np.array([1.0, 2.0]), np.array([1.05, 2.0]), 0.1),
        {},
        PASS,
    ),
    (
        "ndarray_near_off",
        "assertNDArrayNear",
        lambda tf: (np.array([1.0, 2.0]), np.array([1.2, 2.0]), 0.1),
        {},
        AE,
    ),
    (
        "ndarray_near_shape",
        "assertNDArrayNear",
        lambda tf: (np.array([1.0, 2.0]), np.array([1.0]), 0.1),
        {},
        AE,
    ),
    (
        "ndarray_near_broadcast",
        "assertNDArrayNear",
        lambda tf: (np.array([1.0, 1.0]), np.array([1.0]), 0.1),
        {},
        PASS,
    ),
    ("shape", "assertShapeEqual", lambda tf: (np.zeros((2, 3)), tf.zeros((2, 3))), {}, PASS),
    ("shape_off", "assertShapeEqual", lambda tf: (np.zeros((2, 3)), tf.zeros((3, 2))), {}, AE),
    ("shape_arrays", "assertShapeEqual", lambda tf: (np.zeros((2, 3)), np.zeros((2, 3))), {}, PASS),
    (
        "shape_tensors",
        "assertShapeEqual",
        lambda tf: (tf.zeros((2, 3)), tf.zeros((2, 3))),
        {},
        PASS,
    ),
    ("shape_list", "assertShapeEqual", lambda tf: ([1, 2], tf.zeros((2,))), {}, TE),
    ("dtype_np", "assertDTypeEqual", lambda tf: (np.zeros(2, np.float32), np.float32), {}, PASS),
    ("dtype_tf", "assertDTypeEqual", lambda tf: (np.zeros(2, np.float32), tf.float32), {}, PASS),
    ("dtype_tensor", "assertDTypeEqual", lambda tf: (tf.zeros(2), np.float32), {}, PASS),
    ("dtype_off", "assertDTypeEqual", lambda tf: (np.zeros(2, np.float32), np.float64), {}, AE),
    ("dtype_list", "assertDTypeEqual", lambda tf: ([1.0], np.float64), {}, PASS),
    ("dtype_name", "assertDTypeEqual", lambda tf: ([1.0], "float64"), {}, PASS),
    ("dtype_int_tensor", "assertDTypeEqual", lambda tf: (tf.constant([1]), tf.int32), {}, PASS),
    ("dtype_int_tensor_off", "assertDTypeEqual", lambda tf: (tf.constant([1]), np.int64), {}, AE),
    ("device", "assertDeviceEqual", lambda tf: ("/cpu:0", "/device:CPU:0"), {}, PASS),
    (
        "device_partial",
        "assertDeviceEqual",
        lambda tf: ("CPU:0", "/job:localhost/replica:0/task:0/device:CPU:0"),
        {},
        AE,
    ),
    ("device_type", "assertDeviceEqual", lambda tf: ("/cpu:0", "/gpu:0"), {}, AE),
    ("device_empty", "assertDeviceEqual", lambda tf: ("", None), {}, PASS),
    (
        "device_job",
        "assertDeviceEqual",
        lambda tf: ("/job:a/cpu:0", "/job:a/device:CPU:0"),
        {},
        PASS,
    ),
    ("starts", "assertStartsWith", lambda tf: ("abc", "ab"), {}, PASS),
    ("starts_off", "assertStartsWith", lambda tf: ("abc", "b"), {}, AE),
    ("starts_msg", "assertStartsWith", lambda tf: ("abc", "b"), {"msg": "hello"}, AE),
    ("not_starts", "assertNotStartsWith", lambda tf: ("abc", "b"), {}, PASS),
    ("ends", "assertEndsWith", lambda tf: ("abc", "bc"), {}, PASS),
    ("ends_off", "assertEndsWith", lambda tf: ("abc", "b"), {}, AE),
    ("items", "assertItemsEqual", lambda tf: ([1, 2, 2], [2, 1, 2]), {}, PASS),
    ("items_off", "assertItemsEqual", lambda tf: ([1, 2], [2, 2]), {}, AE),
    ("count", "assertCountEqual", lambda tf: ([1, 2, 2], [2, 1, 2]), {}, PASS),
    ("len", "assertLen", lambda tf: ([1, 2], 2), {}, PASS),
    ("len_off", "assertLen", lambda tf: ([1, 2], 3), {}, AE),
    ("empty", "assertEmpty", lambda tf: ([],), {}, PASS),
    ("empty_off", "assertEmpty", lambda tf: ([1],), {}, AE),
    ("not_empty", "assertNotEmpty", lambda tf: ([1],), {}, PASS),
    ("between", "assertBetween", lambda tf: (2, 1, 3), {}, PASS),
    ("between_off", "assertBetween", lambda tf: (4, 1, 3), {}, AE),
    ("same_structure", "assertSameStructure", lambda tf: ({"a": [1, 2]}, {"a": [1, 2]}), {}, PASS),
    (
        "same_structure_values",
        "assertSameStructure",
        lambda tf: ({"a": [1, 2]}, {"a": [3, 4]}),
        {},
        AE,
    ),
    ("same_structure_len", "assertSameStructure", lambda tf: ({"a": [1, 2]}, {"a": [1]}), {}, AE),
    ("contains_subset", "assertContainsSubset", lambda tf: ([1, 2], [1, 2, 3]), {}, PASS),
    ("contains_subset_off", "assertContainsSubset", lambda tf: ([1, 4], [1, 2, 3]), {}, AE),
    ("no_common", "assertNoCommonElements", lambda tf: ([1, 2], [3]), {}, PASS),
    ("no_common_off", "assertNoCommonElements", lambda tf: ([1, 2], [2]), {}, AE),
    ("in_order", "assertContainsInOrder", lambda tf: (["a", "c"], "abc"), {}, PASS),
    ("in_order_off", "assertContainsInOrder", lambda tf: (["c", "a"], "abc"), {}, AE),
    ("subsequence", "assertContainsSubsequence", lambda tf: ([1, 2, 3, 4], [1, 3]), {}, PASS),
    ("subsequence_off", "assertContainsSubsequence", lambda tf: ([1, 2, 3, 4], [3, 1]), {}, AE),
    (
        "exact_subsequence",
        "assertContainsExactSubsequence",
        lambda tf: ([1, 2, 3], [2, 3]),
        {},
        PASS,
    ),
    (
        "exact_subsequence_off",
        "assertContainsExactSubsequence",
        lambda tf: ([1, 2, 3], [1, 3]),
        {},
        AE,
    ),
    ("regex_match", "assertRegexMatch", lambda tf: ("abc", ["x", "b."]), {}, PASS),
    ("regex_match_off", "assertRegexMatch", lambda tf: ("abc", ["x"]), {}, AE),
    ("json", "assertJsonEqual", lambda tf: ('{"a": 1}', '{ "a" : 1 }'), {}, PASS),
    ("json_off", "assertJsonEqual", lambda tf: ('{"a": 1}', '{"a": 2}'), {}, AE),
    ("subclass", "assertIsSubclass", lambda tf: (bool, int), {}, PASS),
    ("subclass_off", "assertIsSubclass", lambda tf: (int, bool), {}, AE),
    ("sequence_starts", "assertSequenceStartsWith", lambda tf: ([1], [1, 2]), {}, PASS),
    ("sequence_starts_off", "assertSequenceStartsWith", lambda tf: ([2], [1, 2]), {}, AE),
]

# rill differs from TF on purpose: (id, method, args, kwargs, rill's outcome, TF's)
RILL_ONLY = [
    # TF fails on its own SparseTensorValue (a truth-value ValueError): rill compares parts
    (
        "close_sparse",
        "assertAllClose",
        lambda tf: (
            tf.sparse.SparseTensor([[0, 0]], [1.0], [2, 2]),
            tf.sparse.SparseTensor([[0, 0]], [1.0], [2, 2]),
        ),
        {},
        PASS,
        VE,
    ),
    (
        "close_sparse_off",
        "assertAllClose",
        lambda tf: (
            tf.sparse.SparseTensor([[0, 0]], [1.0], [2, 2]),
            tf.sparse.SparseTensor([[0, 0]], [2.0], [2, 2]),
        ),
        {},
        AE,
        VE,
    ),
]


class _Case(rill.test.TestCase):
    __test__ = False  # a helper, not a test class

    def runTest(self):  # noqa: N802 - unittest's name
        pass


def _outcome(test_case, method, args, kwargs):
    try:
        getattr(test_case, method)(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the class is the outcome
        for cls in (AE, TE, VE):
            if isinstance(e, cls):
                return cls
        return type(e)
    return PASS


@pytest.mark.parametrize("cid, method, make, kwargs, expected", CASES, ids=[c[0] for c in CASES])
def test_cases(cid, method, make, kwargs, expected):
    assert _outcome(_Case(), method, make(rill), kwargs) is expected


@pytest.mark.parametrize(
    "cid, method, make, kwargs, expected, tf_outcome", RILL_ONLY, ids=[c[0] for c in RILL_ONLY]
)
def test_rill_only_cases(cid, method, make, kwargs, expected, tf_outcome):
    assert _outcome(_Case(), method, make(rill), kwargs) is expected


@pytest.mark.skipif(not HAS_TF, reason="TensorFlow not installed")
def test_cases_match_tensorflow():
    import tensorflow as tf

    class TFCase(tf.test.TestCase):
        def runTest(self):  # noqa: N802
            pass

    t = TFCase()
    wrong = []
    for cid, method, make, kwargs, expected in CASES:
        got = _outcome(t, method, make(tf), kwargs)
        if got is not expected:
            wrong.append((cid, got, expected))
    for cid, method, make, kwargs, _, tf_outcome in RILL_ONLY:
        got = _outcome(t, method, make(tf), kwargs)
        if got is not tf_outcome:
            wrong.append((cid, got, tf_outcome))
    assert not wrong


# ------------------------------------------------------------------------ messages
def test_messages_name_the_path_and_the_values():
    t = _Case()
    with pytest.raises(AssertionError) as e:
        t.assertAllClose({"a": 1.0, "b": [1.0, 2.0]}, {"a": 1.0, "b": [1.0, 2.5]}, msg="ctx")
    text = str(e.value)
    assert "['b']" in text and "2.5" in text and "[1]" in text and "ctx" in text
    with pytest.raises(AssertionError, match=r"Shape mismatch"):
        t.assertAllEqual([1, 2], [1, 2, 3])
    with pytest.raises(AssertionError, match=r"does not start with 'b' : hello"):
        t.assertStartsWith("abc", "b", msg="hello")
    with pytest.raises(AssertionError, match=r"outside the range \(1, 2\]"):
        t.assertAllInRange([1, 2], 1, 2, open_lower_bound=True)


# ------------------------------------------------------------------------ exceptions
def _raise(exc):
    def f():
        raise exc

    return f


def _bad_reshape(tf):
    return lambda: tf.reshape(tf.zeros(4), [3])


# (id, method, args(tf), body(tf), expected)
RAISES = [
    ("op_error", "assertRaisesOpError", lambda tf: ("Input to reshape",), _bad_reshape, PASS),
    ("op_error_regex_off", "assertRaisesOpError", lambda tf: ("nomatch",), _bad_reshape, AE),
    ("op_error_not_raised", "assertRaisesOpError", lambda tf: ("x",), lambda tf: lambda: None, AE),
    (
        "op_error_other_class",
        "assertRaisesOpError",
        lambda tf: ("x",),
        lambda tf: lambda: 1 / 0,
        AE,
    ),
    (
        "op_error_predicate",
        "assertRaisesOpError",
        lambda tf: (lambda e: "reshape" in str(e),),
        _bad_reshape,
        PASS,
    ),
    (
        "predicate_regex",
        "assertRaisesWithPredicateMatch",
        lambda tf: (ValueError, "boom"),
        lambda tf: _raise(ValueError("a boom")),
        PASS,
    ),
    (
        "predicate_regex_anchored",
        "assertRaisesWithPredicateMatch",
        lambda tf: (ValueError, "^boom"),
        lambda tf: _raise(ValueError("a boom")),
        AE,
    ),
    (
        "predicate_class_off",
        "assertRaisesWithPredicateMatch",
        lambda tf: (ValueError, "boom"),
        lambda tf: _raise(TypeError("a boom")),
        AE,
    ),
    (
        "predicate_tuple",
        "assertRaisesWithPredicateMatch",
        lambda tf: ((ValueError, TypeError), lambda e: True),
        lambda tf: _raise(TypeError("x")),
        PASS,
    ),
    (
        "predicate_false",
        "assertRaisesWithPredicateMatch",
        lambda tf: (ValueError, lambda e: False),
        lambda tf: _raise(ValueError("x")),
        AE,
    ),
    (
        "predicate_not_raised",
        "assertRaisesWithPredicateMatch",
        lambda tf: (ValueError, "boom"),
        lambda tf: lambda: None,
        AE,
    ),
    (
        "predicate_tf_error",
        "assertRaisesWithPredicateMatch",
        lambda tf: (tf.errors.InvalidArgumentError, "reshape"),
        _bad_reshape,
        PASS,
    ),
    (
        "incompatible_shapes",
        "assertRaisesIncompatibleShapesError",
        lambda tf: (),
        lambda tf: lambda: tf.zeros(3) + tf.zeros(4),
        PASS,
    ),
    (
        "literal",
        "assertRaisesWithLiteralMatch",
        lambda tf: (ValueError, "a boom"),
        lambda tf: _raise(ValueError("a boom")),
        PASS,
    ),
    (
        "literal_off",
        "assertRaisesWithLiteralMatch",
        lambda tf: (ValueError, "boom"),
        lambda tf: _raise(ValueError("a boom")),
        AE,
    ),
]


def _raises_outcome(test_case, method, args, body):
    try:
        with getattr(test_case, method)(*args):
            body()
    except Exception as e:  # noqa: BLE001
        return AE if isinstance(e, AE) else type(e)
    return PASS


@pytest.mark.parametrize("cid, method, args, body, expected", RAISES, ids=[c[0] for c in RAISES])
def test_raises_cases(cid, method, args, body, expected):
    assert _raises_outcome(_Case(), method, args(rill), body(rill)) is expected


@pytest.mark.skipif(not HAS_TF, reason="TensorFlow not installed")
def test_raises_cases_match_tensorflow():
    import tensorflow as tf

    class TFCase(tf.test.TestCase):
        def runTest(self):  # noqa: N802
            pass

    t = TFCase()
    got = {cid: _raises_outcome(t, m, a(tf), b(tf)) for cid, m, a, b, _ in RAISES}
    assert got == {cid: exp for cid, _, _, _, exp in RAISES}


def test_literal_match_with_callable():
    t = _Case()
    t.assertRaisesWithLiteralMatch(ValueError, "x", _raise(ValueError("x")))
    with pytest.raises(AssertionError):
        t.assertRaisesWithLiteralMatch(ValueError, "x", _raise(ValueError("y")))


# ------------------------------------------------------------------------ evaluate
def test_evaluate_structures():
    t = _Case()
    out = t.evaluate(
        {"a": rill.constant(1.0), "b": [rill.constant([1, 2]), None], "v": rill.Variable(2.0)}
    )
    assert isinstance(out["a"], np.float32) and out["a"] == 1.0
    assert out["b"][0].dtype == np.int32 and out["b"][0].tolist() == [1, 2] and out["b"][1] is None
    assert out["v"] == 2.0 and isinstance(out["v"], np.float32)
    assert t.evaluate(rill.constant("x")) == b"x"
    assert t.evaluate((rill.constant(1.0), rill.constant(2))) == (1.0, 2)
    assert t.evaluate([]) == []
    r = t.evaluate(rill.ragged.constant([[1], [2, 3]]))
    assert type(r).__name__ == "RaggedTensorValue"
    assert r.to_list() == [[1], [2, 3]] and r.values.tolist() == [1, 2, 3]
    assert r.row_splits.tolist() == [0, 1, 3] and r.ragged_rank == 1 and r.shape == (2, None)
    s = t.evaluate(rill.sparse.SparseTensor([[0, 0]], [1.0], [2, 2]))
    assert type(s).__name__ == "SparseTensorValue" and s._fields == (
        "indices",
        "values",
        "dense_shape",
    )
    assert (
        s.indices.tolist() == [[0, 0]]
        and s.values.tolist() == [1.0]
        and s.dense_shape.tolist() == [2, 2]
    )
    t.assertAllEqual(r, [[1], [2, 3]])


@pytest.mark.parametrize("value", [5, 1.0, "str", np.array([1, 2])])
def test_evaluate_rejects_non_tensors_as_tf(value):
    with pytest.raises(ValueError, match="Unsupported type"):
        _Case().evaluate(value)


def test_evaluate_if_both_tensors():
    t = _Case()
    a, b = t.evaluate_if_both_tensors(rill.constant(1), rill.constant(2))
    assert (a, b) == (1, 2) and isinstance(a, np.int32)
    a, b = t.evaluate_if_both_tensors(rill.constant(1), 2)
    assert rill.is_tensor(a) and b == 2


# ------------------------------------------------------------------------ sessions
def test_sessions_under_eager_execution():
    t = _Case()
    with t.cached_session() as sess:
        assert sess.run(rill.constant(1.0)) == 1.0
        assert sess.run([rill.constant(1.0), {"a": rill.constant(2)}]) == [1.0, {"a": 2}]
        with pytest.raises(RuntimeError, match="feed_dict"):
            sess.run(rill.constant(1.0), feed_dict={"a": 1})
    with t.cached_session(use_gpu=True, force_gpu=False) as sess:
        assert sess.run(rill.constant(3)) == 3
    with t.session() as sess:
        with pytest.raises(AttributeError):
            sess.run(rill.constant(1.0))
    with t.test_session() as sess:
        assert sess is None


# ------------------------------------------------------------------------ setUp etc.
def test_setup_seeds_python_numpy_and_rill():
    import random

    t = _Case()
    t.setUp()
    first = (random.random(), np.random.rand(), float(rill.random.uniform([]).numpy()))
    t.setUp()
    second = (random.random(), np.random.rand(), float(rill.random.uniform([]).numpy()))
    assert first == second
    random.seed(87654321)
    np.random.seed(87654321)
    # TF's TestCase seeds Python and NumPy with 87654321: the same draws as TF's tests
    assert first[:2] == (random.random(), np.random.rand())
    assert first[:2] == (0.3499765785632496, 0.18463433217903202)  # what TF's setUp gives


def test_temp_dirs_and_files():
    t = _Case()
    d = t.get_temp_dir()
    assert os.path.isdir(d) and d == t.get_temp_dir()
    assert _Case().get_temp_dir() != d
    sub = t.create_tempdir()
    assert os.path.isdir(sub.full_path) and os.fspath(sub).startswith(d)
    f = t.create_tempfile(content="hello")
    assert f.read_text() == "hello" and os.path.dirname(f.full_path) == d
    g = sub.create_file("x/y.txt", content=b"bytes", mode="wb")
    assert g.read_bytes() == b"bytes"
    t.doCleanups()
    assert not os.path.exists(sub.full_path) and not os.path.exists(f.full_path)


def test_enter_context_exits_at_cleanup():
    events = []

    class Ctx:
        def __enter__(self):
            events.append("enter")
            return 7

        def __exit__(self, *exc):
            events.append("exit")

    t = _Case()
    assert t.enter_context(Ctx()) == 7 and events == ["enter"]
    t.doCleanups()
    assert events == ["enter", "exit"]


def test_checked_thread():
    t = _Case()
    out = []
    th = t.checkedThread(target=out.append, args=(3,))
    th.start()
    th.join()
    assert out == [3] and not th.is_alive()
    t.tearDown()
    bad = t.checkedThread(target=lambda: 1 / 0)
    bad.start()
    with pytest.raises(AssertionError, match="division by zero"):
        bad.join()
    blocker = threading.Event()
    t2 = _Case()
    th2 = t2.checkedThread(target=blocker.wait)
    th2.start()
    with pytest.raises(AssertionError, match="not joined"):
        t2.tearDown()
    blocker.set()
    th2.join()


def test_capture_writes_to_stream():
    t = _Case()
    with t.captureWritesToStream(sys.stderr) as printed:
        sys.stderr.write("hello\n")
        sys.stderr.flush()
        os.write(sys.stderr.fileno(), b"from C\n")
    assert printed.contents() == "hello\nfrom C\n"
    buf = io.StringIO()
    with t.captureWritesToStream(buf) as printed:
        buf.write("python only")
    assert printed.contents() == "python only" and buf.getvalue() == ""


def test_a_subclass_runs_under_unittest():
    class MyTest(rill.test.TestCase):
        def test_add(self):
            self.assertAllEqual(rill.constant([1, 2]) + 1, [2, 3])
            self.assertAllClose(self.evaluate(rill.constant(0.1) * 3), 0.3)

        def test_fails(self):
            self.assertAllEqual([1], [2])

    import unittest

    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(MyTest).run(result)
    assert result.testsRun == 2 and len(result.failures) == 1 and not result.errors
    assert "test_fails" in str(result.failures[0][0])


# ------------------------------------------------------------------------ protos
def test_assert_proto_equals():
    wrappers = pytest.importorskip("google.protobuf.wrappers_pb2")
    struct = pytest.importorskip("google.protobuf.struct_pb2")
    t = _Case()
    t.assertProtoEquals("value: 1.5", wrappers.DoubleValue(value=1.5))
    t.assertProtoEquals(wrappers.DoubleValue(value=1.5), wrappers.DoubleValue(value=1.5))
    with pytest.raises(AssertionError, match="differ"):
        t.assertProtoEquals("value: 1.5", wrappers.DoubleValue(value=1.6))
    t.assertProtoEquals(
        "value: 1.0", wrappers.DoubleValue(value=1.0 + 1e-9), relative_tolerance=1e-6
    )
    with pytest.raises(AssertionError):
        t.assertProtoEquals("value: 1.0", wrappers.DoubleValue(value=1.1), relative_tolerance=1e-6)
    s = struct.Struct()
    s.update({"a": 1.0, "b": [1.0, 2.0]})
    t.assertProtoEquals(s, s)
    other = struct.Struct()
    other.update({"a": 1.0, "b": [1.0, 2.0 + 1e-12]})
    t.assertProtoEquals(s, other, relative_tolerance=1e-9)
    with pytest.raises(AssertionError):
        t.assertProtoEquals(s, other)
