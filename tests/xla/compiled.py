"""Checks shared by the XLA tests: a function compiled with ``jit_compile=True`` gives the
executor's values (the same function without it)."""

from __future__ import annotations

import numpy as np

import rill as tf


def assert_close(a, b, tol=1e-5):
    """Two nests of tensors or arrays: the same structure, shapes and values (to ``tol``)."""
    fa, fb = tf.nest.flatten(a), tf.nest.flatten(b)
    assert len(fa) == len(fb)
    for x, y in zip(fa, fb):
        assert np.shape(x) == np.shape(y)
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=tol, atol=tol)


def check_compiled(fn, *args, tol=1e-5):
    """``fn`` compiled (``jit_compile=True`` raises unless it lowers) equals ``fn`` on the
    executor; returns ``(the compiled result, its concrete function)``, which runs on XLA."""
    jit = tf.function(fn, jit_compile=True)
    got = jit(*args)
    assert_close(got, tf.function(fn)(*args), tol)
    cf = jit.get_concrete_function(*args)
    assert cf._plan.xla is not None
    return got, cf
