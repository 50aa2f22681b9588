"""The time loop of a recurrent layer: ``step(x_t, states) -> (y_t, new_states)`` over the
time axis of a batch-major sequence, with Keras 3's masking rules.

Eagerly, and with ``unroll=True``, the loop is Python over the (static) time steps. While
tracing (``rill.function``, the functional API) it is one ``Scan`` op of the graph: its
body is traced once and the op iterates over however many steps the input has, so one
trace serves every sequence length.

Masking (``mask``: (batch, time), True where a step is real): at a masked step the states
keep their previous values and the output repeats the previous output (zeros before the
first real step), or is zero with ``zero_output_for_mask``.
"""

from __future__ import annotations

import rill as tf
from rill.core import nest
from rill.ops.control_flow import _scan_core

__all__ = ["rnn_loop", "time_major", "batch_major", "expand_mask", "is_tracing"]


def is_tracing() -> bool:
    return not tf.executing_eagerly()


def time_major(x):
    """(batch, time, ...) <-> (time, batch, ...)."""
    r = x.shape.rank
    return tf.transpose(x, [1, 0, *range(2, r)])


batch_major = time_major


def expand_mask(m, like):
    """A (batch,) bool mask reshaped to broadcast against ``like`` (batch, ...)."""
    r = like.shape.rank
    return m if r == 1 else tf.reshape(m, [-1] + [1] * (r - 1))


def _where(m, new, old):
    return tf.where(expand_mask(m, new), new, old)


def rnn_loop(
    step,
    inputs,
    initial_states,
    go_backwards=False,
    mask=None,
    unroll=False,
    zero_output_for_mask=False,
    return_all_outputs=True,
    output_shape=None,
):
    """Run ``step`` over the time axis of ``inputs`` (batch, time, ...).

    ``initial_states``: a (nested) list of tensors, the structure ``step`` takes and
    returns. ``output_shape``: the shape of one step's output without the batch dim, if
    known (else one step is run ahead to find it, as Keras does). Returns ``(last_output,
    outputs, states)``: ``outputs`` is (batch, time, ...) in processing order (reversed
    with ``go_backwards``), or None without ``return_all_outputs``.
    """
    xs = time_major(inputs)
    ms = None
    if mask is not None:
        mask = tf.convert_to_tensor(mask)
        if mask.dtype != tf.bool:
            mask = tf.cast(mask, tf.bool)
        ms = tf.transpose(mask, [1, 0])
    if go_backwards:
        xs = tf.reverse(xs, [0])
        ms = None if ms is None else tf.reverse(ms, [0])
    states = initial_states
    flat0 = nest.flatten(states)
    if unroll or not is_tracing():
        return _python_loop(step, xs, ms, states, zero_output_for_mask, return_all_outputs)
    # one graph loop: carry (states, previous output)
    if output_shape is None:
        y0, _ = step(xs[0], states)
        out0 = tf.zeros_like(y0)
    else:
        batch = tf.shape(xs)[1:2]
        out0 = tf.zeros(tf.concat([batch, tf.constant(list(output_shape), tf.int32)], 0),
                        dtype=flat0[0].dtype)  # fmt: skip
        out0 = tf.ensure_shape(out0, [xs.shape[1], *output_shape])

    def body(carry, elem):
        st, prev = carry
        x_t, m_t = elem if ms is not None else (elem, None)
        y, new = step(x_t, st)
        new = _like(states, new)
        if m_t is not None:
            y = _where(m_t, y, tf.zeros_like(y) if zero_output_for_mask else prev)
            new = nest.pack_sequence_as(
                states, [_where(m_t, a, b) for a, b in zip(nest.flatten(new), nest.flatten(st))]
            )
        return (new, y), (y if return_all_outputs else ())

    elems = xs if ms is None else (xs, ms)
    (final, last), ys = _scan_core(body, (states, out0), elems, False, "RNN")
    outputs = batch_major(ys) if return_all_outputs else None
    return last, outputs, final


def _like(structure, new):
    if not nest.is_nested(new):
        new = [new]
    return nest.pack_sequence_as(structure, nest.flatten(new))


def _python_loop(step, xs, ms, states, zero_output_for_mask, return_all_outputs):
    n = xs.shape[0]
    if n is None:
        raise ValueError(
            "RNN: unrolling requires a fixed number of timesteps; the inputs have an unknown "
            f"time dimension (shape {tf.TensorShape([xs.shape[1], None, *xs.shape[2:]])})."
        )
    x_list = tf.unstack(xs) if n else []
    m_list = tf.unstack(ms) if ms is not None and n else None
    outputs, prev = [], None
    for t in range(n):
        y, new = step(x_list[t], states)
        new = _like(states, new)
        if m_list is not None:
            m_t = m_list[t]
            if zero_output_for_mask:
                y = _where(m_t, y, tf.zeros_like(y))
            else:
                y = _where(m_t, y, tf.zeros_like(y) if prev is None else prev)
            new = nest.pack_sequence_as(
                states, [_where(m_t, a, b) for a, b in zip(nest.flatten(new), nest.flatten(states))]
            )
        states, prev = new, y
        if return_all_outputs:
            outputs.append(y)
    if prev is None:
        raise ValueError("RNN: the input sequence has no time steps.")
    seq = batch_major(tf.stack(outputs)) if return_all_outputs else None
    return prev, seq, states
