"""``tf.print``: a stateful op that formats tensors like TensorFlow and prints when run.

Because printing happens in the kernel, a ``tf.print`` inside a traced ``rill.function``
prints on every call (a Python ``print`` there runs only while tracing).
"""

from __future__ import annotations

import logging
import os
import sys

import numpy as np

from rill.core import nest
from rill.ops._op import bind, convert_to_tensor, is_tensor_like, primitive, tf_export

__all__ = ["print_v2", "format_tensor"]

# --------------------------------------------------------------------------------------
# Formatting one tensor (TF's layout: `[1 2 ... 9]`, rows on new lines, `...` elisions)
# --------------------------------------------------------------------------------------


def _float_text(v, short, full, cast) -> str:
    """Shortest of %.{short}g / %.{full}g that reads back as the same value of ``cast``."""
    s = f"{v:.{short}g}"
    if v != v or cast(float(s)) == cast(v):
        return s
    return f"{v:.{full}g}"


_ESCAPES = {0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t", 0x22: b'\\"', 0x27: b"\\'", 0x5C: b"\\\\"}


def _escape(b: bytes) -> str:
    """C-style escaping of control characters and quotes; UTF-8 text stays readable."""
    out = bytearray()
    for c in b:
        e = _ESCAPES.get(c)
        if e is not None:
            out += e
        elif c < 0x20 or c == 0x7F:
            out += b"\\%03o" % c
        else:
            out.append(c)
    return out.decode("utf-8", "replace")


def _element_formatter(a: np.ndarray):
    kind = a.dtype.kind
    if kind == "f" or a.dtype.name == "bfloat16":
        if a.dtype == np.float64:
            return lambda x: _float_text(float(x), 15, 17, float)
        return lambda x: _float_text(float(x), 6, 9, np.float32)
    if kind in "iu":
        return lambda x: str(int(x))
    if kind == "b":
        return lambda x: "1" if x else "0"
    if kind == "O":
        return lambda x: '"' + _escape(x if isinstance(x, bytes) else str(x).encode()) + '"'
    return lambda x: "?"  # complex and other types have no text form in TF's printer


def format_tensor(a: np.ndarray, summarize: int = 3) -> str:
    """TF's text for an array: at most ``summarize`` items at each end of every dimension
    (all if negative), the rest elided with ``...``."""
    a = np.asarray(a)
    fmt = _element_formatter(a)
    size = a.size
    limit = size if summarize < 0 else min(summarize, size)
    if a.ndim == 0:
        return (fmt(a[()]) if limit else "") + ("..." if size > limit else "")
    rank = a.ndim
    flat = a.reshape(-1)
    strides = [int(np.prod(a.shape[d + 1 :])) for d in range(rank)]
    parts: list[str] = []

    def spacing(dim):
        if dim == rank - 1:
            parts.append(" ")
        else:
            parts.append("\n" * (rank - dim - 1) + " " * (dim + 1))

    def walk(dim, offset):
        if dim == rank:
            parts.append(fmt(flat[offset]))
            return
        parts.append("[")
        n = a.shape[dim]
        for i in range(min(limit, n)):
            if i:
                spacing(dim)
            walk(dim + 1, offset + strides[dim] * i)
        if n > 2 * limit:
            spacing(dim)
            parts.append("...")
        for i in range(max(limit, n - limit), n):
            spacing(dim)
            walk(dim + 1, offset + strides[dim] * i)
        parts.append("]")

    walk(0, 0)
    return "".join(parts)


# --------------------------------------------------------------------------------------
# The op
# --------------------------------------------------------------------------------------

_LOG_LEVELS = {
    "log(info)": logging.INFO,
    "log(warning)": logging.WARNING,
    "log(error)": logging.ERROR,
}


def _write(text: str, output_stream: str, end: str) -> None:
    if output_stream == "stdout":
        sys.stdout.write(text + end)
        sys.stdout.flush()
    elif output_stream == "stderr":
        sys.stderr.write(text + end)
        sys.stderr.flush()
    elif output_stream in _LOG_LEVELS:
        logging.getLogger("rill").log(_LOG_LEVELS[output_stream], text)
    else:  # file://path: appended
        with open(output_stream[len("file://") :], "a", encoding="utf-8") as f:
            f.write(text + end)


def _print_kernel(*tensors, pieces, raw, summarize, output_stream, end):
    if raw:
        v = tensors[0][()]
        text = v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
    else:
        out = [pieces[0]]
        for t, p in zip(tensors, pieces[1:]):
            out.append(format_tensor(t, summarize))
            out.append(p)
        text = "".join(out)
    _write(text, output_stream, end)
    return ()


def _print_rule(*tensors, pieces, raw, summarize, output_stream, end):
    return ()


# Host: it formats and writes text.
print_p = primitive("PrintV2", _print_kernel, _print_rule, n_out=-1, stateful=True, host=True)


def _stream_name(output_stream) -> str:
    if isinstance(output_stream, str) and output_stream.startswith("file://"):
        return output_stream
    if output_stream is sys.stdout:
        return "stdout"
    if output_stream is sys.stderr:
        return "stderr"
    known = {
        logging.INFO: "log(info)",
        logging.WARNING: "log(warning)",
        logging.ERROR: "log(error)",
    }
    if isinstance(output_stream, int) and output_stream in known:
        return known[output_stream]
    for fn, level in ((logging.info, "log(info)"), (logging.warning, "log(warning)"),
                      (logging.error, "log(error)")):  # fmt: skip
        if output_stream is fn:
            return level
    raise ValueError(
        f"Unsupported output stream, logging level, or file: {output_stream!r}. Supported "
        f"streams are sys.stdout, sys.stderr, logging.INFO/WARNING/ERROR (or logging.info/"
        f"warning/error), and files given as 'file://<filepath>'."
    )


def _marker(taken: str) -> str:
    n = 0
    while True:
        m = f"__rill_tensor_{n}__"
        if m not in taken:
            return m
        n += 1


@tf_export("print")
def print_v2(*inputs, **kwargs):
    """Print tensors (and Python values) when the op runs: ``tf.print(*inputs,
    output_stream=sys.stderr, summarize=3, sep=' ', end='\\n', name=None)``.

    Tensors print like TF (``[1 2 ... 9]``, at most ``summarize`` items at each end of a
    dimension, all if -1); strings print as they are; nested structures print like Python
    with their tensors formatted. Returns None.
    """
    output_stream = kwargs.pop("output_stream", sys.stderr)
    summarize = kwargs.pop("summarize", 3)
    sep = kwargs.pop("sep", " ")
    end = kwargs.pop("end", os.linesep)
    kwargs.pop("name", None)
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments for tf.print: {kwargs}")
    stream = _stream_name(output_stream)
    summarize = -1 if summarize is None else int(summarize)

    tensors = []
    if len(inputs) == 1 and is_tensor_like(inputs[0]):
        t = convert_to_tensor(inputs[0])
        if t.shape.rank == 0 and t.dtype.is_string:
            params = {"pieces": ("", ""), "raw": True, "summarize": summarize,
                      "output_stream": stream, "end": end}  # fmt: skip
            bind(print_p, (t,), params)
            return None

    import pprint  # local: it costs ~1.4 ms of `import rill`, and only tf.print uses it

    def blank(x):
        return "" if is_tensor_like(x) else x

    free = sep.join(
        pprint.pformat(nest.map_structure(blank, x)) for x in inputs if not isinstance(x, str)
    )
    marker = _marker(free + "".join(x for x in inputs if isinstance(x, str)))
    templates = []
    for x in inputs:
        if isinstance(x, str):
            templates.append(x)
            continue
        leaves = []
        for leaf in nest.flatten(x):
            if is_tensor_like(leaf):
                tensors.append(convert_to_tensor(leaf))
                leaves.append(marker)
            else:
                leaves.append(leaf)
        templates.append(
            pprint.pformat(nest.pack_sequence_as(x, leaves)).replace(f"'{marker}'", marker)
        )
    pieces = tuple(sep.join(templates).split(marker))
    if len(pieces) != len(tensors) + 1:  # a Python string contained the marker text
        raise ValueError("tf.print: could not build the format template for these inputs.")
    params = {
        "pieces": pieces,
        "raw": False,
        "summarize": summarize,
        "output_stream": stream,
        "end": end,
    }
    bind(print_p, tuple(tensors), params)
    return None
