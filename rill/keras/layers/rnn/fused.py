"""Fast sequences for the built-in cells (tanh / sigmoid activations), with hand-written
backward passes: what cuDNN is to Keras on a GPU, for rill's NumPy kernels.

The input projection of every time step is one matmul done by the caller (``xp``:
(time, batch, k * units), bias included), so each step of the loop is one small matmul
``h @ recurrent_kernel`` and elementwise gate math. The forward loop is a scan (one graph
op while tracing) that also stacks what the backward pass reads (the gate activations);
the gradient (``tf.custom_gradient``) is a reverse scan doing one matmul per step
(``da_t @ recurrent_kernel^T``), after which the recurrent kernel's gradient is a single
(units, time * batch) x (time * batch, k * units) matmul. No step is recomputed, and
everything is rill ops, so these gradients trace, run eagerly and can themselves be
differentiated.

Masks (``m``: (time, batch, 1) bool, or None) keep the states at masked steps, exactly as
the generic loop does. Each function returns the stacked states ``hs`` (time, batch,
units) in processing order (and the last cell state for the LSTM).
"""

from __future__ import annotations

import rill as tf
import rill.keras.layers.conv_utils as cu
from rill.ops.control_flow import _scan_core

__all__ = ["lstm_sequence", "gru_sequence", "simple_rnn_sequence"]


def _zero_if_none(d, like):
    return tf.zeros_like(like) if d is None else d


def _prev(first, seq):
    """The states before each step: ``first`` then ``seq`` without its last step."""
    return tf.concat([tf.expand_dims(first, 0), seq[:-1]], 0)


def _flat(x, n):
    return tf.reshape(x, [-1, n])


def _split_mask(m, d):
    """(d where the step is real, d where it is masked)."""
    zero = tf.zeros_like(d)
    return tf.where(m, d, zero), tf.where(m, zero, d)


def _elems(xs, m):
    return tuple(xs) if m is None else (*xs, m)


def _gate_scale(units, blocks, dtype):
    """Per-column pre-scale of the gate pre-activations: 0.5 for the sigmoid gates (whose
    ``sigmoid(z) = 0.5 * tanh(z / 2) + 0.5``), 1 for the tanh ones (``blocks``: "s" / "t")."""
    vals = [0.5 if k == "s" else 1.0 for k in blocks for _ in range(units)]
    return tf.constant(vals, dtype=dtype)


def project(xt, kernel, bias=None):
    """``xt`` (time, batch, features) @ ``kernel`` (+ ``bias``) as one matmul."""
    n = kernel.shape[-1]
    head = cu.leading_shape(xt, 1)
    y = tf.matmul(tf.reshape(xt, [-1, xt.shape[-1]]), kernel)
    if bias is not None:
        y = y + bias
    return tf.reshape(y, cu.with_tail(head, [n]))


def lstm_sequence(xt, kernel, bias, rk, h0, c0, m=None):
    """LSTM (tanh / sigmoid) over ``xt`` (time, batch, features): returns (hs, last c).

    All four gates come from one ``tanh`` of the (batch, 4u) pre-activations: the sigmoid
    gates' columns of the kernels are pre-scaled by 0.5 (outside the custom gradient, so
    autodiff carries the scale to the weights' gradients) and ``act = a * t + b`` maps
    ``t = tanh(z)`` to (i, f, g, o)."""
    u = rk.shape[0]
    a = _gate_scale(u, "ssts", xt.dtype)
    b = tf.constant([0.5] * (2 * u) + [0.0] * u + [0.5] * u, dtype=xt.dtype)
    xp = project(xt, kernel * a, None if bias is None else bias * a)

    @tf.custom_gradient
    def run(xp, h0, c0, rk):
        def step(carry, el):
            h, c = carry
            t = tf.tanh(el[0] + tf.matmul(h, rk))
            i, f, g, o = tf.unstack(tf.reshape(t * a + b, [-1, 4, u]), axis=1)
            cn = f * c + i * g
            tc = tf.tanh(cn)
            hn = o * tc
            if m is not None:
                hn, cn = tf.where(el[1], hn, h), tf.where(el[1], cn, c)
            return (hn, cn), (hn, cn, t, tc)

        (_, c_last), (hs, cs, ts, tcs) = _scan_core(step, (h0, c0), _elems((xp,), m), False, "LSTM")

        def grad(dhs, dc_last):
            dhs = _zero_if_none(dhs, hs)

            def back(carry, el):
                dh, dc = carry
                dy, t, tc, cp = el[:4]
                dh = dh + dy
                if m is not None:
                    dh, dh_keep = _split_mask(el[4], dh)
                    dc, dc_keep = _split_mask(el[4], dc)
                i, f, g, o = tf.unstack(tf.reshape(t * a + b, [-1, 4, u]), axis=1)
                dc = dc + dh * o * (1 - tc * tc)
                dact = tf.concat([dc * g, dc * cp, dc * i, dh * tc], 1)
                da = dact * a * (1 - t * t)
                dh_prev = tf.matmul(da, rk, transpose_b=True)
                dc_prev = dc * f
                if m is not None:
                    dh_prev, dc_prev = dh_prev + dh_keep, dc_prev + dc_keep
                return (dh_prev, dc_prev), da

            init = (tf.zeros_like(h0), _zero_if_none(dc_last, c0))
            elems = _elems((dhs, ts, tcs, _prev(c0, cs)), m)
            (dh0, dc0), das = _scan_core(back, init, elems, True, "LSTMGrad")
            drk = tf.matmul(_flat(_prev(h0, hs), u), _flat(das, 4 * u), transpose_a=True)
            return das, dh0, dc0, drk

        return (hs, c_last), grad

    return run(xp, h0, c0, rk * a)


def gru_sequence(xp, h0, rk, rb=None, m=None, reset_after=True):
    """GRU over ``xp`` (time, batch, 3u; input bias included); ``rb``: the recurrent
    bias (3u,) of ``reset_after`` cells with a bias. Returns hs."""
    u = rk.shape[0]
    args = (xp, h0, rk) if rb is None else (xp, h0, rk, rb)

    @tf.custom_gradient
    def run(xp, h0, rk, *rest):
        rb_ = rest[0] if rest else None
        rk_zr, rk_h = rk[:, : 2 * u], rk[:, 2 * u :]

        def step(h, el):
            x = el[0]
            xz, xr, xh = tf.split(x, 3, axis=1)
            if reset_after:
                inner = tf.matmul(h, rk)
                if rb_ is not None:
                    inner = inner + rb_
                rz, rr, rh = tf.split(inner, 3, axis=1)
                z, r = tf.sigmoid(xz + rz), tf.sigmoid(xr + rr)
                hh = tf.tanh(xh + r * rh)
                saved = rh
            else:
                rz, rr = tf.split(tf.matmul(h, rk_zr), 2, axis=1)
                z, r = tf.sigmoid(xz + rz), tf.sigmoid(xr + rr)
                saved = r * h
                hh = tf.tanh(xh + tf.matmul(saved, rk_h))
            hn = z * h + (1 - z) * hh
            if m is not None:
                hn = tf.where(el[1], hn, h)
            return hn, (hn, z, r, hh, saved)

        _, (hs, z, r, hh, saved) = _scan_core(step, h0, _elems((xp,), m), False, "GRU")

        def grad(dhs):
            dhs = _zero_if_none(dhs, hs)
            hprev = _prev(h0, hs)

            def back(dh, el):
                dy, z_, r_, hh_, s_, hp = el[:6]
                dh = dh + dy
                if m is not None:
                    dh, dh_keep = _split_mask(el[6], dh)
                dz = dh * (hp - hh_) * z_ * (1 - z_)
                dah = dh * (1 - z_) * (1 - hh_ * hh_)
                if reset_after:
                    dr = dah * s_ * r_ * (1 - r_)
                    drec = tf.concat([dz, dr, dah * r_], 1)
                    dx = tf.concat([dz, dr, dah], 1)
                    dh_prev = dh * z_ + tf.matmul(drec, rk, transpose_b=True)
                    ys = (dx, drec)
                else:
                    drh = tf.matmul(dah, rk_h, transpose_b=True)
                    dr = drh * hp * r_ * (1 - r_)
                    dzr = tf.concat([dz, dr], 1)
                    dh_prev = dh * z_ + drh * r_ + tf.matmul(dzr, rk_zr, transpose_b=True)
                    ys = (tf.concat([dz, dr, dah], 1), dzr)
                if m is not None:
                    dh_prev = dh_prev + dh_keep
                return dh_prev, ys

            dh0, (dx, drec) = _scan_core(
                back, tf.zeros_like(h0), _elems((dhs, z, r, hh, saved, hprev), m), True, "GRUGrad"
            )
            hp_flat = _flat(hprev, u)
            if reset_after:
                drk = tf.matmul(hp_flat, _flat(drec, 3 * u), transpose_a=True)
                grads = [dx, dh0, drk]
                if rest:
                    grads.append(tf.reduce_sum(_flat(drec, 3 * u), 0))
                return grads
            dzr = tf.matmul(hp_flat, _flat(drec, 2 * u), transpose_a=True)
            dh_k = tf.matmul(_flat(saved, u), _flat(dx[:, :, 2 * u :], u), transpose_a=True)
            return [dx, dh0, tf.concat([dzr, dh_k], 1)]

        return hs, grad

    return run(*args)


def simple_rnn_sequence(xp, h0, rk, m=None):
    """tanh RNN over ``xp`` (time, batch, u; bias included). Returns hs."""
    u = rk.shape[0]

    @tf.custom_gradient
    def run(xp, h0, rk):
        def step(h, el):
            x = el[0]
            hn = tf.tanh(x + tf.matmul(h, rk))
            if m is not None:
                hn_kept = tf.where(el[1], hn, h)
                return hn_kept, (hn_kept, hn)
            return hn, (hn, hn)

        _, (hs, raw) = _scan_core(step, h0, _elems((xp,), m), False, "SimpleRNN")

        def grad(dhs):
            dhs = _zero_if_none(dhs, hs)

            def back(dh, el):
                dy, hn = el[:2]
                dh = dh + dy
                if m is not None:
                    dh, dh_keep = _split_mask(el[2], dh)
                da = dh * (1 - hn * hn)
                dh_prev = tf.matmul(da, rk, transpose_b=True)
                if m is not None:
                    dh_prev = dh_prev + dh_keep
                return dh_prev, da

            dh0, das = _scan_core(back, tf.zeros_like(h0), _elems((dhs, raw), m), True, "RNNGrad")
            drk = tf.matmul(_flat(_prev(h0, hs), u), _flat(das, u), transpose_a=True)
            return das, dh0, drk

        return hs, grad

    return run(xp, h0, rk)
