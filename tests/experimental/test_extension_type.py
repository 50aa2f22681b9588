"""tf.experimental.ExtensionType, its Spec, batching, and the dispatch_for_* decorators,
following TF's extension type guide (MaskedTensor); reprs, values and error classes are
compared with TensorFlow 2.21 where it is installed."""

import typing

import numpy as np
import pytest

import rill as tf


def _define(tfm):
    """The guide's classes, defined against either library (``tfm`` is rill or TF)."""

    class MaskedTensor(tfm.experimental.ExtensionType):
        values: tfm.Tensor
        mask: tfm.Tensor

        def __validate__(self):
            self.values.shape.assert_is_compatible_with(self.mask.shape)
            assert self.mask.dtype.is_bool, "mask.dtype must be bool"

    class Params(tfm.experimental.ExtensionType):
        x: float
        n: int = 3
        t: typing.Tuple[int, ...] = ()  # noqa: UP006 - as TF's guide writes them
        m: typing.Mapping[str, tfm.Tensor] = {}
        o: typing.Optional[tfm.Tensor] = None  # noqa: UP045

    class Batch(tfm.experimental.BatchableExtensionType):
        v: tfm.Tensor
        k: int = 0

    return MaskedTensor, Params, Batch


MaskedTensor, Params, Batch = _define(tf)


def test_fields_are_converted_and_typed():
    mt = MaskedTensor([1, 2, 3], [True, False, True])
    assert mt.values.dtype == tf.int32 and mt.mask.dtype == tf.bool
    np.testing.assert_array_equal(mt.values.numpy(), [1, 2, 3])
    p = Params(1.0, t=[1, 2], m={"a": 1})
    assert p.n == 3 and p.t == (1, 2) and isinstance(p.t, tuple)
    assert p.m["a"].dtype == tf.int32 and p.o is None
    with pytest.raises(TypeError, match="x: expected 'float', got 'int'"):
        Params(1)
    with pytest.raises(TypeError, match="missing a required argument: 'mask'"):
        MaskedTensor(values=[1, 2])


def test_validate_and_immutability():
    with pytest.raises(AssertionError, match="mask.dtype must be bool"):
        MaskedTensor([1, 2], [1, 2])
    with pytest.raises(ValueError):  # shapes [2] and [3] are not compatible
        MaskedTensor([1, 2], [True, False, True])
    mt = MaskedTensor([1], [True])
    with pytest.raises(AttributeError, match="Cannot mutate attribute `values`"):
        mt.values = tf.constant([2])
    with pytest.raises(TypeError, match="unhashable"):
        hash(mt)


def test_custom_constructor_and_spec_class():
    class Pair(tf.experimental.ExtensionType):
        a: tf.Tensor
        b: tf.Tensor

        def __init__(self, a, b=None):
            self.a = a
            self.b = a if b is None else b

        class Spec:
            shape = property(lambda self: self.a.shape)

    p = Pair([1.0, 2.0])
    np.testing.assert_array_equal(p.b.numpy(), [1.0, 2.0])
    spec = p._type_spec
    assert isinstance(spec, Pair.Spec) and isinstance(spec, tf.experimental.ExtensionTypeSpec)
    assert spec.shape == tf.TensorShape([2])
    assert Pair.Spec.__qualname__.endswith("Pair.Spec") and spec.value_type is Pair


def test_eq_is_a_bool_tensor():
    a = MaskedTensor([1, 2], [True, False])
    assert bool(a == MaskedTensor([1, 2], [True, False]))
    assert not bool(a == MaskedTensor([1, 3], [True, False]))
    assert not bool(a == MaskedTensor([1, 2, 3], [True, False, True]))  # other spec
    assert bool(a != MaskedTensor([1, 3], [True, False]))
    assert (a == a).dtype == tf.bool


def test_spec_api():
    mt = MaskedTensor([1, 2, 3], [True, False, True])
    spec = tf.type_spec_from_value(mt)
    assert spec == MaskedTensor.Spec(tf.TensorSpec([3], tf.int32), tf.TensorSpec([3], tf.bool))
    relaxed = MaskedTensor.Spec(
        values=tf.TensorSpec([None], tf.int32), mask=tf.TensorSpec([None], tf.bool)
    )
    assert spec.is_subtype_of(relaxed) and not relaxed.is_subtype_of(spec)
    assert spec.most_specific_common_supertype([MaskedTensor([1], [True])._type_spec]) == relaxed
    assert spec.is_compatible_with(mt)
    assert tf.experimental.extension_type.as_dict(mt).keys() == {"values", "mask"}


def test_nest_expand_composites():
    mt = MaskedTensor([1, 2], [True, False])
    flat = tf.nest.flatten(mt, expand_composites=True)
    assert [t.dtype for t in flat] == [tf.int32, tf.bool]
    assert tf.nest.flatten(mt) == [mt]
    back = tf.nest.pack_sequence_as(
        mt, [tf.constant([5, 6]), tf.constant([False, False])], expand_composites=True
    )
    assert isinstance(back, MaskedTensor)
    np.testing.assert_array_equal(back.values.numpy(), [5, 6])


def test_function_retraces_only_when_the_spec_changes():
    traces = []

    @tf.function
    def double(x):
        traces.append(1)
        return MaskedTensor(x.values * 2, x.mask)

    r = double(MaskedTensor([1, 2], [True, False]))
    double(MaskedTensor([3, 4], [False, False]))
    assert len(traces) == 1 and isinstance(r, MaskedTensor)
    np.testing.assert_array_equal(r.values.numpy(), [2, 4])
    double(MaskedTensor([1, 2, 3], [True, True, True]))  # a new shape: a new spec
    assert len(traces) == 2
    sig = MaskedTensor.Spec(tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.bool))
    g = tf.function(lambda x: x.values + 1, input_signature=[sig])
    np.testing.assert_array_equal(g(MaskedTensor([1], [True])).numpy(), [2])


def test_python_fields_key_the_trace():
    traces = []

    @tf.function
    def f(p):
        traces.append(1)
        return p.x * 2

    f(Params(1.0))
    f(Params(1.0))
    f(Params(2.0))
    assert len(traces) == 2


def test_batchable_spec_and_values():
    b = Batch(tf.reshape(tf.range(6), [3, 2]))
    spec = b._type_spec
    assert spec._unbatch() == Batch.Spec(tf.TensorSpec([2], tf.int32), 0)
    assert spec._batch(4) == Batch.Spec(tf.TensorSpec([4, 3, 2], tf.int32), 0)
    rows = spec._rill_unbatch_value(b)
    np.testing.assert_array_equal(rows[2].v.numpy(), [4, 5])
    again = rows[0]._type_spec._rill_batch_values(rows)
    np.testing.assert_array_equal(again.v.numpy(), np.arange(6).reshape(3, 2))
    ds = tf.data.Dataset.from_tensors(b)
    assert ds.element_spec == spec
    (only,) = list(ds)
    assert bool(only == b)


def test_dispatch_for_api_and_unregister():
    mt = MaskedTensor([1, 2], [True, False])

    @tf.experimental.dispatch_for_api(tf.math.add)
    def masked_add(x: MaskedTensor, y: MaskedTensor, name=None):
        return MaskedTensor(x.values + y.values, x.mask & y.mask)

    try:
        r = tf.math.add(mt, mt)
        np.testing.assert_array_equal(r.values.numpy(), [2, 4])
        r = tf.add(x=mt, y=mt)  # the same op under its other name, by keyword
        np.testing.assert_array_equal(r.values.numpy(), [2, 4])
        np.testing.assert_array_equal(tf.math.add(1, 2).numpy(), 3)  # dense calls unchanged
    finally:
        tf.experimental.unregister_dispatch_for(masked_add)
    with pytest.raises(ValueError, match="was not registered"):
        tf.experimental.unregister_dispatch_for(masked_add)
    with pytest.raises(ValueError, match="does not match"):
        tf.experimental.dispatch_for_api(tf.math.add, {"x": MaskedTensor})(lambda a, b: a)


def test_elementwise_dispatchers():
    @tf.experimental.dispatch_for_unary_elementwise_apis(MaskedTensor)
    def unary(api_func, x):
        return MaskedTensor(api_func(x.values), x.mask)

    @tf.experimental.dispatch_for_binary_elementwise_apis(
        typing.Union[MaskedTensor, tf.Tensor],  # noqa: UP007 - the guide's spelling
        typing.Union[MaskedTensor, tf.Tensor],  # noqa: UP007
    )
    def binary(api_func, x, y):
        if not isinstance(x, MaskedTensor):
            x = MaskedTensor(x, tf.ones_like(x, tf.bool))
        if not isinstance(y, MaskedTensor):
            y = MaskedTensor(y, tf.ones_like(y, tf.bool))
        return MaskedTensor(api_func(x.values, y.values), x.mask & y.mask)

    try:
        mt = MaskedTensor([-1.5, 2.0], [True, False])
        np.testing.assert_array_equal(tf.math.abs(mt).values.numpy(), [1.5, 2.0])
        np.testing.assert_array_equal(tf.cast(mt, tf.int32).values.numpy(), [-1, 2])
        r = tf.math.maximum(mt, tf.constant([0.0, 5.0]))
        np.testing.assert_array_equal(r.values.numpy(), [0.0, 5.0])
        np.testing.assert_array_equal(r.mask.numpy(), [True, False])
        np.testing.assert_array_equal(tf.math.abs(tf.constant([-2.0])).numpy(), [2.0])
    finally:
        tf.experimental.unregister_dispatch_for(unary)
        tf.experimental.unregister_dispatch_for(binary)
    with pytest.raises((TypeError, ValueError)):
        tf.math.abs(MaskedTensor([1.0], [True]))


def test_against_tensorflow():
    real = pytest.importorskip("tensorflow")
    RM, RP, RB = _define(real)
    pairs = [
        (MaskedTensor([1, 2, 3], [True, False, True]), RM([1, 2, 3], [True, False, True])),
        (Params(1.0, t=[1, 2]), RP(1.0, t=[1, 2])),
    ]
    for ours, theirs in pairs:
        assert repr(ours._type_spec) == repr(theirs._type_spec)
        flat = tf.nest.flatten(ours, expand_composites=True)
        rflat = real.nest.flatten(theirs, expand_composites=True)
        assert len(flat) == len(rflat)
        for a, b in zip(flat, rflat):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    rb = RB(real.reshape(real.range(6), [3, 2]))
    b = Batch(tf.reshape(tf.range(6), [3, 2]))
    assert repr(b._type_spec._unbatch()) == repr(rb._type_spec._unbatch())
    for ctor, args in ((MaskedTensor, ([1], [1])), (Params, (1,)), (MaskedTensor, ([1],))):
        rctor = {MaskedTensor: RM, Params: RP}[ctor]
        with pytest.raises(Exception) as ours_err:
            ctor(*args)
        with pytest.raises(Exception) as theirs_err:
            rctor(*args)
        assert ours_err.type is theirs_err.type
