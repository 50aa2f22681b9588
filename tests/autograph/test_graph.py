"""AutoGraph inside ``rill.function``: Python control flow on tensors becomes graph ops
(one trace serves every value), Python control flow on Python values unrolls, and the
results match plain Python run eagerly."""

import numpy as np
import pytest

import rill as tf
from rill import autograph as ag


def op_types(fn, *args):
    return [op.type for op in fn.get_concrete_function(*args).graph.get_operations()]


def c(v, dtype=None):
    return tf.constant(v, dtype=dtype)


# --------------------------------------------------------------------------------------
# Snippets
# --------------------------------------------------------------------------------------


def branchy(x):
    if x > 0:
        y = x * 2
    elif x > -10:
        y = -x
    else:
        y = x * 0
    return y


def count_down(n):
    steps = 0
    while n > 0:
        n -= 1
        steps += 1
    return steps


def sum_odd_until(n, limit):
    s = 0
    for i in tf.range(n):
        if i % 2 == 0:
            continue
        if s > limit:
            break
        s += i
    return s


def first_index_above(xs, t):
    for i in tf.range(tf.shape(xs)[0]):
        if xs[i] > t:
            return i
    return -1


def early_return(x):
    if x < 0:
        return -x * 10
    y = x + 1
    return y


def nested_tensor_loops(n):
    total = 0
    for i in tf.range(n):
        j = 0
        while j < i:
            if j > 2:
                break
            total += j
            j += 1
    return total


def python_range_of_tensor(n):
    acc = 0.0
    for i in range(n):
        acc += tf.cast(i, tf.float32)
    return acc


def rows(m):
    out = tf.zeros([2])
    for row in m:
        out += row
    return out


def python_list_loop(x):
    for scale in [1, 2, 3]:
        if x > 5:
            x = x - scale
    return x


def ternary_and_logic(x, y):
    a = x if x > y else y
    b = (x > 0) and (y > 0)
    d = (x > 0) or (y > 0)
    e = not (x > y)
    return a, b, d, e


def defined_in_one_branch(x):
    if x > 0:
        z = 1
    return z


def dtype_changes(x):
    i = 0
    while x > 0:
        x -= 1
        i = 1.5
    return i


def shape_changes(n):
    v = tf.zeros([1])
    for _ in tf.range(n):
        v = tf.concat([v, [1.0]], 0)
    return v


def shape_changes_with_invariant(n):
    v = tf.zeros([1])
    for _ in tf.range(n):
        ag.experimental.set_loop_options(shape_invariants=[(v, tf.TensorShape([None]))])
        v = tf.concat([v, [1.0]], 0)
    return v


def returns_in_one_branch_only(x):
    if x > 0:
        return 1


def return_dtypes_differ(x):
    if x > 0:
        return 1
    return 2.0


def undefined_before_loop(x):
    while x > 0:
        x -= 1
        z = x * 10
    return z


def iterate_after_loop(n):
    for i in tf.range(n):  # noqa: B007 - `i` is read after the loop
        pass
    return i


def helper_with_tensor_if(v):
    if v > 0:
        return v
    return -v


def calls_helper(x):
    return helper_with_tensor_if(x) + 1


@ag.do_not_convert
def unconverted_helper(v):
    if v > 0:
        return v
    return -v


def calls_unconverted(x):
    return unconverted_helper(x)


def loop_with_max_iterations(n):
    k = 0
    while k < n:
        ag.experimental.set_loop_options(maximum_iterations=3)
        k += 1
    return k


def python_while_on_python_value(x):
    i = 0
    while i < 4:
        x = x * 2
        i += 1
    return x


def tensor_len(x):
    return len(x)


def assert_in_graph(x):
    assert x > 0, "x must be positive"
    return x


def printed(x):
    print("tracing with", x.dtype.name)
    if x > 0:
        x = x + 1
    return x


def switches_midway(x):
    i = 0
    while i < 10:
        i = i + x
    return i


def python_loop_with_tensor_break(x):
    total = 0
    for v in [1, 2, 3, 4]:
        if total + v > x:
            break
        total += v
    return total


def tensor_array_loop(n):
    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    for i in tf.range(n):
        ta = ta.write(i, tf.cast(i * i, tf.float32))
    return ta.stack()


def while_else_returns(n):
    i = 0
    while i < n:
        i += 1
        if i == 5:
            return -1
    else:
        return i * 100


def return_in_nested_if(x):  # TF 2.21 rejects this one ("else branch must ... return")
    if x > 0:
        if x > 5:
            return 1
        x = x + 1
    return x


def loop_returns_or_falls_off(xs):
    for x in xs:
        if x > 2:
            return x


def several_returns_in_loop(x):
    for i in tf.range(10):
        if i == x:
            return i * 2
        if i > 7:
            return -i
    return 0


def none_before_loop(n):
    acc = None
    for i in tf.range(n):
        acc = i if acc is None else acc + i
    return acc


def dict_loop_variable(n):
    st = {"a": tf.constant(0), "b": tf.constant(1.0)}
    i = 0
    while i < n:
        st = {"a": st["a"] + 1, "b": st["b"] * 2.0}
        i += 1
    return st


def continue_in_while(n):
    i = 0
    s = 0
    while i < n:
        i += 1
        if i % 3 == 0:
            continue
        s += i
    return s


def compound_conditions(x):
    if x > 0 and x < 10:
        r = 1
    elif x < 0 or x > 100:
        r = 2
    else:
        r = 3
    return r


def counts_with_variable(v, limit):
    while v < limit:
        ag.experimental.set_loop_options(maximum_iterations=100)  # no hang if it regresses
        v.assign_add(1.0)
    return v.read_value()


def prints_each_call(x):
    if x > 0:
        print("positive:", x)
    return x


class Model:
    def __init__(self):
        self.v = tf.Variable(0.0)

    @tf.function
    def step(self, x):
        if x > 0:
            self.v.assign_add(x)
        else:
            self.v.assign_sub(1.0)
        return self.v.read_value()


# --------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------


def test_tensor_if_becomes_one_cond_traced_once():
    f = tf.function(branchy)
    for x in [5, -3, -20]:
        assert int(f(c(x))) == branchy(x)
    assert f.experimental_get_tracing_count() == 1
    assert "If" in op_types(f, c(1))


def test_python_if_on_python_value_unrolls_and_retraces():
    f = tf.function(branchy)
    assert f(3) == 6 and f(-4) == 4
    assert f.experimental_get_tracing_count() == 2
    assert "If" not in op_types(f, 3)


def test_tensor_while():
    f = tf.function(count_down)
    assert int(f(c(5))) == 5 and int(f(c(0))) == 0 and int(f(c(-2))) == 0
    assert f.experimental_get_tracing_count() == 1
    assert "While" in op_types(f, c(1))


@pytest.mark.parametrize("n,limit", [(0, 5), (10, 100), (20, 7), (9, 3)])
def test_for_over_range_with_break_and_continue(n, limit):
    f = tf.function(sum_odd_until)
    expected = 0
    for i in range(n):
        if i % 2 == 0:
            continue
        if expected > limit:
            break
        expected += i
    assert int(f(c(n), c(limit))) == expected


@pytest.mark.parametrize("t,expected", [(3.0, 2), (0.5, 0), (10.0, -1)])
def test_return_inside_tensor_loop(t, expected):
    f = tf.function(first_index_above)
    xs = c([1.0, 2.0, 4.0, 8.0])
    assert int(f(xs, c(t))) == expected
    assert f.experimental_get_tracing_count() == 1


def test_early_return_in_tensor_if():
    f = tf.function(early_return)
    assert int(f(c(-2))) == 20 and int(f(c(4))) == 5
    assert f.experimental_get_tracing_count() == 1


def test_nested_tensor_loops_with_break():
    f = tf.function(nested_tensor_loops)
    assert int(f(c(6))) == nested_tensor_loops(6)
    assert op_types(f, c(1)).count("While") == 1  # the inner loop lives in the body graph


def test_python_range_of_a_tensor_is_a_graph_loop():
    f = tf.function(python_range_of_tensor)
    assert float(f(c(4))) == 6.0 and float(f(c(0))) == 0.0
    assert "While" in op_types(f, c(1))
    assert float(f(4)) == 6.0 and "While" not in op_types(f, 4)  # Python int: unrolled


def test_for_over_a_tensor_iterates_its_rows():
    f = tf.function(rows)
    m = c([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_allclose(f(m).numpy(), [9.0, 12.0])


def test_python_list_loop_with_tensor_if_unrolls():
    f = tf.function(python_list_loop)
    assert int(f(c(10))) == 4 and int(f(c(3))) == 3
    types = op_types(f, c(1))
    assert types.count("If") == 3 and "While" not in types


def test_ternary_and_logical_operators_on_tensors():
    f = tf.function(ternary_and_logic)
    for x, y in [(1.0, 2.0), (3.0, -1.0), (-1.0, -2.0)]:
        a, b, d, e = f(c(x), c(y))
        assert float(a) == max(x, y)
        assert bool(b) == (x > 0 and y > 0) and bool(d) == (x > 0 or y > 0)
        assert bool(e) == (not x > y)


def test_variable_defined_in_one_branch_is_an_error():
    with pytest.raises(ValueError, match="'z' must also be initialized in the else branch"):
        tf.function(defined_in_one_branch)(c(1))
    assert tf.function(defined_in_one_branch)(1) == 1  # Python condition: Python semantics


def test_loop_variable_dtype_and_shape_changes_are_errors():
    with pytest.raises(
        TypeError, match="'i' has dtype int32 before the loop, but dtype float32 after one"
    ):
        tf.function(dtype_changes)(c(3))
    with pytest.raises(ValueError, match=r"'v' has shape \(1,\) before the loop, but shape \(2,\)"):
        tf.function(shape_changes)(c(3))
    out = tf.function(shape_changes_with_invariant)(c(3))
    np.testing.assert_allclose(out.numpy(), [0.0, 1.0, 1.0, 1.0])


def test_return_errors():
    with pytest.raises(ValueError, match="the else branch must also have a return statement"):
        tf.function(returns_in_one_branch_only)(c(1))
    with pytest.raises(
        TypeError,
        match="the return value has dtype int32 in the main branch, but dtype float32 in the else",
    ):
        tf.function(return_dtypes_differ)(c(1))


def test_variables_undefined_before_a_loop_get_defined_by_it():
    f = tf.function(undefined_before_loop)
    assert int(f(c(3))) == 0
    g = tf.function(iterate_after_loop)
    assert int(g(c(4))) == 3


def test_called_functions_are_converted_unless_marked():
    f = tf.function(calls_helper)
    assert int(f(c(-3))) == 4 and int(f(c(2))) == 3
    with pytest.raises(TypeError, match="as a Python bool"):
        tf.function(calls_unconverted)(c(1))


def test_autograph_false_keeps_python_semantics():
    with pytest.raises(TypeError, match="as a Python bool"):
        tf.function(branchy, autograph=False)(c(1))


def test_maximum_iterations_directive():
    f = tf.function(loop_with_max_iterations)
    assert int(f(c(10))) == 3 and int(f(c(2))) == 2


def test_python_while_unrolls():
    f = tf.function(python_while_on_python_value)
    assert float(f(c(1.5))) == 24.0
    assert "While" not in op_types(f, c(1.0))


def test_len_of_tensors():
    f = tf.function(tensor_len)
    assert f(c([1, 2, 3])) == 3  # static first dimension: a Python int
    g = tf.function(tensor_len, input_signature=[tf.TensorSpec([None], tf.int32)])
    assert int(g(c([1, 2, 3, 4]))) == 4


def test_assert_on_a_tensor_becomes_an_assert_op():
    f = tf.function(assert_in_graph)
    assert int(f(c(2))) == 2
    with pytest.raises(tf.errors.InvalidArgumentError, match="x must be positive"):
        f(c(-1))


def test_python_print_runs_only_while_tracing(capsys):
    f = tf.function(printed)
    f(c(1))
    f(c(2))
    assert capsys.readouterr().out.count("tracing with int32") == 1


def test_while_test_turning_into_a_tensor_continues_as_a_graph_loop():
    f = tf.function(switches_midway)
    assert int(f(c(3))) == 12 and int(f(c(20))) == 20


def test_tensor_break_in_a_python_loop():
    f = tf.function(python_loop_with_tensor_break)
    for x in [0, 1, 4, 6, 100]:
        assert int(f(c(x))) == python_loop_with_tensor_break(x)


def test_method_with_tensor_if():
    m = Model()
    assert float(m.step(c(2.0))) == 2.0
    assert float(m.step(c(-5.0))) == 1.0
    assert Model.step.__get__(m).experimental_get_tracing_count() == 1


def test_tensor_array_accumulates_in_a_graph_loop():
    f = tf.function(tensor_array_loop)
    np.testing.assert_allclose(f(c(4)).numpy(), [0.0, 1.0, 4.0, 9.0])


def test_gradient_through_converted_control_flow():
    @tf.function
    def loss(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x
            i = 0
            while i < 3:
                if y > 0:
                    y = y * x
                else:
                    y = y - x
                i += 1
        return tape.gradient(y, x)

    assert float(loss(c(2.0))) == pytest.approx(4 * 2.0**3)  # d/dx x**4
    # x = -1: y = x - x = 0, then 0 - x = -x, then (-x) * x: d/dx (-x**2) = 2
    assert float(loss(c(-1.0))) == pytest.approx(2.0)


def test_to_code_matches_what_rill_function_runs():
    f = tf.function(branchy)
    assert "ag__.if_stmt" in ag.to_code(branchy)
    f(c(1))
    assert ag.is_converted(ag.convert(branchy))


def test_return_patterns_in_graphs():
    f = tf.function(while_else_returns)
    assert int(f(c(3))) == 300 and int(f(c(8))) == -1
    g = tf.function(return_in_nested_if)
    assert [int(g(c(v))) for v in (7, 2, -3)] == [1, 3, -3]
    h = tf.function(several_returns_in_loop)
    assert int(h(c(3))) == 6 and int(h(c(9))) == -8
    assert h.experimental_get_tracing_count() == 1
    with pytest.raises(ValueError, match="else branch must also have a return statement"):
        tf.function(loop_returns_or_falls_off)(c([1, 3]))


def test_loop_variables_of_every_kind():
    assert int(tf.function(none_before_loop)(c(4))) == 6
    out = tf.function(dict_loop_variable)(c(3))
    assert int(out["a"]) == 3 and float(out["b"]) == 8.0
    assert int(tf.function(continue_in_while)(c(10))) == continue_in_while(10)
    f = tf.function(compound_conditions)
    assert [int(f(c(v))) for v in (5, -1, 50, 200)] == [1, 2, 3, 2]


def test_loop_on_a_variable_condition():
    v = tf.Variable(0.0)
    f = tf.function(counts_with_variable)
    assert float(f(v, c(3.0))) == 3.0 and float(v) == 3.0
    assert float(f(v, c(5.0))) == 5.0
    assert f.experimental_get_tracing_count() == 1


def test_builtin_functions_feature_prints_on_every_call(capsys):
    converted = ag.to_graph(
        prints_each_call, experimental_optional_features=ag.experimental.Feature.ALL
    )
    f = tf.function(converted)
    f(c(1))
    f(c(2))
    f(c(-1))
    out = capsys.readouterr().out
    assert out.count("positive:") == 2 and "positive: 2" in out


def test_to_code_accepts_a_rill_function():
    f = tf.function(branchy)
    assert ag.to_code(f) == ag.to_code(branchy)


def test_a_captured_eager_tensor_is_iterated_by_a_graph_loop():
    table = c([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    n = c(3)

    @tf.function
    def f(x):
        acc = x
        for row in table:
            acc += row
        for _ in range(n):
            acc += 1.0
        return acc

    np.testing.assert_allclose(f(c([0.0, 0.0])).numpy(), [12.0, 15.0])
    assert op_types(f, c([0.0, 0.0])).count("While") == 2


def range_variants(a, b, step):
    out = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
    k = 0
    for i in tf.range(a, b, step):
        out = out.write(k, i)
        k += 1
    fl = 0.0
    for x in tf.range(0.0, 1.0, 0.25):
        fl += x
    return out.stack(), k, fl


@pytest.mark.parametrize("a,b,step", [(10, 0, -3), (0, 7, 2), (5, 5, 1), (3, 0, 1)])
def test_for_over_range_arguments(a, b, step):
    values, k, fl = tf.function(range_variants)(c(a), c(b), c(step))
    expected = list(range(a, b, step))
    assert int(k) == len(expected) and float(fl) == 1.5
    assert values.numpy().tolist() == expected


def test_for_over_a_tensor_of_unknown_length():
    f = tf.function(rows, input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    np.testing.assert_allclose(f(c([[1.0, 2.0]] * 5)).numpy(), [5.0, 10.0])
    np.testing.assert_allclose(f(tf.zeros([0, 2])).numpy(), [0.0, 0.0])
