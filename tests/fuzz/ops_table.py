"""The fuzzed ops: for each public op, a strategy drawing its arguments and a call.

``OPS[name] = (strategy, call)``: ``strategy`` draws a dict of plain values (NumPy arrays,
ints, lists, adversarial arguments); ``call(tf, args)`` runs the op with ``tf`` bound to
rill or to TensorFlow, array arguments turned into constants first (so that both libraries
see the same dtypes). Outputs whose values legitimately differ between correct
implementations (eigenvector signs, the order of equal keys) are not returned: only what
is determined is compared.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from tests.fuzz.strategies import (
    ALL,
    FLOATS,
    INTS,
    NUMERIC,
    arrays,
    axes,
    index_arrays,
    int_axis,
    shapes,
    sizes,
)


def C(tf, a):
    """An argument as the library's constant (arrays only; other values pass through)."""
    return tf.constant(a) if isinstance(a, np.ndarray) else a


def _d(**kw):
    return st.fixed_dictionaries(kw)


OPS: dict = {}


def op(name, strategy):
    def register(call):
        OPS[name] = (strategy, call)
        return call

    return register


# -- reductions and scans -----------------------------------------------------------------
for _name in ("reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod"):
    op(_name, _d(x=arrays(ALL), axis=axes(), keepdims=st.booleans()))(
        lambda tf, a, _n=_name: getattr(tf, _n)(
            C(tf, a["x"]), axis=a["axis"], keepdims=a["keepdims"]
        )
    )
for _name in ("reduce_any", "reduce_all"):
    op(_name, _d(x=arrays(("bool",)), axis=axes(), keepdims=st.booleans()))(
        lambda tf, a, _n=_name: getattr(tf, _n)(
            C(tf, a["x"]), axis=a["axis"], keepdims=a["keepdims"]
        )
    )
for _name in ("argmax", "argmin"):
    op(_name, _d(x=arrays(NUMERIC), axis=st.one_of(st.none(), int_axis())))(
        lambda tf, a, _n=_name: getattr(tf, _n)(C(tf, a["x"]), axis=a["axis"])
    )
op(
    "cumsum",
    _d(x=arrays(NUMERIC, min_rank=1), axis=int_axis(), ex=st.booleans(), rev=st.booleans()),
)(lambda tf, a: tf.cumsum(C(tf, a["x"]), axis=a["axis"], exclusive=a["ex"], reverse=a["rev"]))
op("moments", _d(x=arrays(FLOATS), axes=st.lists(st.integers(-4, 3), min_size=1, max_size=2)))(
    lambda tf, a: tf.nn.moments(C(tf, a["x"]), axes=a["axes"])
)
op(
    "bincount",
    _d(
        x=arrays(("int32",), max_rank=1),
        minlength=st.none() | sizes(),
        maxlength=st.none() | sizes(),
    ),
)(lambda tf, a: tf.math.bincount(C(tf, a["x"]), minlength=a["minlength"], maxlength=a["maxlength"]))
for _name in ("segment_sum", "segment_max", "segment_mean"):
    op(_name, _d(x=arrays(FLOATS, min_rank=1), ids=index_arrays(4, max_rank=1)))(
        lambda tf, a, _n=_name: getattr(tf.math, _n)(C(tf, a["x"]), C(tf, a["ids"]))
    )
for _name in ("unsorted_segment_sum", "unsorted_segment_max"):
    op(_name, _d(x=arrays(FLOATS, min_rank=1), ids=index_arrays(4, max_rank=2), n=sizes()))(
        lambda tf, a, _n=_name: getattr(tf.math, _n)(C(tf, a["x"]), C(tf, a["ids"]), a["n"])
    )

# -- elementwise --------------------------------------------------------------------------
for _name in ("add", "multiply", "maximum", "minimum", "subtract"):
    op(_name, _d(x=arrays(NUMERIC), y=arrays(NUMERIC)))(
        lambda tf, a, _n=_name: getattr(tf.math, _n)(C(tf, a["x"]), C(tf, a["y"]))
    )
for _name in ("floordiv", "truediv", "pow", "divide_no_nan"):
    op(_name, _d(x=arrays(NUMERIC, max_rank=2), y=arrays(NUMERIC, max_rank=2)))(
        lambda tf, a, _n=_name: getattr(tf.math, _n)(C(tf, a["x"]), C(tf, a["y"]))
    )
for _name in ("sqrt", "exp", "log", "abs", "sign", "round", "negative", "square", "sigmoid"):
    op(_name, _d(x=arrays(ALL)))(lambda tf, a, _n=_name: getattr(tf.math, _n)(C(tf, a["x"])))
op("cast", _d(x=arrays(ALL), dtype=st.sampled_from(ALL + ("string", "uint8", None, "nope"))))(
    lambda tf, a: tf.cast(C(tf, a["x"]), a["dtype"])
)
op(
    "clip_by_value",
    _d(x=arrays(NUMERIC), lo=arrays(NUMERIC, max_rank=1), hi=arrays(NUMERIC, max_rank=1)),
)(lambda tf, a: tf.clip_by_value(C(tf, a["x"]), C(tf, a["lo"]), C(tf, a["hi"])))
op(
    "clip_by_norm",
    _d(x=arrays(FLOATS, min_rank=1), n=st.sampled_from((-1.0, 0.0, 0.5, 2.0, np.inf))),
)(lambda tf, a: tf.clip_by_norm(C(tf, a["x"]), a["n"]))
op("softmax", _d(x=arrays(FLOATS, min_rank=1), axis=st.none() | int_axis()))(
    lambda tf, a: tf.nn.softmax(C(tf, a["x"]), axis=a["axis"])
)
op("log_softmax", _d(x=arrays(FLOATS, min_rank=1), axis=st.none() | int_axis()))(
    lambda tf, a: tf.nn.log_softmax(C(tf, a["x"]), axis=a["axis"])
)
op("relu", _d(x=arrays(NUMERIC)))(lambda tf, a: tf.nn.relu(C(tf, a["x"])))
op("l2_normalize", _d(x=arrays(FLOATS, min_rank=1), axis=int_axis()))(
    lambda tf, a: tf.math.l2_normalize(C(tf, a["x"]), axis=a["axis"])
)

# -- creation -----------------------------------------------------------------------------
_shape_arg = st.lists(sizes(), max_size=3) | st.sampled_from(([1.5], ["a"], [[2]]))
op("zeros", _d(shape=_shape_arg, dtype=st.sampled_from(ALL)))(
    lambda tf, a: tf.zeros(a["shape"], dtype=a["dtype"])
)
op("ones", _d(shape=_shape_arg))(lambda tf, a: tf.ones(a["shape"]))
op("fill", _d(shape=_shape_arg, v=st.sampled_from((1, 2.5, True))))(
    lambda tf, a: tf.fill(a["shape"], a["v"])
)
op("constant_shape", _d(v=st.sampled_from((1.0, [1, 2], [[1, 2], [3, 4]])), shape=_shape_arg))(
    lambda tf, a: tf.constant(a["v"], shape=a["shape"])
)
op(
    "constant_list",
    _d(v=st.lists(st.sampled_from((1, 2.5, True, "a", b"b", 1j, None)), max_size=3)),
)(lambda tf, a: tf.constant(a["v"]))
op(
    "range", _d(start=sizes(), limit=st.none() | sizes(), delta=st.sampled_from((1, 2, -1, 0, 0.5)))
)(lambda tf, a: tf.range(a["start"], a["limit"], a["delta"]))
op(
    "linspace",
    _d(
        start=st.sampled_from((0.0, -1.0, np.inf, np.nan)),
        stop=st.sampled_from((1.0, np.inf, -np.inf)),
        num=st.integers(-1, 5),
    ),
)(lambda tf, a: tf.linspace(a["start"], a["stop"], a["num"]))
op(
    "one_hot",
    _d(
        i=index_arrays(4),
        depth=st.integers(-2, 5) | st.sampled_from((1.5, "a")),
        axis=st.integers(-3, 2),
    ),
)(lambda tf, a: tf.one_hot(C(tf, a["i"]), a["depth"], axis=a["axis"]))
op("eye", _d(n=st.integers(-2, 4), m=st.none() | st.integers(-2, 4)))(
    lambda tf, a: tf.eye(a["n"], a["m"])
)

# -- shapes and indexing ------------------------------------------------------------------
op("reshape", _d(x=arrays(ALL), shape=st.lists(st.integers(-2, 4), max_size=4)))(
    lambda tf, a: tf.reshape(C(tf, a["x"]), a["shape"])
)
op("transpose", _d(x=arrays(ALL), perm=st.none() | st.lists(st.integers(-1, 3), max_size=3)))(
    lambda tf, a: tf.transpose(C(tf, a["x"]), perm=a["perm"])
)
op("expand_dims", _d(x=arrays(ALL), axis=int_axis()))(
    lambda tf, a: tf.expand_dims(C(tf, a["x"]), a["axis"])
)
op("squeeze", _d(x=arrays(ALL), axis=st.none() | st.lists(st.integers(-4, 3), max_size=2)))(
    lambda tf, a: tf.squeeze(C(tf, a["x"]), axis=a["axis"])
)
op("concat", _d(x=arrays(NUMERIC), y=arrays(NUMERIC), axis=int_axis()))(
    lambda tf, a: tf.concat([C(tf, a["x"]), C(tf, a["y"])], axis=a["axis"])
)
op("stack", _d(x=arrays(NUMERIC), y=arrays(NUMERIC), axis=st.integers(-4, 3)))(
    lambda tf, a: tf.stack([C(tf, a["x"]), C(tf, a["y"])], axis=a["axis"])
)
op("tile", _d(x=arrays(ALL, max_rank=2), m=st.lists(sizes(3), max_size=3)))(
    lambda tf, a: tf.tile(C(tf, a["x"]), a["m"])
)
op(
    "repeat",
    _d(
        x=arrays(NUMERIC, max_rank=2),
        r=st.integers(-2, 3) | st.lists(st.integers(-1, 3), max_size=4),
        axis=st.none() | st.integers(-3, 2),
    ),
)(lambda tf, a: tf.repeat(C(tf, a["x"]), a["r"], axis=a["axis"]))
op("broadcast_to", _d(x=arrays(NUMERIC, max_rank=2), shape=st.lists(sizes(), max_size=3)))(
    lambda tf, a: tf.broadcast_to(C(tf, a["x"]), a["shape"])
)
op(
    "pad",
    _d(
        x=arrays(NUMERIC, max_rank=2),
        p=st.lists(st.lists(st.integers(-2, 3), min_size=2, max_size=2), max_size=3),
    ),
)(lambda tf, a: tf.pad(C(tf, a["x"]), a["p"]))
op(
    "slice",
    _d(
        x=arrays(NUMERIC, min_rank=1, max_rank=2),
        b=st.lists(st.integers(-1, 4), min_size=1, max_size=2),
        s=st.lists(st.integers(-2, 4), min_size=1, max_size=2),
    ),
)(lambda tf, a: tf.slice(C(tf, a["x"]), a["b"], a["s"]))
op("reverse", _d(x=arrays(ALL, min_rank=1), axis=st.lists(st.integers(-3, 3), max_size=2)))(
    lambda tf, a: tf.reverse(C(tf, a["x"]), a["axis"])
)
op("roll", _d(x=arrays(NUMERIC, min_rank=1), shift=st.integers(-5, 5), axis=int_axis()))(
    lambda tf, a: tf.roll(C(tf, a["x"]), a["shift"], a["axis"])
)
op("gather", _d(x=arrays(ALL, min_rank=1), i=index_arrays(), axis=st.none() | int_axis()))(
    lambda tf, a: tf.gather(C(tf, a["x"]), C(tf, a["i"]), axis=a["axis"])
)
op("gather_nd", _d(x=arrays(NUMERIC, min_rank=1), i=arrays(INTS, min_rank=1, max_dim=3)))(
    lambda tf, a: tf.gather_nd(C(tf, a["x"]), C(tf, a["i"]))
)
op(
    "scatter_nd",
    _d(
        i=arrays(INTS, min_rank=1, max_dim=3),
        u=arrays(NUMERIC + ("string",)),
        shape=st.lists(sizes(4), min_size=1, max_size=2),
    ),
)(lambda tf, a: tf.scatter_nd(C(tf, a["i"]), C(tf, a["u"]), a["shape"]))
op("split", _d(x=arrays(NUMERIC, min_rank=1), n=st.integers(-1, 4), axis=int_axis()))(
    lambda tf, a: tf.split(C(tf, a["x"]), a["n"], axis=a["axis"])
)
op("size", _d(x=arrays(ALL), t=st.sampled_from(("int32", "int64", "float32", "string"))))(
    lambda tf, a: tf.size(C(tf, a["x"]), out_type=getattr(tf, a["t"]))
)
op("shape", _d(x=arrays(ALL), t=st.sampled_from(("int32", "int64", "float32"))))(
    lambda tf, a: tf.shape(C(tf, a["x"]), out_type=getattr(tf, a["t"]))
)
op("where", _d(c=arrays(("bool",)), x=arrays(NUMERIC), y=arrays(NUMERIC)))(
    lambda tf, a: tf.where(C(tf, a["c"]), C(tf, a["x"]), C(tf, a["y"]))
)
op("boolean_mask", _d(x=arrays(NUMERIC, min_rank=1), m=arrays(("bool",), min_rank=1)))(
    lambda tf, a: tf.boolean_mask(C(tf, a["x"]), C(tf, a["m"]))
)
op("sort", _d(x=arrays(NUMERIC, min_rank=1), axis=st.integers(-3, 2)))(
    lambda tf, a: tf.sort(C(tf, a["x"]), axis=a["axis"])
)
op("top_k", _d(x=arrays(NUMERIC, min_rank=1), k=st.integers(-1, 5)))(
    lambda tf, a: tf.math.top_k(C(tf, a["x"]), k=a["k"])[0]
)

# -- nn -----------------------------------------------------------------------------------
_pad = st.sampled_from(("VALID", "SAME", "valid", "BAD"))
op(
    "max_pool2d",
    _d(
        x=arrays(FLOATS, shape=None, min_rank=4, max_rank=4),
        k=st.integers(-1, 5),
        s=st.integers(-1, 3),
        p=_pad,
    ),
)(lambda tf, a: tf.nn.max_pool2d(C(tf, a["x"]), a["k"], a["s"], a["p"]))
op(
    "avg_pool2d",
    _d(
        x=arrays(FLOATS, min_rank=4, max_rank=4), k=st.integers(-1, 5), s=st.integers(-1, 3), p=_pad
    ),
)(lambda tf, a: tf.nn.avg_pool2d(C(tf, a["x"]), a["k"], a["s"], a["p"]))
op(
    "max_pool1d",
    _d(
        x=arrays(FLOATS, min_rank=3, max_rank=3), k=st.integers(-1, 5), s=st.integers(-1, 3), p=_pad
    ),
)(lambda tf, a: tf.nn.max_pool1d(C(tf, a["x"]), a["k"], a["s"], a["p"]))
op(
    "conv2d",
    _d(
        x=arrays(FLOATS, min_rank=4, max_rank=4, max_dim=3),
        w=arrays(FLOATS, min_rank=4, max_rank=4, max_dim=3),
        s=st.integers(-1, 2),
        p=_pad,
    ),
)(lambda tf, a: tf.nn.conv2d(C(tf, a["x"]), C(tf, a["w"]), a["s"], a["p"]))

# -- linear algebra -----------------------------------------------------------------------
op("matmul", _d(x=arrays(NUMERIC, min_rank=1), y=arrays(NUMERIC, min_rank=1)))(
    lambda tf, a: tf.linalg.matmul(C(tf, a["x"]), C(tf, a["y"]))
)
_square = st.integers(0, 3).flatmap(
    lambda n: arrays(FLOATS, shape=(n, n)) | arrays(FLOATS, shape=(2, n, n)) | arrays(FLOATS)
)
op("eigvalsh", _d(x=_square))(lambda tf, a: tf.linalg.eigvalsh(C(tf, a["x"])))
op("svd_values", _d(x=arrays(FLOATS, min_rank=0, max_rank=3)))(
    lambda tf, a: tf.linalg.svd(C(tf, a["x"]), compute_uv=False)
)
op("det", _d(x=_square))(lambda tf, a: tf.linalg.det(C(tf, a["x"])))
op("trace", _d(x=arrays(NUMERIC)))(lambda tf, a: tf.linalg.trace(C(tf, a["x"])))
op(
    "sparse_dense_matmul",
    _d(
        i=st.lists(st.lists(st.integers(-1, 3), min_size=2, max_size=2), min_size=1, max_size=3),
        n=st.integers(0, 3),
    ),
)(
    lambda tf, a: tf.sparse.sparse_dense_matmul(
        tf.sparse.SparseTensor(a["i"], [1.0] * len(a["i"]), [3, 3]), tf.ones([3, a["n"]])
    )
)

# shapes() is re-exported for callers composing their own strategies
__all__ = ["OPS", "C", "shapes"]
