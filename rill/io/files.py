"""Whole-file ops of ``tf.io``: ``read_file``, ``write_file``, ``matching_files``,
``match_filenames_once`` and ``write_graph``.

``read_file``, ``write_file`` and ``matching_files`` are host primitives (so they run in
``rill.function`` and ``Dataset.map``); ``write_file`` and ``matching_files`` are stateful
(never folded or deduplicated: the file system may change between calls).
"""

from __future__ import annotations

import os

import numpy as np

import rill.io.gfile as _gfile
from rill.core import dtypes as _d
from rill.ops._op import (
    AVal,
    InvalidArgumentError,
    bind,
    convert_to_tensor,
    op_error,
    primitive,
    tf_export,
)

__all__ = ["read_file", "write_file", "matching_files", "match_filenames_once", "write_graph"]

_STR = frozenset([_d.string])


def _scalar_rule(op, what):
    def rule(*xs):
        for x in xs:
            if x.shape.rank is not None and x.shape.rank != 0:
                raise op_error(
                    InvalidArgumentError,
                    op,
                    f"Input {what} tensor must be scalar, but had shape: {x.shape}",
                )
        return AVal([], _d.string)

    return rule


def _path(a) -> str:
    v = a.item() if isinstance(a, np.ndarray) else a
    return v.decode() if isinstance(v, bytes) else str(v)


def _check_scalar(op, what, a):
    if a.ndim != 0:
        raise op_error(
            InvalidArgumentError,
            op,
            f"Input {what} tensor must be scalar, but had shape: {list(a.shape)}",
        )


def _read_kernel(filename):
    _check_scalar("ReadFile", "filename", filename)
    with _gfile.GFile(_path(filename), "rb") as f:
        data = f.read()
    out = np.empty((), object)
    out[()] = data
    return out


def _atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a sibling file renamed over it, so a crash leaves
    either the old file or the new one, never a torn write."""
    local = _gfile._local(path)
    parent = os.path.dirname(local)
    if parent:
        _gfile.makedirs(parent)
    tmp = f"{local}.rill-tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, local)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _write_kernel(filename, contents):
    _check_scalar("WriteFile", "filename", filename)
    _check_scalar("WriteFile", "contents", contents)
    _atomic_write(_path(filename), contents.item())
    return ()


def _write_rule(filename, contents):
    for what, x in (("filename", filename), ("contents", contents)):
        if x.shape.rank is not None and x.shape.rank != 0:
            raise op_error(
                InvalidArgumentError, "WriteFile", f"{what} must be a scalar, got shape {x.shape}"
            )
    return ()


def _match_kernel(pattern):
    names = []
    for p in pattern.reshape(-1).tolist():
        names.extend(_gfile.glob(p.decode() if isinstance(p, bytes) else p))
    out = np.empty(len(names), object)
    out[:] = [n.encode() for n in names]
    return out


def _match_rule(pattern):
    if pattern.shape.rank is not None and pattern.shape.rank > 1:
        raise op_error(
            InvalidArgumentError,
            "MatchingFiles",
            f"Input pattern tensor must be scalar or vector, but had shape: {pattern.shape}",
        )
    return AVal([None], _d.string)


read_file_p = primitive(
    "ReadFile", _read_kernel, _scalar_rule("ReadFile", "filename"), dtypes=_STR, host=True
)
write_file_p = primitive(
    "WriteFile", _write_kernel, _write_rule, dtypes=_STR, n_out=0, stateful=True, host=True
)
matching_files_p = primitive(
    "MatchingFiles", _match_kernel, _match_rule, dtypes=_STR, stateful=True, host=True
)


def _string(x, op):
    t = convert_to_tensor(x) if hasattr(x, "dtype") else convert_to_tensor(x, dtype=_d.string)
    if t.dtype is not _d.string:
        raise TypeError(f"{op}: expected a string tensor, got dtype {t.dtype.name}")
    return t


@tf_export("io.read_file", "read_file")
def read_file(filename, name=None):
    """The whole contents of file ``filename`` as a scalar string."""
    return bind(read_file_p, (_string(filename, "read_file"),))


@tf_export("io.write_file", "write_file")
def write_file(filename, contents, name=None):
    """Write the scalar string ``contents`` to ``filename``, creating missing parent
    directories (the file is replaced whole: a crash leaves the old or the new one)."""
    bind(write_file_p, (_string(filename, "write_file"), _string(contents, "write_file")))


@tf_export("io.matching_files", "matching_files")
def matching_files(pattern, name=None):
    """The sorted paths matching a glob ``pattern`` (or each of a vector of patterns), as a
    string vector; ``*``, ``?`` and ``[...]`` match within one path component."""
    return bind(matching_files_p, (_string(pattern, "matching_files"),))


@tf_export("io.match_filenames_once")
def match_filenames_once(pattern, name=None):
    """A string ``Variable`` holding ``matching_files(pattern)`` as of its creation."""
    from rill.core.variables import Variable

    return Variable(matching_files(pattern), trainable=False, name=name or "matching_filenames")


@tf_export("io.write_graph")
def write_graph(graph_or_graph_def, logdir, name, as_text: bool = True) -> str:
    """Write a graph (a traced graph, anything with ``as_graph_def()``, or a ``GraphDef``)
    to ``logdir/name`` as text or binary protobuf; returns the file's path."""
    g = graph_or_graph_def
    if getattr(getattr(g, "DESCRIPTOR", None), "full_name", None) != "tensorflow.GraphDef":
        if hasattr(g, "as_graph_def"):
            g = g.as_graph_def()
        else:
            from rill.tracing.graph import FuncGraph

            if not isinstance(g, FuncGraph):
                raise TypeError(
                    f"write_graph: graph_or_graph_def must be a graph or a GraphDef, got "
                    f"{type(graph_or_graph_def).__name__}"
                )
            from rill.tracing.graph_def import graph_to_graph_def

            g = graph_to_graph_def(g)
    path = _gfile.join(os.fspath(logdir), os.fspath(name))
    if as_text:
        from google.protobuf import text_format

        data = text_format.MessageToString(g).encode()
    else:
        data = g.SerializeToString()
    _atomic_write(path, data)
    return path
