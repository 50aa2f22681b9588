"""tf.print: TF's text layout, streams, and printing on every call of a traced function.

The expected strings below follow TF's documented layout and were checked against
TensorFlow 2.21's tf.print output for the same inputs.
"""

import logging
import sys

import numpy as np
import pytest

import rill as tf
from rill.ops.logging_ops import format_tensor, print_v2


def _out(capsys, *args, **kw):
    print_v2(*args, output_stream=sys.stdout, **kw)
    return capsys.readouterr().out


def test_vectors_are_elided_beyond_summarize_items_at_each_end():
    for n in range(9):
        a = np.arange(n)
        want = (
            "[" + " ".join(map(str, a)) + "]" if n <= 6 else f"[0 1 2 ... {n - 3} {n - 2} {n - 1}]"
        )
        assert format_tensor(a, 3) == want
    assert format_tensor(np.arange(10), -1) == "[" + " ".join(map(str, range(10))) + "]"
    assert format_tensor(np.arange(10), 2) == "[0 1 ... 8 9]"
    assert format_tensor(np.arange(10), 0) == "[ ...]"


def test_matrices_and_higher_ranks():
    assert format_tensor(np.arange(12).reshape(3, 4)) == "[[0 1 2 3]\n [4 5 6 7]\n [8 9 10 11]]"
    assert format_tensor(np.arange(64).reshape(8, 8), 1) == "[[0 ... 7]\n ...\n [56 ... 63]]"
    assert format_tensor(np.arange(8).reshape(2, 2, 2)) == "[[[0 1]\n  [2 3]]\n\n [[4 5]\n  [6 7]]]"
    assert format_tensor(np.zeros((0,))) == "[]"
    assert format_tensor(np.zeros((2, 0))) == "[\n ...]"


def test_element_text_per_dtype():
    third = np.float32(1) / np.float32(3)
    assert format_tensor(np.array([1.0, 2.5, third], np.float32)) == "[1 2.5 0.333333343]"
    assert format_tensor(np.array([1 / 3], np.float64)) == "[0.33333333333333331]"
    assert format_tensor(np.array([0.1, 1e10, 123456789.0], np.float32)) == "[0.1 1e+10 123456792]"
    assert format_tensor(np.array([np.nan, np.inf, -np.inf, -0.0])) == "[nan inf -inf -0]"
    assert format_tensor(np.array([0.1], np.float16)) == "[0.0999755859]"
    assert format_tensor(np.array([True, False])) == "[1 0]"
    assert format_tensor(np.array([1, 2], np.uint8)) == "[1 2]"
    assert format_tensor(np.array([1 + 2j, 3j])) == "[? ?]"
    strings = np.array([b"a\nb\"q'\t\\ \xc3\xa9", b"x"], dtype=object)
    assert format_tensor(strings) == '["a\\nb\\"q\\\'\\t\\\\ é" "x"]'
    assert format_tensor(np.array(5)) == "5"
    assert format_tensor(np.array(5), 0) == "..."


def test_print_inputs_and_structures(capsys):
    got = _out(capsys, tf.constant(1.5), tf.constant(2), "hello", 3, 4.5, [1, 2], None, True)
    assert got == "1.5 2 hello 3 4.5 [1, 2] None True\n"
    assert _out(capsys, {"b": 3, "a": tf.constant([1, 2])}) == "{'a': [1 2], 'b': 3}\n"
    assert _out(capsys, [tf.constant(1), (tf.constant(2.0), "x")]) == "[1, (2, 'x')]\n"
    assert _out(capsys, tf.constant("abc")) == "abc\n"  # a lone scalar string prints raw
    assert _out(capsys, "x", tf.constant("abc")) == 'x "abc"\n'
    assert _out(capsys, np.array([1, 2])) == "array([1, 2])\n"  # non-tensors print as repr
    assert _out(capsys, "a", "b", sep=",", end="!\n") == "a,b!\n"
    assert _out(capsys, tf.range(10), summarize=-1) == "[0 1 2 3 4 5 6 7 8 9]\n"
    assert _out(capsys, tf.Variable([1.0, 2.0])) == "[1 2]\n"
    assert _out(capsys, "{}", tf.constant(7)) == "{} 7\n"
    assert print_v2("quiet", output_stream=sys.stdout) is None


def test_streams(capsys, tmp_path, caplog):
    print_v2("to", tf.constant([1, 2]))
    captured = capsys.readouterr()
    assert captured.err == "to [1 2]\n" and captured.out == ""  # default: stderr
    path = tmp_path / "log.txt"
    print_v2("a", output_stream=f"file://{path}")
    print_v2(tf.constant(2), output_stream=f"file://{path}")
    assert path.read_text() == "a\n2\n"  # appended
    with caplog.at_level(logging.INFO, logger="rill"):
        print_v2("logged", tf.constant(3), output_stream=logging.INFO)
    assert "logged 3" in caplog.text
    with pytest.raises(ValueError, match="Unsupported output stream"):
        print_v2("x", output_stream="stdout")
    with pytest.raises(ValueError, match="Unrecognized keyword"):
        print_v2("x", colour="red")


def test_print_runs_on_every_call_python_print_only_while_tracing(capsys):
    @tf.function
    def f(x):
        print("tracing")
        print_v2("x =", x, output_stream=sys.stdout)
        return x + 1

    f(tf.constant([1, 2]))
    f(tf.constant([3, 4]))
    f(tf.constant([5, 6]))
    assert capsys.readouterr().out == "tracing\nx = [1 2]\nx = [3 4]\nx = [5 6]\n"
