"""rill graphs into TensorFlow: a traced ``FuncGraph`` as FunctionDefs of TF ops.

``LibraryBuilder.add(graph, name, outputs)`` writes one FunctionDef for a traced function:
its placeholders become input arguments, every variable it reads or assigns one more
``DT_RESOURCE`` argument (``variables`` lists them, in order, for the caller to bind),
and each rill op the TF op(s) TensorFlow itself would run for it. Ops whose parameters
TensorFlow takes as attributes of the same name lower generically, checked against TF's
op interface (``tf_op_defs``); the others have a rule below (parameters TF takes as
inputs, strides given per dimension, ...). ``If`` and ``While`` write their branches and
bodies as functions of their own. A primitive with no TensorFlow form raises
``UnimplementedError`` naming it, at save time.
"""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.core.errors import UnimplementedError
from rill.core.protos import make_tensor_proto
from rill.core.tensor_shape import TensorShape
from rill.tracing.graph_def import _set_attr, _set_shape

__all__ = ["LibraryBuilder", "DT_RESOURCE"]

DT_RESOURCE = 20
_REQUIRED = "REQUIRED"
_DEFS = None


def _op_defs() -> dict:
    global _DEFS
    if _DEFS is None:
        from rill.saved_model.tf_op_defs import OP_DEFS

        _DEFS = OP_DEFS
    return _DEFS


def _refuse(prim_name: str, why: str) -> UnimplementedError:
    return UnimplementedError(
        None,
        None,
        f"tf.saved_model.save: rill op {prim_name} cannot be written as a TensorFlow op "
        f"({why}); the function using it cannot be exported",
    )


class _Fn:
    """One FunctionDef being written."""

    def __init__(self, lib, name):
        self.lib = lib
        self.fdef = lib.classes["FunctionDef"]()
        self.fdef.signature.name = name
        self.used: set = set()
        self.var_args: dict = {}  # id(var) -> arg name
        self.variables: list = []
        self.stateful = False

    def unique(self, base: str) -> str:
        base = "".join(c if c.isalnum() or c in "_-." else "_" for c in base) or "n"
        if not base[0].isalpha():
            base = "n" + base
        name, i = base, 0
        while name in self.used:
            i += 1
            name = f"{base}_{i}"
        self.used.add(name)
        return name

    def arg(self, name, dtype, var=None) -> str:
        a = self.fdef.signature.input_arg.add(name=self.unique(name))
        if var is not None:
            a.type = DT_RESOURCE
            hd = a.handle_data.add(dtype=var.dtype.as_datatype_enum)
            _set_shape(hd.shape, TensorShape(var.shape))
        else:
            a.type = dtype.as_datatype_enum
        return a.name

    def resource(self, var) -> str:
        name = self.var_args.get(id(var))
        if name is None:
            base = str(getattr(var, "name", "") or "variable").split(":")[0].replace("/", "_")
            name = self.var_args[id(var)] = self.arg(base, None, var)
            self.variables.append(var)
        return name

    def node(self, op, base, inputs, attrs=None) -> list:
        """Add a node; returns the refs of its outputs (``name:arg:i``)."""
        name = self.unique(base)
        nd = self.fdef.node_def.add(name=name, op=op)
        nd.input.extend(inputs)
        for k, v in (attrs or {}).items():
            if not _set_attr(nd.attr[k], v):
                raise _refuse(op, f"attribute {k}={v!r} has no TF form")
        spec = _op_defs().get(op)
        if spec is None:  # a function called as an op
            n_out = len(self.lib.fdefs[op].signature.output_arg)
            return [f"{name}:{o.name}:0" for o in self.lib.fdefs[op].signature.output_arg][:n_out]
        if spec["stateful"]:
            self.stateful = True
        refs = []
        for arg_name, _fixed, _t, number_attr, list_attr in spec["out"]:
            if number_attr:
                count = attrs[number_attr]
            elif list_attr:
                count = len(attrs[list_attr])
            else:
                count = 1
            refs.extend(f"{name}:{arg_name}:{i}" for i in range(count))
        return refs

    def const(self, value, dtype, base="Const") -> str:
        value = np.asarray(value, dtype.np if not dtype.is_string else object)
        attrs = {"dtype": dtype}
        name = self.unique(base)
        nd = self.fdef.node_def.add(name=name, op="Const")
        make_tensor_proto(value, dtype, compact=True, proto=nd.attr["value"].tensor)
        nd.attr["dtype"].type = attrs["dtype"].as_datatype_enum
        return f"{name}:output:0"


class LibraryBuilder:
    """Collects the FunctionDefs of a SavedModel's function library."""

    def __init__(self):
        from rill.saved_model.protos import classes

        self.classes = classes()
        self.fdefs: dict = {}  # name -> FunctionDef
        self._count = 0

    def fresh_name(self, base: str) -> str:
        self._count += 1
        return f"__inference_{base}_{self._count}"

    def add(self, graph, name, outputs, input_names=None) -> _Fn:
        """Write ``graph`` (outputs ``outputs``) as FunctionDef ``name``."""
        fn = _Fn(self, name)
        env: dict = {}  # id(tensor) -> ref
        inputs = [t for t in graph.inputs]
        names = list(input_names or [])
        for i, t in enumerate(inputs):
            base = names[i] if i < len(names) and names[i] else (t.op.name or f"arg{i}")
            env[id(t)] = fn.arg(base, t.dtype)
        self._body(fn, graph, env)
        self._finish(fn, outputs, env)
        return fn

    def _finish(self, fn, outputs, env, out_names=None):
        sig = fn.fdef.signature
        for i, t in enumerate(outputs):
            ref = env.get(id(t))
            if ref is None:
                raise _refuse("output", f"output {t} was not computed by the function")
            ret_name = fn.unique("identity" if i == 0 else f"identity_{i}")
            sig.output_arg.add(name=ret_name, type=t.dtype.as_datatype_enum)
            node_ref = fn.node("Identity", "Identity", [ref], {"T": t.dtype})[0]
            fn.fdef.ret[ret_name] = node_ref
        sig.is_stateful = fn.stateful
        self.fdefs[sig.name] = fn.fdef

    def _body(self, fn, graph, env):
        from rill.tracing.graph import assign_variable_p, const_p, placeholder_p, read_variable_p

        for op in graph.ops:
            prim = op.prim
            if prim is placeholder_p:
                if id(op.outputs[0]) not in env:
                    var = op.params.get("lifted_var")
                    if var is None:
                        raise _refuse("Placeholder", f"{op.name} is not fed")
                    r = fn.resource(var)
                    env[id(op.outputs[0])] = fn.node(
                        "ReadVariableOp", op.name, [r], {"dtype": var.dtype}
                    )[0]
                continue
            ins = [env[id(t)] for t in op.inputs]
            if prim is const_p:
                t = op.outputs[0]
                env[id(t)] = fn.const(op.params["value"], t.dtype, op.name)
                continue
            if prim is read_variable_p:
                var = op.params["var"]
                refs = fn.node("ReadVariableOp", op.name, [fn.resource(var)], {"dtype": var.dtype})
            elif prim is assign_variable_p:
                var = op.params["var"]
                kind = {"assign_add": "AssignAddVariableOp", "assign_sub": "AssignSubVariableOp"}
                tf_op = kind.get(op.params.get("mode"), "AssignVariableOp")
                refs = fn.node(tf_op, op.name, [fn.resource(var), ins[0]], {"dtype": var.dtype})
            else:
                rule = _RULES.get(prim.name)
                refs = rule(self, fn, op, ins) if rule else _generic(fn, op, ins)
            for t, r in zip(op.outputs, refs):
                env[id(t)] = r

    # -- control flow -------------------------------------------------------------------
    def subfunction(self, base, sub, arg_types, arg_map, outputs=None, passthrough=()):
        """A branch/body ``SubGraph`` as a function of ``arg_types`` arguments;
        ``arg_map[j]`` is the argument feeding the subgraph's input j. ``passthrough``
        arguments are returned after the outputs unchanged (a While body's captures)."""
        name = self.fresh_name(base)
        fn = _Fn(self, name)
        args = [fn.arg(f"arg{i}", dt) for i, dt in enumerate(arg_types)]
        env = {}
        for j, ph in enumerate(sub.graph.inputs):
            env[id(ph)] = args[arg_map[j]]
        self._body(fn, sub.graph, env)
        if fn.variables:
            raise _refuse("If/While", "a branch or loop body reads a variable directly")
        outs = list(sub.outputs if outputs is None else outputs)
        sig = fn.fdef.signature
        for i, t in enumerate(outs):
            ret = fn.unique(f"identity_{i}")
            sig.output_arg.add(name=ret, type=t.dtype.as_datatype_enum)
            fn.fdef.ret[ret] = fn.node("Identity", "Identity", [env[id(t)]], {"T": t.dtype})[0]
        for k, i in enumerate(passthrough):
            ret = fn.unique(f"identity_{len(outs) + k}")
            sig.output_arg.add(name=ret, type=arg_types[i].as_datatype_enum)
            fn.fdef.ret[ret] = fn.node("Identity", "Identity", [args[i]], {"T": arg_types[i]})[0]
        sig.is_stateful = fn.stateful
        self.fdefs[name] = fn.fdef
        return name


# --------------------------------------------------------------------------------------
# Lowering rules
# --------------------------------------------------------------------------------------


def _generic(fn, op, ins, tf_name=None, params=None, extra_inputs=()):
    """Lower an op whose params are TF attributes of the same name."""
    name = tf_name or op.prim.name
    spec = _op_defs().get(name)
    if spec is None:
        raise _refuse(op.prim.name, "TensorFlow has no such op")
    params = dict(op.params if params is None else params)
    ins = list(ins) + list(extra_inputs)
    dtypes = [t.dtype for t in op.inputs] + [d for _, d in extra_inputs_types(extra_inputs)]
    attrs: dict = {}
    in_args = spec["in"]
    n_single = sum(1 for a in in_args if not a[3] and not a[4])
    n_list = len(ins) - n_single
    pos = 0
    for arg_name, _fixed, type_attr, number_attr, list_attr in in_args:
        if number_attr or list_attr:
            count = n_list
            if number_attr:
                attrs[number_attr] = count
            if list_attr:
                attrs[list_attr] = dtypes[pos : pos + count]
            if type_attr and count:
                attrs.setdefault(type_attr, dtypes[pos])
            pos += count
        else:
            if pos >= len(ins):
                raise _refuse(op.prim.name, f"TF's {name} takes input {arg_name}, rill has none")
            if type_attr:
                attrs.setdefault(type_attr, dtypes[pos])
            pos += 1
    out_dtypes = [t.dtype for t in op.outputs]
    k = 0
    for _name, _fixed, type_attr, _number, _list in spec["out"]:
        if type_attr and type_attr not in attrs and k < len(out_dtypes):
            attrs[type_attr] = params.pop(type_attr, None) or out_dtypes[k]
        k += 1
    for key, value in params.items():
        if key in attrs:
            continue
        if key not in spec["attr"]:
            if value is None or key in _IGNORED_PARAMS:
                continue
            raise _refuse(op.prim.name, f"its parameter {key!r} is not an attribute of TF's {name}")
        if value is None:
            continue
        if isinstance(value, tuple):
            value = list(value)
        attrs[key] = value
    for key, (_type, default) in spec["attr"].items():
        if key not in attrs and default == _REQUIRED:
            raise _refuse(op.prim.name, f"TF's {name} needs attribute {key!r}")
    return fn.node(name, op.name, ins, attrs)


_IGNORED_PARAMS = {"keep_history", "out_avals", "name"}


def extra_inputs_types(extra):
    return ()


def _with_const_inputs(tf_name, consts, drop=()):
    """A rule for ops whose rill params TF takes as trailing inputs: ``consts`` are
    (param, dtype, convert) in TF's input order."""

    def rule(lib, fn, op, ins):
        params = {k: v for k, v in op.params.items() if k not in drop}
        refs = list(ins)
        dts = [t.dtype for t in op.inputs]
        for key, dtype, conv in consts:
            value = conv(op, params.pop(key, None))
            refs.append(fn.const(value, dtype, f"{op.name}/{key}"))
            dts.append(dtype)
        return _node_typed(fn, op, tf_name, refs, dts, params)

    return rule


def _node_typed(fn, op, tf_name, refs, dts, params):
    """``_generic`` for inputs given as refs with their dtypes."""

    class _T:
        def __init__(self, dtype):
            self.dtype = dtype

    class _Op:
        pass

    fake = _Op()
    fake.prim = op.prim
    fake.name = op.name
    fake.params = params
    fake.inputs = [_T(d) for d in dts]
    fake.outputs = op.outputs
    return _generic(fn, fake, refs, tf_name=tf_name, params=params)


def _axes(op, axis):
    rank = op.inputs[0].shape.rank
    if axis is None:
        if rank is None:
            raise _refuse(op.prim.name, "a reduction over all axes of a tensor of unknown rank")
        return np.arange(rank, dtype=np.int32)
    return np.asarray(axis, np.int32)


def _reduction(lib, fn, op, ins):
    params = dict(op.params)
    axis = params.pop("axis", None)
    keep = params.pop("keepdims", False)
    refs = list(ins) + [fn.const(_axes(op, axis), _d.int32, f"{op.name}/reduction_indices")]
    dts = [op.inputs[0].dtype, _d.int32]
    return _node_typed(fn, op, op.prim.name, refs, dts, {"keep_dims": bool(keep), **params})


def _transpose(lib, fn, op, ins):
    params = dict(op.params)
    perm = params.pop("perm", None)
    conj = params.pop("conjugate", False)
    if perm is None:
        rank = op.inputs[0].shape.rank
        if rank is None:
            raise _refuse("Transpose", "no permutation and unknown rank")
        perm = list(range(rank))[::-1]
    refs = [ins[0], fn.const(np.asarray(perm, np.int32), _d.int32, f"{op.name}/perm")]
    name = "ConjugateTranspose" if conj and op.inputs[0].dtype.is_complex else "Transpose"
    return _node_typed(fn, op, name, refs, [op.inputs[0].dtype, _d.int32], params)


def _softmax(lib, fn, op, ins):
    params = dict(op.params)
    axis = params.pop("axis", -1)
    rank = op.inputs[0].shape.rank
    if axis not in (-1, None) and not (rank is not None and axis == rank - 1):
        raise _refuse(op.prim.name, f"axis={axis} (TF's op normalises the last axis)")
    return _node_typed(fn, op, op.prim.name, ins, [op.inputs[0].dtype], params)


def _spatial(values, fmt, n=2):
    v = list(values) if isinstance(values, (list, tuple)) else [values] * n
    if len(v) == n + 2:
        return v
    return [1, *v, 1] if fmt.endswith("C") else [1, 1, *v]


def _conv(lib, fn, op, ins):
    p = dict(op.params)
    fmt = p.get("data_format", "NHWC")
    p["strides"] = _spatial(p["strides"], fmt)
    p["dilations"] = _spatial(p.get("dilations", 1), fmt)
    p["explicit_paddings"] = list(p.get("explicit_paddings") or [])
    return _node_typed(fn, op, op.prim.name, ins, [t.dtype for t in op.inputs], p)


def _pool(lib, fn, op, ins):
    p = dict(op.params)
    fmt = p.get("data_format", "NHWC")
    p["ksize"] = _spatial(p["ksize"], fmt)
    p["strides"] = _spatial(p["strides"], fmt)
    if not p.get("explicit_paddings"):
        p.pop("explicit_paddings", None)
    return _node_typed(fn, op, op.prim.name, ins, [t.dtype for t in op.inputs], p)


def _if(lib, fn, op, ins):
    p = op.params
    then_s, else_s = p["then_branch"], p["else_branch"]
    arg_types = [t.dtype for t in op.inputs[1:]]
    then_f = lib.subfunction("cond_true", then_s, arg_types, [i - 1 for i in then_s.arg_idx])
    else_f = lib.subfunction("cond_false", else_s, arg_types, [i - 1 for i in else_s.arg_idx])
    attrs = {
        "Tcond": op.inputs[0].dtype,
        "Tin": arg_types,
        "Tout": [t.dtype for t in op.outputs],
        "output_shapes": [t.shape for t in op.outputs],
    }
    name = fn.unique(op.name)
    nd = fn.fdef.node_def.add(name=name, op="If")
    nd.input.extend(ins)
    for k, v in attrs.items():
        _set_attr(nd.attr[k], v)
    nd.attr["then_branch"].func.name = then_f
    nd.attr["else_branch"].func.name = else_f
    fn.stateful = True
    return [f"{name}:output:{i}" for i in range(len(op.outputs))]


def _while(lib, fn, op, ins):
    p = op.params
    if p.get("keep_history"):
        raise _refuse("While", "a loop recorded for its gradient")
    n = p["n"]
    types = [t.dtype for t in op.inputs]
    cond_s, body_s = p["cond_graph"], p["body_graph"]
    cond_f = lib.subfunction("while_cond", cond_s, types, list(cond_s.arg_idx))
    body_f = lib.subfunction(
        "while_body", body_s, types, list(body_s.arg_idx), passthrough=range(n, len(types))
    )
    shapes = [t.shape for t in op.outputs[:n]] + [t.shape for t in op.inputs[n:]]
    # loop-carried shapes may change between iterations: keep only what holds
    shapes = [
        s if i >= n or s.is_compatible_with(op.inputs[i].shape) else TensorShape(None)
        for i, s in enumerate(shapes)
    ]
    name = fn.unique(op.name)
    nd = fn.fdef.node_def.add(name=name, op="While")
    nd.input.extend(ins)
    _set_attr(nd.attr["T"], types)
    _set_attr(nd.attr["output_shapes"], shapes)
    _set_attr(nd.attr["parallel_iterations"], 10)
    nd.attr["cond"].func.name = cond_f
    nd.attr["body"].func.name = body_f
    fn.stateful = True
    return [f"{name}:output:{i}" for i in range(n)]


def _cast(lib, fn, op, ins):
    p = dict(op.params)
    dst = p.pop("dtype", None) or p.pop("DstT", None) or op.outputs[0].dtype
    attrs = {"SrcT": op.inputs[0].dtype, "DstT": dst, "Truncate": bool(p.pop("truncate", False))}
    return fn.node("Cast", op.name, ins, attrs)


def _squeeze(lib, fn, op, ins):
    p = dict(op.params)
    axis = p.pop("axis", None)
    axis = [] if axis is None else list(np.atleast_1d(axis).tolist())
    return fn.node("Squeeze", op.name, ins, {"T": op.inputs[0].dtype, "squeeze_dims": axis})


def _gather(lib, fn, op, ins):
    p = dict(op.params)
    axis = p.pop("axis", 0)
    if len(ins) < 3:
        ins = list(ins) + [fn.const(np.int32(axis), _d.int32, f"{op.name}/axis")]
    attrs = {
        "Tparams": op.inputs[0].dtype,
        "Tindices": op.inputs[1].dtype,
        "Taxis": _d.int32 if len(op.inputs) < 3 else op.inputs[2].dtype,
        "batch_dims": int(p.pop("batch_dims", 0)),
    }
    return fn.node("GatherV2", op.name, ins, attrs)


def _ensure_shape(lib, fn, op, ins):
    return fn.node(
        "EnsureShape", op.name, ins, {"T": op.inputs[0].dtype, "shape": op.params["shape"]}
    )


def _shape(lib, fn, op, ins):
    return fn.node(
        "Shape", op.name, ins, {"T": op.inputs[0].dtype, "out_type": op.outputs[0].dtype}
    )


_RULES = {
    "Transpose": _transpose, "Softmax": _softmax, "LogSoftmax": _softmax,
    "Conv2D": _conv, "MaxPool": _pool, "AvgPool": _pool, "If": _if, "While": _while,
    "Cast": _cast, "Squeeze": _squeeze, "GatherV2": _gather, "EnsureShape": _ensure_shape,
    "Shape": _shape,
}  # fmt: skip


def _split(lib, fn, op, ins):
    # TF takes the axis as the first input, rill as a parameter
    p = op.params
    axis = fn.const(np.int32(p["axis"]), _d.int32, f"{op.name}/split_dim")
    attrs = {"T": op.inputs[0].dtype, "num_split": int(p["num"])}
    return fn.node("Split", op.name, [axis, ins[0]], attrs)


def _split_v(lib, fn, op, ins):
    p = op.params
    axis = fn.const(np.int32(p["axis"]), _d.int32, f"{op.name}/split_dim")
    attrs = {"T": op.inputs[0].dtype, "Tlen": op.inputs[1].dtype, "num_split": int(p["num"])}
    return fn.node("SplitV", op.name, [ins[0], ins[1], axis], attrs)


def _concat(lib, fn, op, ins):
    # TF takes the axis as the last input, rill as a parameter
    axis = fn.const(np.int32(op.params["axis"]), _d.int32, f"{op.name}/axis")
    attrs = {"T": op.inputs[0].dtype, "N": len(ins), "Tidx": _d.int32}
    return fn.node("ConcatV2", op.name, [*ins, axis], attrs)


def _reverse(lib, fn, op, ins):
    axis = fn.const(np.asarray(list(op.params["axis"]), np.int32).reshape(-1), _d.int32,
                    f"{op.name}/axis")  # fmt: skip
    return fn.node(
        "ReverseV2", op.name, [ins[0], axis], {"T": op.inputs[0].dtype, "Tidx": _d.int32}
    )


def _scan(lib, fn, op, ins):
    from rill.saved_model.scan_export import lower_scan

    return lower_scan(lib, fn, op, ins)


_RULES.update(Scan=_scan, Split=_split, SplitV=_split_v, ConcatV2=_concat,
              ReverseV2=_reverse)  # fmt: skip
for _name in ("Sum", "Mean", "Max", "Min", "Prod", "All", "Any", "EuclideanNorm"):
    _RULES[_name] = _reduction
