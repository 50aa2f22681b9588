"""rill.function: tracing rules, signatures, variables, concrete functions, executor."""

import collections
import warnings

import numpy as np
import pytest

import rill as tf
from rill.tracing import RetracingWarning


def counting(fn=None, **kw):
    """A traced function that counts how often its Python body runs (= traces)."""
    calls = []

    def wrap(f):
        def body(*a, **k):
            calls.append(1)
            return f(*a, **k)

        body.__name__ = f.__name__
        g = tf.function(body, **kw)
        g.python_calls = calls
        return g

    return wrap(fn) if fn else wrap


def test_traces_once_per_dtype_and_shape():
    f = counting(lambda x: x * 2)
    f(tf.constant([1.0, 2.0]))
    f(tf.constant([3.0, 4.0]))  # same signature: no retrace
    assert f.experimental_get_tracing_count() == 1
    f(tf.constant([1.0, 2.0, 3.0]))  # new shape
    f(tf.constant([1, 2]))  # new dtype
    assert f.experimental_get_tracing_count() == 3 and len(f.python_calls) == 3


def test_python_values_are_keyed_by_value():
    f = counting(lambda x, n: x * n)
    x = tf.constant(1.0)
    f(x, 2.0)
    f(x, 2.0)
    assert f.experimental_get_tracing_count() == 1
    f(x, 3.0)
    assert f.experimental_get_tracing_count() == 2
    assert float(f(x, 3.0)) == 3.0  # baked into the graph


def test_variables_are_keyed_by_identity_and_read_at_call_time():
    f = counting(lambda v: v * 2.0)
    a, b = tf.Variable(1.0), tf.Variable(1.0)
    assert float(f(a)) == 2.0
    a.assign(5.0)
    assert float(f(a)) == 10.0  # captured variable read when called, not when traced
    f(b)
    assert f.experimental_get_tracing_count() == 2


def test_nested_structures_are_keyed_by_structure():
    Point = collections.namedtuple("Point", "x y")
    f = counting(lambda s: s["a"][0] + s["a"][1].y)
    one = tf.constant(1.0)
    f({"a": [one, Point(one, one)]})
    f({"a": [one, Point(one, one)]})
    assert f.experimental_get_tracing_count() == 1
    f({"a": (one, Point(one, one))})  # list -> tuple is a new structure
    assert f.experimental_get_tracing_count() == 2


def test_side_effects_run_only_while_tracing():
    log = []

    @tf.function
    def f(x):
        log.append("traced")
        return x + 1

    for _ in range(3):
        f(tf.constant(1))
    assert log == ["traced"]


def test_input_signature_accepts_matching_shapes_and_rejects_others():
    f = counting(input_signature=[tf.TensorSpec(shape=[None, 3], dtype=tf.float32)])(
        lambda x: x * 2.0
    )
    f(tf.ones([2, 3]))
    f(tf.ones([7, 3]))
    assert f.experimental_get_tracing_count() == 1
    with pytest.raises(TypeError, match="input_signature"):
        f(tf.ones([2, 4]))
    with pytest.raises(TypeError, match="input_signature"):
        f(tf.ones([2, 3], tf.float64))
    cf = f.get_concrete_function()
    assert cf.inputs[0].shape.as_list() == [None, 3]


def test_reduce_retracing_generalises_shapes():
    f = counting(reduce_retracing=True)(lambda x: tf.reduce_sum(x))
    f(tf.ones([2]))
    f(tf.ones([3]))  # retraces once with shape [None]
    f(tf.ones([4]))
    f(tf.ones([10]))
    assert f.experimental_get_tracing_count() == 2
    assert float(f(tf.ones([5]))) == 5.0


def test_variables_only_on_first_trace():
    class Model:
        def __init__(self):
            self.v = None

        @tf.function
        def __call__(self, x):
            if self.v is None:
                self.v = tf.Variable(tf.ones_like(x))
            return self.v * x

    m = Model()
    np.testing.assert_array_equal(m(tf.constant([2.0])).numpy(), [2.0])
    np.testing.assert_array_equal(m(tf.constant([3.0])).numpy(), [3.0])

    @tf.function
    def bad(x):
        v = tf.Variable(1.0)  # created on every trace
        return v * x

    # as in TF, the first call already fails: it is traced a second time, which would
    # create another variable
    with pytest.raises(ValueError, match="only supports singleton tf.Variables"):
        bad(tf.constant(1.0))

    traces = []

    @tf.function
    def creates_once(x):
        traces.append(1)
        if not made:
            made.append(tf.Variable(2.0))
        return made[0] * x

    made = []
    assert float(creates_once(tf.constant(3.0))) == 6.0
    assert len(traces) == 2 and len(made) == 1  # traced twice on the first call, as TF
    assert float(creates_once(tf.constant(4.0))) == 8.0 and len(traces) == 2


def test_python_values_returned_become_tensors():
    f = tf.function(lambda x: x * x - 3 * x + 1)
    r = f(4)
    assert isinstance(r, tf.Tensor) and r.dtype == tf.int32 and int(r) == 5
    out = tf.function(lambda x: {"a": 1, "b": (x, 2.5, None), "s": "t"})(tf.constant(1))
    assert out["a"].dtype == tf.int32 and out["b"][1].dtype == tf.float32
    assert out["b"][2] is None and out["s"].numpy() == b"t"
    with pytest.raises(TypeError, match="must return zero or more"):
        tf.function(lambda x: object())(1)


def test_input_signature_converts_python_and_numpy_values():
    @tf.function(input_signature=[tf.TensorSpec((None, 3), tf.float32)])
    def f(x):
        return x * 2

    r = f([[1.0, 2.0, 3.0]])
    assert r.dtype == tf.float32 and r.numpy().tolist() == [[2.0, 4.0, 6.0]]
    assert f(np.ones((2, 3))).dtype == tf.float32  # float64 NumPy data, converted
    with pytest.raises(TypeError):
        f(tf.constant(np.ones((2, 3))))  # a float64 tensor is not converted


def test_returned_variable_is_read_at_each_call():
    v = tf.Variable(1.0)
    f = tf.function(lambda: v)
    assert float(f()) == 1.0
    v.assign(5.0)
    assert float(f()) == 5.0  # read when called, not frozen at trace time (as TF)


def test_input_signature_of_unknown_rank():
    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32)])
    def f(x):
        return tf.reduce_sum(x) + tf.cast(tf.rank(x), tf.float32)

    assert float(f(tf.ones((2, 2)))) == 6.0 and float(f(tf.ones((3,)))) == 4.0
    assert len(f._concretes) == 1


def test_methods_are_bound_per_instance():
    class Scale:
        def __init__(self, k):
            self.k = k

        @tf.function
        def __call__(self, x):
            return x * self.k

    a, b = Scale(2.0), Scale(3.0)
    x = tf.constant(1.0)
    assert float(a(x)) == 2.0 and float(b(x)) == 3.0
    assert a.__call__.experimental_get_tracing_count() == 1


def test_concrete_function_introspection():
    @tf.function
    def f(x, y):
        return {"sum": x + y, "prod": x * y}

    cf = f.get_concrete_function(
        tf.TensorSpec([None], tf.float32), tf.TensorSpec([None], tf.float32)
    )
    types = [op.type for op in cf.graph.get_operations()]
    assert types.count("Placeholder") == 2 and "AddV2" in types and "Mul" in types
    add = next(op for op in cf.graph.get_operations() if op.type == "AddV2")
    assert [t.name for t in add.inputs] == ["x:0", "x_1:0"] and add.outputs[0].shape.as_list() == [
        None
    ]
    assert len(cf.inputs) == 2 and len(cf.outputs) == 2
    assert set(cf.structured_outputs) == {"sum", "prod"}
    assert cf.structured_input_signature[0][0] == tf.TensorSpec([None], tf.float32)
    out = cf(tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0]))
    np.testing.assert_array_equal(out["prod"].numpy(), [3.0, 8.0])
    sig = cf.pretty_printed_signature()  # TF 2.21's layout
    assert (
        "x (POSITIONAL_OR_KEYWORD): TensorSpec(shape=(None,), dtype=tf.float32, name=None)" in sig
    )
    assert (
        sig.splitlines()[0] == "Input Parameters:" and "Output Type:" in sig and "Captures:" in sig
    )
    with pytest.raises(TypeError):
        cf(tf.constant([[1.0]]), tf.constant([1.0]))
    dot = cf.graph.to_dot()
    assert dot.startswith("digraph") and "AddV2" in dot


def test_retracing_warning_names_the_changed_argument():
    f = tf.function(lambda x: x + 1)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        for n in range(1, 8):
            f(tf.ones([32, n]))
    msgs = [str(w.message) for w in rec if issubclass(w.category, RetracingWarning)]
    assert msgs, "expected a retracing warning"
    assert "shape (32, 6) -> (32, 7)" in msgs[-1] and "input_signature" in msgs[-1]


def test_python_scalar_retracing_warning():
    f = tf.function(lambda x, n: x * n)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        for n in range(8):
            f(tf.constant(1.0), float(n))
    msgs = [str(w.message) for w in rec if issubclass(w.category, RetracingWarning)]
    # warnings stop after two per function (as TF): the last one is the second
    assert "Python value 5.0 -> 6.0" in msgs[-1] and len(msgs) == 2


def test_tensor_escaping_a_trace_raises_clearly():
    leaked = []

    @tf.function
    def f(x):
        y = x * 2
        leaked.append(y)
        return y

    f(tf.constant(1.0))
    with pytest.raises(TypeError, match="used outside that trace"):
        leaked[0] + 1


def test_symbolic_bool_raises_with_advice():
    @tf.function(autograph=False)
    def f(x):
        if x > 0:
            return x
        return -x

    with pytest.raises(TypeError, match="Python bool"):
        f(tf.constant(1.0))


def test_gradient_tape_inside_a_traced_training_step_matches_eager():
    def make():
        return tf.Variable([[1.0], [2.0]]), tf.Variable([0.5])

    x = tf.constant([[1.0, 1.0], [2.0, 0.0]])
    y = tf.constant([[1.0], [0.0]])

    def step(w, b):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
        gw, gb = tape.gradient(loss, [w, b])
        w.assign_sub(0.1 * gw)
        b.assign_sub(0.1 * gb)
        return loss

    we, be = make()
    wg, bg = make()
    traced = tf.function(step)
    for _ in range(3):
        np.testing.assert_allclose(float(traced(wg, bg)), float(step(we, be)), rtol=1e-6)
    np.testing.assert_allclose(wg.numpy(), we.numpy(), rtol=1e-6)
    assert traced.experimental_get_tracing_count() == 1


def test_tape_outside_a_traced_function():
    w = tf.Variable(2.0)

    @tf.function
    def f(x):
        return tf.reduce_sum(tf.sin(x) * w)

    x = tf.constant([0.5, 1.0])
    with tf.GradientTape() as t:
        t.watch(x)
        y = f(x)
    gx, gw = t.gradient(y, [x, w])
    np.testing.assert_allclose(gx.numpy(), 2.0 * np.cos([0.5, 1.0]), rtol=1e-6)
    np.testing.assert_allclose(float(gw), np.sin([0.5, 1.0]).sum(), rtol=1e-6)


def test_nested_functions_are_inlined():
    inner = tf.function(lambda x: x * 3.0)

    @tf.function
    def outer(x):
        return inner(x) + 1.0

    assert float(outer(tf.constant(2.0))) == 7.0


def test_optimiser_folds_constants_dedupes_and_prunes():
    @tf.function
    def f(x):
        c = tf.constant(2.0) * tf.constant(3.0)  # folded
        a = tf.sin(x) * c
        b = tf.sin(x) * c  # common subexpression
        tf.cos(x)  # dead
        return tf.identity(a + b)

    x = tf.constant([0.1, 0.2])
    np.testing.assert_allclose(f(x).numpy(), 12 * np.sin([0.1, 0.2]), rtol=1e-6)
    cf = f.get_concrete_function(x)
    assert [n.op.type for n in cf._plan.nodes] == ["Sin", "Mul", "AddV2"]


def test_runtime_error_names_the_op_and_where_it_was_created():
    @tf.function
    def f(x, i):
        return tf.gather(x, i)

    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        f(tf.constant([1.0, 2.0]), tf.constant([5]))
    msg = str(e.value)
    assert "GatherV2" in msg and "test_function.py" in msg and "is not in [0, 2)" in msg


def test_variable_assignments_run_at_call_time_in_order():
    v = tf.Variable(1.0)

    @tf.function
    def f():
        v.assign_add(1.0)
        before = v.read_value()
        v.assign(v * 10.0)
        return before, v.read_value()

    a, b = f()
    assert (float(a), float(b)) == (2.0, 20.0)
    a, b = f()
    assert (float(a), float(b)) == (21.0, 210.0)


def test_python_outputs_and_none_pass_through():
    @tf.function
    def f(x):
        return x + 1, "label", None, 3

    t, s, n, k = f(tf.constant(1))
    assert int(t) == 2 and s == "label" and n is None and k == 3


def test_numpy_calls_are_frozen_at_trace_time():
    @tf.function
    def f(x):
        return x + np.random.uniform()  # a constant in the graph

    x = tf.constant(0.0)
    assert float(f(x)) == float(f(x))


def test_in_place_updates_never_touch_arguments_views_or_variables():
    v = tf.Variable([1.0, 2.0])

    @tf.function
    def f(x):
        y = x * 2.0  # a fresh array...
        view = tf.reshape(y, [2, 1])  # ...aliased by a view
        w = y + 1.0  # y's last use: must not be updated in place (view is still live)
        v.assign(w * 1.0)  # the variable takes this array
        u = tf.tanh(v.read_value()) + 0.0
        return view, w, u

    x = tf.constant([1.0, 2.0])
    view, w, u = f(x)
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(view.numpy().ravel(), [2.0, 4.0])
    np.testing.assert_array_equal(w.numpy(), [3.0, 5.0])
    np.testing.assert_array_equal(v.numpy(), [3.0, 5.0])
    np.testing.assert_allclose(u.numpy(), np.tanh([3.0, 5.0]), rtol=1e-6)
    src = f.get_concrete_function(x)._plan.source
    assert "*=" in src or "+=" in src or "out=" in src  # in-place updates are used where safe


def test_set_shape_narrows_the_static_shape_while_tracing():
    @tf.function
    def f(x):
        assert x.shape.as_list() == [None, 3]
        x.set_shape([4, 3])
        assert x.shape.as_list() == [4, 3]
        with pytest.raises(ValueError):
            x.set_shape([5, 3])
        return x

    f.get_concrete_function(tf.TensorSpec([None, 3]))
