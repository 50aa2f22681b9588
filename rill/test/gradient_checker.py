"""``tf.test.compute_gradient``: a function's Jacobians, from its gradient and by finite
differences, laid out as TF lays them out.

For each argument ``x_i`` of ``f`` there is one Jacobian matrix of shape
``(y_size, x_size)``: row ``r`` is element ``r`` of ``y = f(*x)`` in row-major order,
column ``c`` element ``c`` of ``x_i``. A complex tensor counts as twice as many real
numbers, real and imaginary parts interleaved (element 0's real part, its imaginary part,
element 1's...), for ``x`` (columns) and ``y`` (rows) alike. The matrices have ``x_i``'s
real dtype.

- theoretical: one backward pass per row, through ``GradientTape.gradient`` with a
  one-hot ``output_gradients`` (``1`` for a real part, ``1j`` for an imaginary part);
  the gradient's real and imaginary parts fill the row. Unconnected inputs give zeros.
- numerical: central differences, ``(f(x + delta) - f(x - delta)) / (2 * delta)`` for
  each real number of ``x_i`` in turn, the perturbation made in ``x_i``'s dtype and the
  difference divided in ``y``'s dtype; ``delta`` is 1/1024 unless given
  (a power of two, so the perturbation is exact).
"""

from __future__ import annotations

import numpy as np

__all__ = ["compute_gradient"]

_DEFAULT_DELTA = 1.0 / 1024  # a power of two: x +/- delta is exact in binary floats


def _real_view(a: np.ndarray) -> np.ndarray:
    """A flat real view of ``a``: complex elements as interleaved (real, imag) pairs."""
    a = np.ascontiguousarray(a).reshape(-1)
    if a.dtype.kind == "c":
        return a.view(a.real.dtype)
    return a


def _check_dtype(dtype, what):
    if not (dtype.is_floating or dtype.is_complex):
        raise AssertionError(f"Cannot compute gradient for unsupported type {dtype.name} of {what}")


def _call(f, xs):
    from rill.core.tensor import Tensor

    y = f(*xs)
    if not isinstance(y, Tensor):
        raise TypeError(
            f"compute_gradient: f must return one tensor, got {type(y).__name__}. Wrap a "
            f"function with several outputs to return the one to check."
        )
    return y


def _theoretical(f, xs, y_dtype, y_size):
    from rill.core.tape import GradientTape, UnconnectedGradients
    from rill.ops.creation_ops import zeros

    parts = (1, 1j) if y_dtype.is_complex else (1,)
    rows = y_size * len(parts)
    jacs = []
    for x in xs:
        n = int(np.prod(x.shape, dtype=np.int64)) * (2 if x.dtype.is_complex else 1)
        jacs.append(np.zeros((rows, n), dtype=x.dtype.real_dtype.as_numpy_dtype))
    if rows == 0:
        return jacs
    with GradientTape(persistent=True) as tape:
        for x in xs:
            tape.watch(x)
        y = _call(f, xs)
    y_np_dtype = y_dtype.as_numpy_dtype
    for k in range(y_size):
        for p, part in enumerate(parts):
            seed = np.zeros(y_size, dtype=y_np_dtype)
            seed[k] = part
            dy = zeros(y.shape, y_dtype) + seed.reshape(tuple(y.shape))
            grads = tape.gradient(
                y, xs, output_gradients=dy, unconnected_gradients=UnconnectedGradients.ZERO
            )
            for jac, g in zip(jacs, grads):
                if jac.shape[1]:
                    jac[k * len(parts) + p, :] = _real_view(np.asarray(_dense(g)))
    return jacs


def _dense(g):
    if not hasattr(g, "numpy"):  # IndexedSlices and other gradient forms
        from rill.core.convert import convert_to_tensor

        g = convert_to_tensor(g)
    return g.numpy()


def _numerical(f, xs, y_dtype, y_size, delta):
    from rill.core.convert import convert_to_tensor

    y_np_dtype = y_dtype.as_numpy_dtype
    scale = np.asarray(2 * delta, dtype=y_np_dtype)[()]
    arrays = [np.array(x.numpy(), copy=True) for x in xs]
    rows = y_size * (2 if y_dtype.is_complex else 1)
    jacs = []
    for i, x in enumerate(xs):
        real = _real_view(arrays[i])  # a view: writing it perturbs arrays[i]
        jac = np.zeros((rows, real.size), dtype=x.dtype.real_dtype.as_numpy_dtype)

        def run():
            args = [convert_to_tensor(a, dtype=t.dtype) for a, t in zip(arrays, xs)]
            return np.asarray(_call(f, args).numpy())

        for col in range(real.size):
            original = real[col]
            real[col] = original + real.dtype.type(delta)
            y_pos = run()
            real[col] = original - real.dtype.type(delta)
            y_neg = run()
            real[col] = original
            diff = (y_pos - y_neg) / scale
            jac[:, col] = _real_view(np.asarray(diff, dtype=y_np_dtype))
        jacs.append(jac)
    return jacs


def compute_gradient(f, x, delta=None):
    """The theoretical and numerical Jacobians of ``f`` at ``x``.

    Args:
      f: a function of tensors returning one floating-point or complex tensor.
      x: a list or tuple of the arguments to ``f`` (tensors, arrays, numbers), each of a
        floating-point or complex dtype.
      delta: the finite-difference step (1/1024 by default).

    Returns:
      ``(theoretical, numerical)``: two tuples with one NumPy matrix per argument, of
      shape ``(y_size, x_size)`` (complex values counting twice).
    """
    from rill.core.convert import convert_to_tensor
    from rill.core.variables import is_variable

    if not isinstance(x, (list, tuple)):
        raise ValueError(
            f"`x` must be a list or tuple of values convertible to a Tensor (arguments to "
            f"`f`), not a {type(x)}"
        )
    delta = _DEFAULT_DELTA if delta is None else delta
    xs = [v.read_value() if is_variable(v) else convert_to_tensor(v) for v in x]
    for i, t in enumerate(xs):
        _check_dtype(t.dtype, f"argument {i}")
    y = _call(f, xs)
    _check_dtype(y.dtype, "y")
    y_size = int(np.prod(y.shape, dtype=np.int64))
    theoretical = _theoretical(f, xs, y.dtype, y_size)
    numerical = _numerical(f, xs, y.dtype, y_size, delta)
    return tuple(theoretical), tuple(numerical)
