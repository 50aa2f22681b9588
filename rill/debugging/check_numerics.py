"""``tf.debugging.enable_check_numerics`` / ``disable_check_numerics`` and the device
placement log (``set_log_device_placement``): both watch every op through the
dispatcher's output check, installed only while one of them is on.

When check numerics is on, every floating-point output of every op is checked: eagerly as
the op returns, and in functions traced while it is on through a ``CheckNumerics`` op
added on each output, so a compiled function checks too. The first NaN or Inf raises
InvalidArgumentError naming the op, its output, dtype, shape and counts, as TF does.
"""

from __future__ import annotations

import sys
import threading

import numpy as np

from rill.core import dispatch as _dispatch
from rill.core import dtypes as _d
from rill.core.errors import InvalidArgumentError, op_error
from rill.ops._op import tf_export

_FLOATS = frozenset([_d.bfloat16, _d.float16, _d.float32, _d.float64])
_lock = threading.Lock()
_state = {"enabled": False, "placement": False, "stack_height_limit": 30, "path_length_limit": 50}
_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"


def _hook(prim, inputs, out):
    """The dispatcher's output check while check numerics or placement logging is on."""
    if _state["placement"] and _dispatch.state.graph is None:
        print(f"Executing op {prim.name} in device {_DEVICE}", file=sys.stderr)
    if _state["enabled"]:
        out = _check(prim, inputs, out)
    return out


def _reinstall():
    on = _state["enabled"] or _state["placement"]
    _dispatch.set_output_check(_hook if on else None)


def _counts(v) -> str:
    v = np.asarray(v, np.float64) if v.dtype.kind != "f" else v
    parts = []
    for what, n in (
        ("-Inf", int(np.sum(np.isneginf(v)))),
        ("+Inf", int(np.sum(np.isposinf(v)))),
        ("+NaN", int(np.sum(np.isnan(v)))),
    ):
        if n:
            parts.append(f"  # of {what} elements: {n}\n")
    return "".join(parts)


def _message(prim, i, n_out, t, inputs, mode, graph_name=None) -> str:
    shown = ", ".join(repr(x) for x in inputs[:3]) or "(none)"
    head = (
        f'\n\n!!! Detected Infinity or NaN in output {i} of {mode} op "{prim.name}" '
        f"(# of outputs: {n_out}) !!!\n  dtype: <dtype: '{t.dtype.name}'>\n  shape: "
        f"{tuple(t.shape.as_list()) if t.shape.rank is not None else '<unknown>'}\n"
    )
    tail = f"\n  Input tensor: {shown}\n"
    if graph_name is not None:
        tail += f'  Graph name: "{graph_name}"\n'
    return head, tail


def _check(prim, inputs, out):
    """The output check installed in the dispatcher while check numerics is enabled."""
    if prim.name == "CheckNumerics":  # the check itself (and its gradient)
        return out
    outs = out if prim.n_out != 1 else (out,)
    if not any(getattr(o, "dtype", None) in _FLOATS for o in outs):
        return out
    graph = _dispatch.state.graph
    if graph is None:
        for i, o in enumerate(outs):
            if o.dtype not in _FLOATS:
                continue
            v = o._value
            vf = v.astype(np.float32) if v.dtype.kind != "f" else v
            if not np.isfinite(vf).all():
                head, tail = _message(prim, i, len(outs), o, inputs, "eagerly-executing")
                what = _what(vf)
                raise op_error(
                    InvalidArgumentError,
                    prim.name,
                    f"{head}{_counts(vf)}{tail}\n : Tensor had {what} values",
                )
        return out
    from rill.ops.debugging_ops import check_numerics

    name = getattr(graph, "name", None)
    checked = []
    for i, o in enumerate(outs):
        if o.dtype in _FLOATS:
            head, tail = _message(prim, i, len(outs), o, inputs, "graph", name)
            o = check_numerics(o, f"{head}{tail}")
        checked.append(o)
    return tuple(checked) if prim.n_out != 1 else checked[0]


def _what(v) -> str:
    has_nan, has_inf = bool(np.isnan(v).any()), bool(np.isinf(v).any())
    return "Inf and NaN" if has_nan and has_inf else ("NaN" if has_nan else "Inf")


@tf_export("debugging.enable_check_numerics")
def enable_check_numerics(stack_height_limit=30, path_length_limit=50) -> None:
    """Raise InvalidArgumentError at the first op whose float output has NaN or Inf
    (eager ops, and functions traced from now on)."""
    with _lock:
        _state.update(stack_height_limit=stack_height_limit, path_length_limit=path_length_limit)
        _state["enabled"] = True
        _reinstall()


@tf_export("debugging.disable_check_numerics")
def disable_check_numerics() -> None:
    """Stop checking op outputs for NaN and Inf (functions traced meanwhile keep their
    checks, as in TF)."""
    with _lock:
        _state["enabled"] = False
        _reinstall()


# --------------------------------------------------------------------------------------
# device placement logging: rill runs every op on the host CPU; each eager op is logged
# to stderr as TF's executor logs it
# --------------------------------------------------------------------------------------


@tf_export("debugging.set_log_device_placement")
def set_log_device_placement(enabled) -> None:
    """Log the device of every op executed eagerly from now on (to stderr), or stop."""
    with _lock:
        _state["placement"] = bool(enabled)
        _reinstall()


@tf_export("debugging.get_log_device_placement")
def get_log_device_placement() -> bool:
    """Whether device placement logging is on."""
    return _state["placement"]
