"""TensorFlow graphs into rill: FunctionDefs and GraphDef nodes run as rill ops.

``FunctionLibrary(library)`` holds a GraphDef's FunctionDefs; ``call(name, args)`` runs one
on rill values (eager tensors, or symbolic ones while a ``rill.function`` traces it, which
is how a loaded signature gets compiled). Each TF op is one handler below, written with
rill's public ops; control flow (``If``, ``While`` and their stateless forms) becomes
``rill.cond`` / ``rill.while_loop`` over the branch and body functions, and
``(Stateful)PartitionedCall`` a call of its function. Resources are rill ``Variable``s:
``ReadVariableOp`` reads one, ``Assign*VariableOp`` assigns it. ``unsupported_ops`` lists
the ops a library uses that have no handler, so loading refuses a model up front, naming
them, instead of failing half-way through a call.
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import UnimplementedError
from rill.core.protos import array_from_tensor_proto
from rill.core.tensor_shape import TensorShape

__all__ = ["FunctionLibrary", "attr_value", "SUPPORTED_OPS"]


def _tf():
    import rill

    return rill


def attr_value(av):
    """An ``AttrValue`` as a Python value (DType, TensorShape, ndarray, str, list, ...)."""
    kind = av.WhichOneof("value")
    if kind == "s":
        return av.s.decode("utf-8", "replace")
    if kind in ("i", "f", "b"):
        return getattr(av, kind)
    if kind == "type":
        return _d.as_dtype(av.type)
    if kind == "shape":
        return _shape(av.shape)
    if kind == "tensor":
        return array_from_tensor_proto(av.tensor)
    if kind == "func":
        return av.func.name
    if kind == "list":
        lst = av.list
        for name in ("s", "i", "f", "b", "type", "shape", "func"):
            vals = list(getattr(lst, name))
            if vals:
                if name == "s":
                    return [v.decode("utf-8", "replace") for v in vals]
                if name == "type":
                    return [_d.as_dtype(v) for v in vals]
                if name == "shape":
                    return [_shape(v) for v in vals]
                if name == "func":
                    return [v.name for v in vals]
                return vals
        return []
    return None


def _shape(proto) -> TensorShape:
    if proto.unknown_rank:
        return TensorShape(None)
    return TensorShape([None if d.size < 0 else d.size for d in proto.dim])


def _is_var(x) -> bool:
    return getattr(x, "_rill_variable", False)


# --------------------------------------------------------------------------------------
# Op handlers: handler(lib, attrs, inputs) -> list of outputs
# --------------------------------------------------------------------------------------

_H: dict = {}
# outputs of ops with several output args, in order: (arg name, count attr or 1)
_OUT_ARGS = {
    "Unique": ("y", "idx"),
    "UniqueWithCounts": ("y", "idx", "count"),
    "TopKV2": ("values", "indices"),
    "FusedBatchNormV3": ("y", "batch_mean", "batch_variance", "reserve_space_1",
                         "reserve_space_2", "reserve_space_3"),
    "FusedBatchNorm": ("y", "batch_mean", "batch_variance", "reserve_space_1",
                       "reserve_space_2"),
    "SparseSoftmaxCrossEntropyWithLogits": ("loss", "backprop"),
    "SoftmaxCrossEntropyWithLogits": ("loss", "backprop"),
}  # fmt: skip


def _op(*names):
    def deco(fn):
        for n in names:
            _H[n] = fn
        return fn

    return deco


def _fn(path):
    """A handler calling the rill function at ``path`` on the inputs."""

    def handler(lib, a, ins):
        obj = _tf()
        for part in path.split("."):
            obj = getattr(obj, part)
        return [obj(*ins)]

    return handler


for _name, _path in {
    "AddV2": "math.add", "Add": "math.add", "Sub": "math.subtract", "Mul": "math.multiply",
    "RealDiv": "math.truediv", "Div": "math.divide", "FloorDiv": "math.floordiv",
    "FloorMod": "math.floormod", "Maximum": "math.maximum", "Minimum": "math.minimum",
    "Pow": "math.pow", "SquaredDifference": "math.squared_difference", "Less": "math.less",
    "LessEqual": "math.less_equal", "Greater": "math.greater",
    "GreaterEqual": "math.greater_equal", "LogicalAnd": "math.logical_and",
    "LogicalOr": "math.logical_or", "LogicalNot": "math.logical_not",
    "Atan2": "math.atan2", "Xdivy": "math.xdivy", "Xlogy": "math.xlogy",
    "Xlog1py": "math.xlog1py", "MulNoNan": "math.multiply_no_nan",
    "DivNoNan": "math.divide_no_nan", "TruncateDiv": "truncatediv",
    "TruncateMod": "truncatemod", "Abs": "math.abs", "Neg": "math.negative",
    "Exp": "math.exp", "Expm1": "math.expm1", "Log": "math.log", "Log1p": "math.log1p",
    "Sqrt": "math.sqrt", "Rsqrt": "math.rsqrt", "Square": "math.square",
    "Reciprocal": "math.reciprocal", "Inv": "math.reciprocal", "Tanh": "math.tanh",
    "Sigmoid": "math.sigmoid", "Sin": "math.sin", "Cos": "math.cos", "Tan": "math.tan",
    "Asin": "math.asin", "Acos": "math.acos", "Atan": "math.atan", "Sinh": "math.sinh",
    "Cosh": "math.cosh", "Asinh": "math.asinh", "Acosh": "math.acosh",
    "Atanh": "math.atanh", "Floor": "math.floor", "Ceil": "math.ceil",
    "Round": "math.round", "Rint": "math.rint", "Sign": "math.sign", "Erf": "math.erf",
    "Erfc": "math.erfc", "Lgamma": "math.lgamma", "Digamma": "math.digamma",
    "IsNan": "math.is_nan", "IsInf": "math.is_inf", "IsFinite": "math.is_finite",
    "Relu": "nn.relu", "Relu6": "nn.relu6", "Elu": "nn.elu", "Selu": "nn.selu",
    "Softplus": "nn.softplus", "Softsign": "nn.softsign", "ZerosLike": "zeros_like",
    "OnesLike": "ones_like", "Invert": "bitwise.invert", "BitwiseAnd": "bitwise.bitwise_and",
    "BitwiseOr": "bitwise.bitwise_or", "BitwiseXor": "bitwise.bitwise_xor",
    "Size": "size", "Rank": "rank", "Where": "where", "Fill": "fill",
    "GatherNd": "gather_nd", "Tile": "tile", "BroadcastTo": "broadcast_to",
    "Reshape": "reshape", "Transpose": "transpose", "ExpandDims": "expand_dims",
    "Slice": "slice", "ReverseV2": "reverse", "InvertPermutation": "math.invert_permutation",
    "Conj": "math.conj", "Real": "math.real", "Imag": "math.imag",
    "ComplexAbs": "math.abs", "MatrixInverse": "linalg.inv",
    "MatrixDeterminant": "linalg.det", "Cholesky": "linalg.cholesky",
    "StringStrip": "strings.strip", "RegexReplace": "strings.regex_replace",
    "ClipByValue": "clip_by_value", "Softmax": "nn.softmax", "LogSoftmax": "nn.log_softmax",
    "CheckNumerics": "identity", "EnsureShape": "identity",
}.items():  # fmt: skip
    _H[_name] = _fn(_path)


@_op("Identity", "Snapshot", "StopGradient", "PreventGradient")
def _identity(lib, a, ins):
    tf = _tf()
    x = ins[0]
    return [x if _is_var(x) else tf.identity(x)]


@_op("IdentityN")
def _identity_n(lib, a, ins):
    return list(ins)


@_op("NoOp", "DisableCopyOnRead")
def _noop(lib, a, ins):
    return []


@_op("Const")
def _const(lib, a, ins):
    return [_tf().constant(a["value"], dtype=a["dtype"])]


@_op("ReadVariableOp")
def _read(lib, a, ins):
    return [ins[0].read_value()]


@_op("AssignVariableOp")
def _assign(lib, a, ins):
    ins[0].assign(ins[1])
    return []


@_op("AssignAddVariableOp")
def _assign_add(lib, a, ins):
    ins[0].assign_add(ins[1])
    return []


@_op("AssignSubVariableOp")
def _assign_sub(lib, a, ins):
    ins[0].assign_sub(ins[1])
    return []


@_op("VarIsInitializedOp")
def _initialized(lib, a, ins):
    return [_tf().constant(True)]


@_op("VarHandleOp")
def _var_handle(lib, a, ins):
    var = lib.variables_by_name.get(a.get("shared_name", ""))
    if var is None:
        raise UnimplementedError(
            None, None, f"VarHandleOp {a.get('shared_name')!r}: no such variable in the model"
        )
    return [var]


@_op("Cast")
def _cast(lib, a, ins):
    return [_tf().cast(ins[0], a["DstT"])]


@_op("Squeeze")
def _squeeze(lib, a, ins):
    return [_tf().squeeze(ins[0], axis=list(a.get("squeeze_dims") or []) or None)]


@_op("ConcatV2")
def _concat(lib, a, ins):
    return [_tf().concat(list(ins[:-1]), axis=ins[-1])]


@_op("Pack")
def _pack(lib, a, ins):
    return [_tf().stack(list(ins), axis=a.get("axis", 0))]


@_op("Unpack")
def _unpack(lib, a, ins):
    return list(_tf().unstack(ins[0], num=a["num"], axis=a.get("axis", 0)))


@_op("Split")
def _split(lib, a, ins):
    return list(_tf().split(ins[1], a["num_split"], axis=ins[0]))


@_op("SplitV")
def _split_v(lib, a, ins):
    return list(_tf().split(ins[0], ins[1], axis=ins[2]))


@_op("Shape")
def _shape_op(lib, a, ins):
    return [_tf().shape(ins[0], out_type=a.get("out_type", _d.int32))]


@_op("Range")
def _range(lib, a, ins):
    return [_tf().range(ins[0], ins[1], ins[2], dtype=a.get("Tidx"))]


@_op("StridedSlice")
def _strided_slice(lib, a, ins):
    keys = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")
    return [_tf().strided_slice(*ins, **{k: a.get(k, 0) for k in keys})]


@_op("GatherV2")
def _gather(lib, a, ins):
    return [_tf().gather(ins[0], ins[1], axis=ins[2], batch_dims=a.get("batch_dims", 0))]


@_op("Pad", "PadV2")
def _pad(lib, a, ins):
    value = ins[2] if len(ins) > 2 else 0
    return [_tf().pad(ins[0], ins[1], constant_values=value)]


@_op("MirrorPad")
def _mirror_pad(lib, a, ins):
    return [_tf().pad(ins[0], ins[1], mode=a["mode"])]


@_op("Select", "SelectV2")
def _select(lib, a, ins):
    return [_tf().where(ins[0], ins[1], ins[2])]


def _axis(x, axis):
    """A reduction axis rill needs statically: its known value, or every axis when it has
    as many entries as ``x`` has dimensions (``Range(0, Rank(x))`` in TF's graphs)."""
    value = _tf().get_static_value(axis)
    if value is not None:
        return value
    n = axis.shape.num_elements() if axis.shape.rank is not None else None
    if n is not None and n == x.shape.rank:
        return None
    raise UnimplementedError(
        None, None, f"a reduction over axes {axis} that are only known when the graph runs"
    )


def _reduce(path):
    def handler(lib, a, ins):
        fn = getattr(_tf().math, path)
        return [fn(ins[0], axis=_axis(ins[0], ins[1]), keepdims=a.get("keep_dims", False))]

    return handler


for _name, _path in {
    "Sum": "reduce_sum", "Mean": "reduce_mean", "Max": "reduce_max", "Min": "reduce_min",
    "Prod": "reduce_prod", "All": "reduce_all", "Any": "reduce_any",
    "EuclideanNorm": "reduce_euclidean_norm",
}.items():  # fmt: skip
    _H[_name] = _reduce(_path)


@_op("ArgMax", "ArgMin")
def _arg(lib, a, ins):
    fn = getattr(_tf().math, "argmax" if a["_op"] == "ArgMax" else "argmin")
    return [fn(ins[0], axis=ins[1], output_type=a.get("output_type", _d.int64))]


@_op("AddN")
def _add_n(lib, a, ins):
    return [_tf().math.add_n(list(ins))]


@_op("MatMul")
def _matmul(lib, a, ins):
    return [
        _tf().linalg.matmul(
            ins[0],
            ins[1],
            transpose_a=a.get("transpose_a", False),
            transpose_b=a.get("transpose_b", False),
        )
    ]


@_op("BatchMatMulV2", "BatchMatMulV3", "BatchMatMul")
def _batch_matmul(lib, a, ins):
    return [
        _tf().linalg.matmul(
            ins[0], ins[1], adjoint_a=a.get("adj_x", False), adjoint_b=a.get("adj_y", False)
        )
    ]


@_op("Einsum")
def _einsum(lib, a, ins):
    return [_tf().einsum(a["equation"], *ins)]


@_op("BiasAdd", "BiasAddV1")
def _bias_add(lib, a, ins):
    return [_tf().nn.bias_add(ins[0], ins[1], data_format=a.get("data_format", "NHWC"))]


@_op("LeakyRelu")
def _leaky_relu(lib, a, ins):
    return [_tf().nn.leaky_relu(ins[0], alpha=a.get("alpha", 0.2))]


def _conv_kwargs(a):
    return {
        "strides": list(a["strides"]),
        "padding": a["padding"] if a["padding"] != "EXPLICIT" else _explicit(a),
        "data_format": a.get("data_format", "NHWC"),
        "dilations": list(a.get("dilations") or [1, 1, 1, 1]),
    }


def _explicit(a):
    p = list(a["explicit_paddings"])
    return [p[i : i + 2] for i in range(0, len(p), 2)]


@_op("Conv2D")
def _conv2d(lib, a, ins):
    return [_tf().nn.conv2d(ins[0], ins[1], **_conv_kwargs(a))]


@_op("DepthwiseConv2dNative")
def _depthwise(lib, a, ins):
    kw = _conv_kwargs(a)
    fmt = kw["data_format"]
    hw = slice(1, 3) if fmt == "NHWC" else slice(2, 4)
    return [
        _tf().nn.depthwise_conv2d(
            ins[0], ins[1], kw["strides"], kw["padding"], data_format=fmt,
            dilations=kw["dilations"][hw],
        )
    ]  # fmt: skip


@_op("MaxPool", "AvgPool")
def _pool(lib, a, ins):
    nn = _tf().nn
    fn = nn.max_pool2d if a["_op"] == "MaxPool" else nn.avg_pool2d
    return [
        fn(ins[0], list(a["ksize"]), list(a["strides"]), a["padding"],
           data_format=a.get("data_format", "NHWC"))
    ]  # fmt: skip


@_op("FusedBatchNormV3", "FusedBatchNorm")
def _fused_bn(lib, a, ins):
    tf = _tf()
    x, scale, offset, mean, var = ins[:5]
    if a.get("is_training", True):
        raise UnimplementedError(
            None, None, f"{a['_op']} with is_training=True (rill loads inference graphs)"
        )
    shape = [1, -1, 1, 1] if a.get("data_format", "NHWC").startswith("NC") else [-1]
    eps = a.get("epsilon", 1e-4)
    inv = tf.math.rsqrt(tf.reshape(var, shape) + eps) * tf.reshape(scale, shape)
    y = (x - tf.reshape(mean, shape)) * inv + tf.reshape(offset, shape)
    extra = len(_OUT_ARGS[a["_op"]]) - 1
    return [y, mean, var] + [mean] * (extra - 2)


@_op("Cumsum", "Cumprod")
def _cum(lib, a, ins):
    fn = _tf().math.cumsum if a["_op"] == "Cumsum" else _tf().math.cumprod
    return [fn(ins[0], ins[1], exclusive=a.get("exclusive", False),
               reverse=a.get("reverse", False))]  # fmt: skip


@_op("OneHot")
def _one_hot(lib, a, ins):
    return [_tf().one_hot(ins[0], ins[1], ins[2], ins[3], axis=a.get("axis", -1))]


@_op("TopKV2")
def _top_k(lib, a, ins):
    r = _tf().math.top_k(ins[0], ins[1], sorted=a.get("sorted", True))
    return [r.values, r.indices]


@_op("SparseSoftmaxCrossEntropyWithLogits", "SoftmaxCrossEntropyWithLogits")
def _xent(lib, a, ins):
    return list(_bind(a["_op"], ins, {}))


@_op("Unique")
def _unique(lib, a, ins):
    return list(_tf().unique(ins[0], out_idx=a.get("out_idx", _d.int32)))


@_op("StringJoin")
def _string_join(lib, a, ins):
    return [_tf().strings.join(list(ins), separator=a.get("separator", ""))]


@_op("StringUpper", "StringLower")
def _string_case(lib, a, ins):
    fn = _tf().strings.upper if a["_op"] == "StringUpper" else _tf().strings.lower
    return [fn(ins[0], encoding=a.get("encoding", ""))]


@_op("StringLength")
def _string_length(lib, a, ins):
    return [_tf().strings.length(ins[0], unit=a.get("unit", "BYTE"))]


@_op("StaticRegexFullMatch")
def _static_regex(lib, a, ins):
    return [_tf().strings.regex_full_match(ins[0], a["pattern"])]


@_op("RegexFullMatch")
def _regex(lib, a, ins):
    return [_tf().strings.regex_full_match(ins[0], ins[1])]


@_op("StringToNumber")
def _to_number(lib, a, ins):
    return [_tf().strings.to_number(ins[0], out_type=a.get("out_type", _d.float32))]


@_op("AsString")
def _as_string(lib, a, ins):
    return [_tf().strings.as_string(ins[0])]


@_op("StringToHashBucketFast")
def _hash_fast(lib, a, ins):
    return [_tf().strings.to_hash_bucket_fast(ins[0], a["num_buckets"])]


# TensorLists (Keras RNN loops) bind rill's primitives, whose params differ in form only
def _element_shape(t):
    from rill.core.tensor import Tensor  # noqa: F401 - for the value below

    v = _tf().get_static_value(t)
    if v is None:
        return None
    v = np.asarray(v)
    if v.ndim == 0:
        return None  # -1: unknown rank
    return tuple(None if int(d) < 0 else int(d) for d in v)


def _bind(name, ins, params):
    from rill.core.dispatch import REGISTRY, bind

    return bind(REGISTRY[name], tuple(ins), params)


@_op("TensorListReserve")
def _tl_reserve(lib, a, ins):
    params = {"element_dtype": a["element_dtype"], "element_shape": _element_shape(ins[0])}
    return [_bind("TensorListReserve", [ins[1]], params)]


@_op("TensorListFromTensor")
def _tl_from(lib, a, ins):
    return [_bind("TensorListFromTensor", [ins[0]], {"element_shape": _element_shape(ins[1])})]


@_op("TensorListGetItem")
def _tl_get(lib, a, ins):
    params = {"element_dtype": a["element_dtype"], "element_shape": _element_shape(ins[2])}
    return [_bind("TensorListGetItem", ins[:2], params)]


@_op("TensorListSetItem")
def _tl_set(lib, a, ins):
    params = {"resize_if_index_out_of_bounds": a.get("resize_if_index_out_of_bounds", False)}
    return [_bind("TensorListSetItem", ins, params)]


@_op("TensorListStack")
def _tl_stack(lib, a, ins):
    params = {
        "element_dtype": a["element_dtype"],
        "element_shape": _element_shape(ins[1]),
        "num_elements": a.get("num_elements", -1),
    }
    return [_bind("TensorListStack", [ins[0]], params)]


@_op("TensorListLength")
def _tl_length(lib, a, ins):
    return [_bind("TensorListLength", ins, {})]


# -- control flow -----------------------------------------------------------------------


@_op("PartitionedCall", "StatefulPartitionedCall")
def _call(lib, a, ins):
    return lib.call(a["f"], ins)


@_op("If", "StatelessIf")
def _if(lib, a, ins):
    tf = _tf()
    pred, args = ins[0], list(ins[1:])
    then_f, else_f = a["then_branch"], a["else_branch"]
    if pred.dtype != _d.bool:  # TF's If takes any scalar: nonzero (or non-empty) is true
        pred = tf.cast(pred, _d.bool) if pred.dtype != _d.string else tf.strings.length(pred) > 0
    if not lib.n_outputs(then_f):
        return []
    out = tf.cond(pred, lambda: lib.call(then_f, args), lambda: lib.call(else_f, args))
    return list(out) if isinstance(out, (list, tuple)) else [out]


@_op("While", "StatelessWhile")
def _while(lib, a, ins):
    tf = _tf()
    cond_f, body_f = a["cond"], a["body"]
    ins = list(ins)
    # resources and other non-tensors ride along unchanged: rill's loop carries tensors
    fixed = {i: x for i, x in enumerate(ins) if _is_var(x)}
    carried = [i for i in range(len(ins)) if i not in fixed]

    def full(vals):
        out = list(ins)
        for i, v in zip(carried, vals):
            out[i] = v
        for i, v in fixed.items():
            out[i] = v
        return out

    def cond(*vals):
        c = lib.call(cond_f, full(vals))[0]
        return c if c.dtype == _d.bool else tf.cast(c, _d.bool)

    def body(*vals):
        res = lib.call(body_f, full(vals))
        return [res[i] for i in carried]

    shapes = a.get("output_shapes") or []
    kwargs = {}
    if shapes and len(shapes) == len(ins):
        kwargs["shape_invariants"] = [shapes[i] for i in carried]
    res = tf.while_loop(cond, body, [ins[i] for i in carried], **kwargs)
    res = list(res) if isinstance(res, (list, tuple)) else [res]
    return full(res)


SUPPORTED_OPS = frozenset(_H) | {"Placeholder"}


# --------------------------------------------------------------------------------------
# Running FunctionDefs
# --------------------------------------------------------------------------------------


def _attrs(node) -> dict:
    a = {k: attr_value(v) for k, v in node.attr.items() if not k.startswith("_")}
    a["_op"] = node.op
    return a


class _Compiled:
    """A FunctionDef prepared for repeated runs: its nodes in dependency order."""

    def __init__(self, fdef):
        self.name = fdef.signature.name
        self.arg_names = [arg.name for arg in fdef.signature.input_arg]
        self.out_names = [arg.name for arg in fdef.signature.output_arg]
        self.ret = dict(fdef.ret)
        by_name = {n.name: n for n in fdef.node_def}
        order, state = [], {}
        for start in by_name:  # iterative depth-first topological sort
            if state.get(start):
                continue
            stack = [(start, False)]
            while stack:
                name, done = stack.pop()
                if done:
                    state[name] = 2
                    order.append(by_name[name])
                    continue
                if state.get(name):
                    continue
                state[name] = 1
                stack.append((name, True))
                for inp in by_name[name].input:
                    dep = inp.lstrip("^").split(":")[0]
                    if dep in by_name and not state.get(dep):
                        stack.append((dep, False))
        self.nodes = [(n, _attrs(n), [i for i in n.input if not i.startswith("^")]) for n in order]


class FunctionLibrary:
    """A GraphDef's function library, run with rill ops."""

    def __init__(self, library, variables_by_name=None):
        self.fdefs = {f.signature.name: f for f in library.function}
        self._compiled: dict = {}
        self.variables_by_name = dict(variables_by_name or {})

    def n_outputs(self, name: str) -> int:
        return len(self.fdefs[name].signature.output_arg)

    def unsupported_ops(self, names=None) -> list:
        """The ops without a handler in ``names``' functions and those they call."""
        seen, todo, bad = set(), list(names if names is not None else self.fdefs), set()
        while todo:
            name = todo.pop()
            if name in seen or name not in self.fdefs:
                continue
            seen.add(name)
            for node in self.fdefs[name].node_def:
                if node.op in self.fdefs:
                    todo.append(node.op)
                elif node.op not in _H:
                    bad.add(node.op)
                for av in node.attr.values():
                    if av.WhichOneof("value") == "func":
                        todo.append(av.func.name)
        return sorted(bad)

    def _get(self, name: str) -> _Compiled:
        c = self._compiled.get(name)
        if c is None:
            if name not in self.fdefs:
                raise UnimplementedError(None, None, f"function {name!r} is not in the library")
            c = self._compiled[name] = _Compiled(self.fdefs[name])
        return c

    def call(self, name: str, args) -> list:
        """Run function ``name`` on ``args`` (rill tensors or Variables for resources)."""
        fn = self._get(name)
        if len(args) != len(fn.arg_names):
            raise ValueError(f"function {name} takes {len(fn.arg_names)} inputs, got {len(args)}")
        env = dict(zip(fn.arg_names, ([a] for a in args)))
        for node, attrs, inputs in fn.nodes:
            ins = [self._ref(env, r, fn) for r in inputs]
            if node.op in self.fdefs:  # a function called as an op
                env[node.name] = self.call(node.op, ins)
                continue
            handler = _H.get(node.op)
            if handler is None:
                raise UnimplementedError(
                    None, None, f"rill cannot run TensorFlow op {node.op!r} (node {node.name} "
                    f"of function {name})"
                )  # fmt: skip
            env[node.name] = handler(self, attrs, ins)
        return [self._ref(env, fn.ret[o], fn) for o in fn.out_names]

    def _ref(self, env, ref: str, fn):
        parts = ref.split(":")
        outs = env[parts[0]]
        if len(parts) == 1:
            return outs[0]
        if len(parts) == 2:  # "node:i" in a GraphDef
            return outs[int(parts[1])]
        node_op = None
        for n, _, _ in fn.nodes:
            if n.name == parts[0]:
                node_op = n.op
                break
        offset = 0
        names = _OUT_ARGS.get(node_op)
        if names and parts[1] in names:
            offset = names.index(parts[1])
        return outs[offset + int(parts[2])]
