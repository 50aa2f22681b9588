"""tf.TypeSpec and the spec classes: the common API, checked by its definition (shapes
relax dimension by dimension) and against TensorFlow where it is installed."""

import numpy as np
import pytest

import rill as tf


def test_spec_classes_share_the_base():
    specs = [
        tf.TensorSpec([2]), tf.SparseTensorSpec([2, 3]), tf.RaggedTensorSpec([2, None]),
        tf.IndexedSlicesSpec([4, 2]), tf.NoneTensorSpec(), tf.TensorArraySpec([2]),
        tf.OptionalSpec(tf.TensorSpec([])), tf.data.DatasetSpec(tf.TensorSpec([])),
    ]  # fmt: skip
    for s in specs:
        assert isinstance(s, tf.TypeSpec)
        assert isinstance(s, tf.types.experimental.TraceType)
    assert tf.TensorSpec([1]).value_type is tf.Tensor
    assert tf.SparseTensorSpec().value_type is tf.SparseTensor
    assert tf.IndexedSlicesSpec().value_type is tf.IndexedSlices


@pytest.mark.parametrize(
    "a, b, expect",
    [
        ([None, 2], [3, 2], [None, 2]),
        ([3, 2], [3, 2], [3, 2]),
        ([3, 2], [4, 2], [None, 2]),
        ([3], [3, 1], None),  # ranks differ: unknown rank
        (None, [3], None),
    ],
)
def test_most_specific_common_supertype_relaxes_each_dimension(a, b, expect):
    s = tf.TensorSpec(a).most_specific_common_supertype([tf.TensorSpec(b)])
    assert s == tf.TensorSpec(expect)
    # the supertype covers both: each is its subtype
    assert tf.TensorSpec(a).is_subtype_of(s) and tf.TensorSpec(b).is_subtype_of(s)


def test_supertype_none_on_dtype_or_class_mismatch():
    s = tf.TensorSpec([2])
    assert s.most_specific_common_supertype([tf.TensorSpec([2], tf.int32)]) is None
    assert s.most_specific_common_supertype([tf.SparseTensorSpec([2])]) is None
    with pytest.raises(ValueError):
        s.most_specific_compatible_type(tf.TensorSpec([2], tf.int32))


def test_is_subtype_of_is_one_way():
    assert tf.TensorSpec([3, 2]).is_subtype_of(tf.TensorSpec([None, 2]))
    assert not tf.TensorSpec([None, 2]).is_subtype_of(tf.TensorSpec([3, 2]))
    assert tf.TensorSpec([3, 2]).is_subtype_of(tf.TensorSpec(None))
    assert not tf.TensorSpec([3]).is_subtype_of(tf.TensorSpec([3], tf.int32))


def test_is_compatible_with_values_and_specs():
    s = tf.TensorSpec([None, 2])
    assert s.is_compatible_with(tf.constant([[1.0, 2.0]]))
    assert s.is_compatible_with(np.zeros((5, 2), np.float32))
    assert not s.is_compatible_with(tf.constant([1.0, 2.0]))
    assert s.is_compatible_with(tf.TensorSpec([7, 2]))


def test_composite_specs_generic_api():
    a, b = tf.SparseTensorSpec([2, None]), tf.SparseTensorSpec([3, 4])
    assert a.most_specific_common_supertype([b]) == tf.SparseTensorSpec([None, None])
    r = tf.RaggedTensorSpec([2, None])
    assert r.is_subtype_of(tf.RaggedTensorSpec([None, None]))
    assert not tf.RaggedTensorSpec([None, None]).is_subtype_of(r)
    assert hash(tf.SparseTensorSpec([2])) == hash(tf.SparseTensorSpec([2]))


def test_batch_and_unbatch_specs():
    assert tf.TensorSpec([2], tf.int32)._batch(5) == tf.TensorSpec([5, 2], tf.int32)
    assert tf.TensorSpec([5, 2])._unbatch() == tf.TensorSpec([2])
    assert tf.SparseTensorSpec([3])._batch(None) == tf.SparseTensorSpec([None, 3])


def test_indexed_slices_spec_of_value():
    v = tf.IndexedSlices(
        tf.ones([2, 3]), tf.constant([0, 4], tf.int64), tf.constant([5, 3], tf.int64)
    )
    spec = tf.type_spec_from_value(v)
    assert spec == tf.IndexedSlicesSpec([5, 3], tf.float32, tf.int64, tf.int64, [2])
    assert spec.is_compatible_with(tf.IndexedSlicesSpec([None, 3], tf.float32, tf.int64, tf.int64))


def test_type_spec_from_value():
    assert tf.type_spec_from_value(tf.constant([1.0, 2.0])) == tf.TensorSpec([2])
    assert tf.type_spec_from_value(3) == tf.TensorSpec([], tf.int32)
    assert tf.type_spec_from_value("a") == tf.TensorSpec([], tf.string)
    assert tf.type_spec_from_value(None) == tf.NoneTensorSpec()
    assert tf.type_spec_from_value(tf.ragged.constant([[1], [2, 3]])) == tf.RaggedTensorSpec(
        [2, None], tf.int32, 1
    )
    ta = tf.TensorArray(tf.float32, size=2, element_shape=[3])
    assert tf.type_spec_from_value(ta) == tf.TensorArraySpec([3], tf.float32, False, True)
    assert tf.type_spec_from_value(tf.data.Dataset.range(3)) == tf.data.DatasetSpec(
        tf.TensorSpec([], tf.int64)
    )
    opt = tf.experimental.Optional.from_value(1.0)
    assert tf.type_spec_from_value(opt) == tf.OptionalSpec(tf.TensorSpec([]))
    with pytest.raises(TypeError, match="Could not build a TypeSpec"):
        tf.type_spec_from_value(object())


def test_against_tensorflow():
    real = pytest.importorskip("tensorflow")
    cases = [
        ([None, 2], [3, 2]), ([3, 2], [4, 2]), ([3], [3, 1]), ([2, 2], [2, 2]),
    ]  # fmt: skip
    for a, b in cases:
        ours = tf.TensorSpec(a).most_specific_common_supertype([tf.TensorSpec(b)])
        theirs = real.TensorSpec(a).most_specific_common_supertype([real.TensorSpec(b)])
        dims = ours.shape.as_list() if ours.shape.rank is not None else None
        assert dims == (theirs.shape.as_list() if theirs.shape.rank is not None else None)
        assert tf.TensorSpec(a).is_subtype_of(tf.TensorSpec(b)) == real.TensorSpec(a).is_subtype_of(
            real.TensorSpec(b)
        )
        assert tf.TensorSpec(b).is_subtype_of(tf.TensorSpec(a)) == real.TensorSpec(b).is_subtype_of(
            real.TensorSpec(a)
        )
    assert repr(tf.NoneTensorSpec()) == repr(real.NoneTensorSpec())
    assert repr(tf.TensorSpec([2, None])) == repr(real.TensorSpec([2, None]))
    ours = tf.type_spec_from_value(tf.IndexedSlices(tf.ones([2, 3]), tf.constant([0, 1], tf.int64)))
    theirs = real.type_spec_from_value(
        real.IndexedSlices(real.ones([2, 3]), real.constant([0, 1], real.int64))
    )
    assert repr(ours) == repr(theirs)


def test_convert_to_tensor_densifies_indexed_slices():
    values = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float32)
    indices = np.array([0, 2, 0])
    expect = np.zeros((4, 2), np.float32)
    np.add.at(expect, indices, values)  # repeated rows sum
    s = tf.IndexedSlices(tf.constant(values), tf.constant(indices), tf.constant([4, 2]))
    np.testing.assert_array_equal(tf.convert_to_tensor(s).numpy(), expect)
    with pytest.raises(ValueError, match="without dense_shape"):
        tf.convert_to_tensor(tf.IndexedSlices(tf.ones([1, 2]), tf.constant([0])))
    with pytest.raises(ValueError, match="int32"):
        tf.convert_to_tensor(s, tf.int32)
