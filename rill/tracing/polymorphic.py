"""``rill.function``: trace a Python function into graphs, one per input signature.

A call computes a key from its arguments (tensors by dtype and shape, Python values by
value, variables by identity, nested structures by structure), reuses the concrete
function traced for that key, or traces a new one. Python side effects therefore run only
while tracing, as in TensorFlow.
"""

from __future__ import annotations

import functools
import inspect
import warnings
import weakref

import numpy as np

from rill.core import dispatch as _dispatch
from rill.core import dtypes as _d
from rill.core import nest
from rill.core import runtime as _runtime
from rill.core.convert import convert_to_tensor
from rill.core.tensor import EagerTensor, Tensor, TensorSpec
from rill.core.tensor_shape import TensorShape
from rill.core.variables import is_variable
from rill.tracing.abstract import trace_abstract
from rill.tracing.abstract import tracing as tracing  # re-exported: its old home
from rill.tracing.executor import compile_graph
from rill.tracing.graph import SymbolicTensor, replay

__all__ = ["function", "Function", "ConcreteFunction", "RetracingWarning"]

RETRACE_WARN_AFTER = 5  # traces of one Function before a new one warns
RETRACE_WARN_MAX = 2  # warnings per Function, then silence (TF prints 2 for 1,000 retraces)

# Graph collection (what tf.summary.trace_on switches on): while a collector is active,
# every concrete function that runs adds its graph to it, once.
_collectors: list = []


def start_collecting_graphs() -> list:
    """Collect the graph of every concrete function that runs from now on (in any thread),
    once each, in first-run order, into the returned list (until
    ``stop_collecting_graphs``)."""
    graphs: list = []
    _collectors.append(graphs)
    return graphs


def stop_collecting_graphs(graphs: list) -> None:
    if any(g is graphs for g in _collectors):
        _collectors[:] = [g for g in _collectors if g is not graphs]


def _collect(graph) -> None:
    for graphs in tuple(_collectors):
        if all(g is not graph for g in graphs):
            graphs.append(graph)


def _signature_tensor(value, spec):
    """A Python or NumPy argument converted to ``spec``'s dtype (TF converts, then checks)."""
    try:
        return convert_to_tensor(value, dtype=spec.dtype)
    except (TypeError, ValueError):
        return convert_to_tensor(value)  # the dtype check below reports the mismatch


def _output_tensor(value, fn_name):
    """A Python value returned by a traced function, as the tensor TF returns for it."""
    try:
        return convert_to_tensor(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"To be compatible with tf.function, Python functions must return zero or more "
            f"Tensors or None values; in compilation of {fn_name}, found return value of "
            f"type {type(value).__name__}, which is not a Tensor."
        ) from None


class RetracingWarning(UserWarning):
    """A rill.function keeps tracing new graphs (expensive); the message says why."""


# --------------------------------------------------------------------------------------
# Argument keys and descriptions
# --------------------------------------------------------------------------------------

_PY_SCALARS = (int, float, bool, str, bytes, complex, type(None))


def _leaf_key(x):
    t = type(x)
    if t is EagerTensor:  # Function.__call__'s eager fast path builds this same key
        return (x._dtype, x._value.shape)
    if t in _PY_SCALARS:
        return (t, x)
    if isinstance(x, np.ndarray):
        return (_d.from_numpy(x.dtype) if x.dtype != object else _d.string, x.shape)
    if is_variable(x):
        return ("var", id(x))
    if isinstance(x, TensorSpec):
        return (x.dtype, tuple(x.shape.dims) if x.shape.rank is not None else None)
    if isinstance(x, SymbolicTensor):
        return (x._dtype, tuple(x._shape.dims) if x._shape.rank is not None else None)
    try:
        hash(x)
        return (t, x)
    except TypeError:
        return ("id", id(x))


def _key(args) -> tuple:
    """Hashable key of an argument structure."""
    return tuple(_struct_key(a) for a in args)


# A value made of tensors (SparseTensor, RaggedTensor, TensorArray): it has
# ``_rill_components()`` and ``_rill_rebuild(components)``; nest's test, answered per type.
_is_composite = nest._is_composite


def _is_composite_spec(x) -> bool:
    """A spec of such a value (SparseTensorSpec, RaggedTensorSpec): it has
    ``_rill_component_specs()`` and ``_rill_from_components(components)``."""
    return nest.type_has(x, "_rill_component_specs")


def _composite_key(x):
    static = x._rill_static_key() if hasattr(x, "_rill_static_key") else None
    if _is_composite_spec(x):
        comps = tuple(_leaf_key(c) for c in x._rill_component_specs())
        return ("composite", getattr(x, "value_type", type(x)), static, comps)
    return ("composite", type(x), static, tuple(_leaf_key(c) for c in x._rill_components()))


def _struct_key(x):
    t = type(x)
    if t is EagerTensor:  # the common leaf first (what _leaf_key gives it)
        return (x._dtype, x._value.shape)
    if t is not tuple and t is not list and (_is_composite(x) or _is_composite_spec(x)):
        return _composite_key(x)
    if isinstance(x, (list, tuple)):
        return (t, tuple(_struct_key(v) for v in x))
    if isinstance(x, dict):
        return (dict, tuple((k, _struct_key(x[k])) for k in sorted(x)))
    return _leaf_key(x)


def _eager_key_and_leaves(args):
    """``(_key(args), the graph's inputs)`` for arguments that are eager tensors or tuples
    of them, without nest's walk; None for any other argument."""
    key = []
    nested = False
    for a in args:
        t = type(a)
        if t is EagerTensor:
            key.append((a._dtype, a._value.shape))
        elif t is tuple:
            parts = []
            for b in a:
                if type(b) is not EagerTensor:
                    return None
                parts.append((b._dtype, b._value.shape))
            key.append((tuple, tuple(parts)))
            nested = True
        else:
            return None
    if not nested:  # the arguments are the inputs
        return tuple(key), args
    return tuple(key), [t for a in args for t in (a if type(a) is tuple else (a,))]


def _is_tensor_leaf(x) -> bool:
    return isinstance(x, (Tensor, np.ndarray, TensorSpec))


def _describe_leaves(names, args) -> list:
    out = []
    for name, a in zip(names, args):
        for path, leaf in _paths(name, a):
            if _is_tensor_leaf(leaf):
                if not isinstance(leaf, (Tensor, TensorSpec)):
                    shape = tuple(np.shape(leaf))
                else:  # None: unknown rank (TensorSpec(None))
                    shape = None if leaf.shape.rank is None else tuple(leaf.shape.dims)
                dt = leaf.dtype.name if hasattr(leaf.dtype, "name") else str(leaf.dtype)
                out.append((path, "tensor", (dt, shape)))
            elif is_variable(leaf):
                out.append((path, "variable", leaf.name))
            else:
                out.append((path, "python", repr(leaf)))
    return out


def _paths(prefix, x):
    if isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            yield from _paths(f"{prefix}[{i}]", v)
    elif isinstance(x, dict):
        for k in sorted(x):
            yield from _paths(f"{prefix}[{k!r}]", x[k])
    else:
        yield prefix, x


def _diff(old, new) -> list[str]:
    if len(old) != len(new) or any(a[0] != b[0] for a, b in zip(old, new)):
        return ["the structure of the arguments changed"]
    out = []
    for (path, kind, what), (_, kind2, what2) in zip(old, new):
        if (kind, what) == (kind2, what2):
            continue
        if kind == kind2 == "tensor":
            (dt, s), (dt2, s2) = what, what2
            if dt != dt2:
                out.append(f"argument {path!r}: dtype {dt} -> {dt2}")
            if s != s2:
                fmt = lambda v: "(" + ", ".join(map(str, v)) + ("," if len(v) == 1 else "") + ")"  # noqa: E731
                out.append(f"argument {path!r}: shape {fmt(s)} -> {fmt(s2)}")
        elif kind == kind2 == "python":
            out.append(f"argument {path!r}: Python value {what} -> {what2}")
        else:
            out.append(f"argument {path!r}: {kind} {what} -> {kind2} {what2}")
    return out


# --------------------------------------------------------------------------------------
# Function
# --------------------------------------------------------------------------------------


class Function:
    """A Python function traced into graphs on demand (what ``rill.function`` returns)."""

    def __init__(
        self,
        python_function,
        input_signature=None,
        autograph=True,
        reduce_retracing=False,
        jit_compile=None,
        name=None,
        autograph_options=None,
    ):
        self._python_function = python_function
        self._autograph_options = autograph_options
        self._autograph = autograph
        self._reduce_retracing = reduce_retracing
        self._jit_compile = jit_compile  # True / "auto": concrete functions run on XLA
        self._input_signature = None if input_signature is None else list(input_signature)
        self._name = name or getattr(python_function, "__name__", "function")
        self._sig = inspect.signature(python_function)
        params = list(self._sig.parameters.values())
        self._fast_n = (
            len(params)
            if all(p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty for p in params)
            else -1
        )
        self._arg_names = [p.name for p in params]
        self._cache: dict = {}
        self._concretes: list = []  # (descriptions, ConcreteFunction), in trace order
        self._trace_count = 0
        self._retrace_warnings = 0  # RetracingWarnings issued, at most RETRACE_WARN_MAX
        self._checking_singletons = False  # in the second trace of a variable-creating call
        self._converted = None
        self._bound = weakref.WeakKeyDictionary()
        self._bound_by_id: dict = {}
        functools.update_wrapper(self, python_function, updated=())

    # binding ---------------------------------------------------------------------------
    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        try:
            bound = self._bound.get(instance)
        except TypeError:  # unhashable or not weak-referenceable instance
            bound = self._bound_by_id.get(id(instance))
        if bound is None:
            bound = Function(
                self._python_function.__get__(instance, owner),
                self._input_signature,
                self._autograph,
                self._reduce_retracing,
                self._jit_compile,
                self._name,
                self._autograph_options,
            )
            try:
                self._bound[instance] = bound
            except TypeError:
                self._bound_by_id[id(instance)] = bound
        return bound

    @property
    def python_function(self):
        return self._python_function

    @property
    def input_signature(self):
        return self._input_signature

    def experimental_get_tracing_count(self) -> int:
        """How many times this function has been traced."""
        return self._trace_count

    def pretty_printed_concrete_signatures(self, verbose=True) -> str:
        """The signatures of every concrete function traced so far, in trace order."""
        return "\n\n".join(cf.pretty_printed_signature(verbose) for _, cf in self._concretes)

    def _callable(self):
        if self._converted is None:
            self._converted = self._python_function
            if self._autograph:
                try:
                    from rill.autograph import convert
                except ImportError:  # AutoGraph not available: trace the function as written
                    convert = None
                if convert is not None:
                    self._converted = convert(
                        self._python_function, optional_features=self._autograph_options
                    )
        return self._converted

    def _canonical(self, args, kwargs) -> list:
        """Arguments in parameter order, defaults applied (*args as one tuple, **kwargs as
        one dict)."""
        if not kwargs and len(args) == self._fast_n:
            return list(args)
        try:
            b = self._sig.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"{self._name}(): {e}") from None
        b.apply_defaults()
        return [b.arguments[name] for name in self._sig.parameters]

    # calling ---------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if _runtime.settings.run_functions_eagerly:  # tf.config.run_functions_eagerly(True)
            return self._python_function(*args, **kwargs)
        # called while tracing another function: inline (a trace always counts in _slow)
        if _dispatch._slow and _dispatch.state.graph is not None:
            return self._callable()(*args, **kwargs)
        if self._input_signature is not None:
            cf, flat = self._signature_call(args, kwargs)
            return cf._call_flat(flat)
        if not kwargs and len(args) == self._fast_n:
            # eager tensors, or tuples of them (Keras' (x, y[, weights])): their key and
            # the graph's inputs need no walk
            found = _eager_key_and_leaves(args)
            if found is not None:
                cf = self._cache.get(found[0])
                if cf is not None:
                    leaves = found[1]
                    fast = cf._fast
                    if fast and not _dispatch._slow and not _collectors:
                        # what _call_flat does here, in one call (None: a host input
                        # the general path makes device-resident)
                        out = fast(leaves)
                        if out is not None:
                            return out
                    return cf._call_flat(leaves)
        values = self._canonical(args, kwargs)
        key = _key(values)
        cf = self._cache.get(key)
        if cf is None:
            cf = self._lookup_or_trace(values, key)
        return cf._call_flat(cf._tensor_leaves(values))

    def _signature_values(self):
        return self._canonical(tuple(self._input_signature), {})

    def _signature_call(self, args, kwargs):
        if kwargs or len(args) != len(self._input_signature):
            try:
                values = list(self._sig.bind(*args, **kwargs).args)[: len(self._input_signature)]
            except TypeError as e:
                raise TypeError(f"{self._name}(): {e}") from None
        else:
            values = list(args)
        flat_specs = nest.flatten(self._input_signature)
        try:  # each spec takes the whole value at its place (a nested list is one tensor)
            flat_vals = nest.flatten_up_to(list(self._input_signature), values)
        except (ValueError, TypeError):
            raise TypeError(
                f"{self._name}(): the arguments {values!r} do not match input_signature "
                f"{self._input_signature}."
            ) from None
        tensors = []
        for i, (spec, v) in enumerate(zip(flat_specs, flat_vals)):
            if _is_composite_spec(spec):
                if not (_is_composite(v) and spec._rill_is_compatible(v)):
                    raise TypeError(
                        f"{self._name}(): argument #{i} ({type(v).__name__}) does not match "
                        f"input_signature {spec!r}."
                    )
                tensors.extend(v._rill_components())
                continue
            if is_variable(v):
                t = v.read_value()
            elif isinstance(v, Tensor):
                t = v
            else:  # Python and NumPy values become tensors of the signature's dtype, as in TF
                t = _signature_tensor(v, spec)
            if t.dtype is not spec.dtype or not spec.shape.is_compatible_with(t.shape):
                name = self._arg_names[i] if i < len(self._arg_names) else f"#{i}"
                raise TypeError(
                    f"{self._name}(): argument {name!r} is a {t.dtype.name} tensor of shape "
                    f"{t.shape}, which does not match input_signature "
                    f"{spec!r}. Pass a matching tensor, or drop input_signature to trace a "
                    f"graph for each new shape."
                )
            tensors.append(t)
        if not self._concretes:
            self._trace(self._signature_values(), None, feeds=tensors)
        return self._concretes[0][1], tensors

    def _lookup_or_trace(self, values, key):
        # Under XLA shapes are static per concrete function: a new shape gets its own
        # trace instead of a relaxed graph that JAX would recompile per call anyway.
        relax = self._reduce_retracing and not _jit_mode(self._jit_compile)
        if relax and self._concretes:
            for _, cf in self._concretes:
                if cf._accepts(values):
                    self._cache[key] = cf
                    return cf
            return self._trace(self._relaxed(values), key, actual=values)
        return self._trace(values, key, feeds=_tensor_leaves(values))

    def _relaxed(self, values):
        """Specs for ``values`` generalised against earlier traces of the same structure:
        dimensions that differ become None (TF's reduce_retracing)."""
        specs = nest.map_structure(lambda v: _spec_of(v) if _is_tensor_leaf(v) else v, values)
        for _, cf in self._concretes:
            prev = cf._arg_template
            try:
                nest.assert_same_structure(prev, specs, check_types=False)
            except (ValueError, TypeError):
                continue

            def merge(p, s):
                if isinstance(p, TensorSpec) and isinstance(s, TensorSpec) and p.dtype is s.dtype:
                    if p.shape.rank == s.shape.rank:
                        return TensorSpec(p.shape.most_specific_compatible_shape(s.shape), s.dtype)
                    return TensorSpec(TensorShape(None), s.dtype)
                return s

            specs = nest.map_structure(merge, prev, specs, check_types=False)
        return specs

    def get_concrete_function(self, *args, **kwargs) -> ConcreteFunction:
        """The concrete function for these arguments (tensors, TensorSpecs or Python values)."""
        if self._input_signature is not None and not args and not kwargs:
            if not self._concretes:
                self._trace(self._signature_values(), None)
            return self._concretes[0][1]
        values = self._canonical(args, kwargs)
        key = _key(values)
        cf = self._cache.get(key)
        if cf is None:
            for _, c in self._concretes:
                if c._arg_key == key:
                    return c
            cf = self._trace(values, key)
        return cf

    # tracing ---------------------------------------------------------------------------
    def _trace(self, values, key, actual=None, feeds=None):
        def call(*traced_args):
            pos, kw = self._split(traced_args)
            result = self._callable()(*pos, **kw)
            # a returned variable is read in the graph: each call returns its current value
            return nest.map_structure(lambda v: v.read_value() if is_variable(v) else v, result)

        if actual is not None:
            feeds = _tensor_leaves(actual)
        # feeds: the call that triggered this trace, so that a variable created on the first
        # call may take an initial value computed from the arguments, as in TF
        graph, result = trace_abstract(
            call, values, name=self._name, spec_of=_input_spec, feeds=feeds
        )
        if graph.created_variables and (self._trace_count > 0 or self._checking_singletons):
            raise ValueError(
                f"tf.function only supports singleton tf.Variables created on the first call: "
                f"rill.function {self._name!r} created "
                f"{[v.name for v in graph.created_variables]} again when traced a second "
                f"time. Create the variables once (e.g. in __init__ or guarded by "
                f"`if self.v is None`) or outside the function."
            )
        if graph.created_variables:
            # As TF does: a first trace that created variables is traced once more, and
            # the graph that only reads them is kept; creating them again is the error above.
            self._checking_singletons = True
            try:
                return self._trace(values, key, actual, feeds)
            finally:
                self._checking_singletons = False
        cf = ConcreteFunction._from_trace(graph, values, result, self._name)
        cf._jit_compile = _jit_mode(self._jit_compile)
        cf._arg_names = list(self._sig.parameters)
        cf._arg_kinds = [p.kind.name for p in self._sig.parameters.values()]
        self._trace_count += 1
        descr = _describe_leaves(self._arg_names, actual if actual is not None else values)
        self._warn_if_retracing(descr)
        self._concretes.append((descr, cf))
        if key is not None:
            self._cache[key] = cf
        return cf

    def _split(self, values):
        pos, kw = [], {}
        for v, (name, p) in zip(values, self._sig.parameters.items()):
            if p.kind is p.VAR_POSITIONAL:
                pos.extend(v)
            elif p.kind is p.VAR_KEYWORD:
                kw.update(v)
            elif p.kind is p.KEYWORD_ONLY:
                kw[name] = v
            else:
                pos.append(v)
        return pos, kw

    def _warn_if_retracing(self, descr):
        if self._trace_count <= RETRACE_WARN_AFTER or not self._concretes:
            return
        warned = self._retrace_warnings
        if warned >= RETRACE_WARN_MAX:
            return  # said twice already: more would be noise (and the diff costs O(traces))
        self._retrace_warnings = warned + 1
        last = (
            " Further retracing warnings for this function are silenced."
            if warned + 1 == RETRACE_WARN_MAX
            else ""
        )
        # the closest earlier trace, the most recent among equally close ones
        best = min((_diff(d, descr) for d, _ in reversed(self._concretes)), key=len)
        why = "; ".join(best) if best else "the arguments differ from every earlier trace"
        warnings.warn(
            f"rill.function {self._name!r} has been traced {self._trace_count} times; each "
            f"trace builds and compiles a new graph. This one was caused by {why}. To avoid "
            f"it, pass tensors instead of Python numbers that change, give the function an "
            f"input_signature with None for dimensions that vary, or use "
            f"reduce_retracing=True.{last}",
            RetracingWarning,
            stacklevel=3,
        )

    def __repr__(self):
        return f"<rill.function {self._name} (traced {self._trace_count} times)>"


def _jit_mode(jit_compile):
    """True (must compile), "auto" (compile where the graph lowers) or None (executor)."""
    if jit_compile is True or jit_compile == "auto":
        return jit_compile
    return None


def _tensor_leaves(values) -> list:
    """The tensors a call feeds to a graph: tensor arguments and composites' components."""
    return [
        v
        for v in nest.flatten(values, expand_composites=True)
        if isinstance(v, (Tensor, np.ndarray))
    ]


def _input_spec(v):
    """What a traced argument leaf stands for: a composite (or composite spec) itself, a
    tensor, array or TensorSpec its TensorSpec; None for a Python value."""
    if _is_composite(v) or _is_composite_spec(v):
        return v
    return _spec_of(v) if _is_tensor_leaf(v) else None


def _spec_of(v) -> TensorSpec:
    if isinstance(v, TensorSpec):
        return v
    if isinstance(v, np.ndarray):
        return TensorSpec(v.shape, _d.string if v.dtype.kind in "OSU" else _d.from_numpy(v.dtype))
    return TensorSpec(v.shape, v.dtype)


# --------------------------------------------------------------------------------------
# ConcreteFunction
# --------------------------------------------------------------------------------------


class ConcreteFunction:
    """One traced graph of a ``Function``, callable with tensors."""

    def __init__(self, graph, arg_template, arg_key, outputs_template, out_index, name):
        self.graph = graph
        self._arg_template = arg_template  # args with TensorSpecs for tensor leaves
        self._arg_key = arg_key
        self._outputs_template = outputs_template  # output structure, leaves: index or value
        self._out_index = out_index
        self.name = name
        self._plan = None
        self._arg_names = None
        self._arg_kinds = None
        self._jit_compile = None  # set by Function: True, "auto" or None (see _jit_mode)
        self._single_output = None  # whether _pack's result is its one tensor (found once)
        self._dict_outputs = None  # for a flat dict of tensors, _pack's (key, index) pairs
        # the plan's one-callable path for eager tensors (``Plan.fast_call``), found after
        # the first call: None until then, False where the plan has none
        self._fast = None

    @classmethod
    def _from_trace(cls, graph, values, result, name):
        template = nest.map_structure(lambda v: _spec_of(v) if _is_tensor_leaf(v) else v, values)
        flat = nest.flatten(result, expand_composites=True)
        outputs, leaves = [], []
        for leaf in flat:
            if is_variable(leaf):
                leaf = leaf.read_value()
            if leaf is not None and not isinstance(leaf, Tensor):
                # TF returns every value a function returns as a tensor (None stays None)
                leaf = _output_tensor(leaf, name)
            if isinstance(leaf, Tensor):
                t = _named_output(graph, graph.capture(leaf))
                leaves.append(("t", len(outputs)))
                outputs.append(t)
            else:
                leaves.append(("v", leaf))
        graph.outputs = outputs
        graph.structured_outputs = result
        cf = cls(graph, template, _key(values), result, leaves, name)
        return cf

    # signature -------------------------------------------------------------------------
    @property
    def inputs(self) -> list:
        return list(self.graph.inputs)

    @property
    def outputs(self) -> list:
        return list(self.graph.outputs)

    @property
    def variables(self) -> list:
        return list(self.graph.variables)

    @property
    def trainable_variables(self) -> list:
        return [v for v in self.graph.variables if v.trainable]

    @property
    def structured_input_signature(self):
        return (tuple(self._arg_template), {})

    @property
    def structured_outputs(self):
        return nest.pack_sequence_as(
            self._outputs_template,
            [self.graph.outputs[i] if k == "t" else i for k, i in self._out_index],
            expand_composites=True,
        )

    def pretty_printed_signature(self, verbose=True) -> str:
        """The signature in TF 2.21's layout: parameters, output type, captures."""
        names = self._arg_names or _names(self._arg_template)
        kinds = self._arg_kinds or ["POSITIONAL_OR_KEYWORD"] * len(names)
        lines = ["Input Parameters:"]
        for name, kind, a in zip(names, kinds, self._arg_template):
            lines.append(f"  {name} ({kind}): {_type_repr(a)}")
        lines += ["Output Type:", f"  {_type_repr(self.structured_outputs)}", "Captures:"]
        caps = [
            f"  {v.name}: {_type_repr(TensorSpec(v.shape, v.dtype))}" for v in self.graph.variables
        ]
        lines += caps or ["  None"]
        return "\n".join(lines)

    def __repr__(self):
        return f"<rill.ConcreteFunction {self.pretty_printed_signature()}>"

    # introspection ---------------------------------------------------------------------
    @property
    def function_type(self):
        """Parameters annotated with their types (TensorSpec, Literal[...]) and the output
        type: a ``tf.types.experimental.FunctionType``."""
        import inspect as _inspect

        from rill.types.experimental import FunctionType

        names = self._arg_names or _names(self._arg_template)
        kinds = self._arg_kinds or ["POSITIONAL_OR_KEYWORD"] * len(names)
        params = [
            _inspect.Parameter(n, getattr(_inspect.Parameter, k), annotation=_type_repr(a))
            for n, k, a in zip(names, kinds, self._arg_template)
        ]
        return FunctionType(params, return_annotation=_type_repr(self.structured_outputs))

    @property
    def function_def(self):
        """This function as TF's ``FunctionDef`` protocol buffer (needs ``rill[proto]``):
        an input argument per placeholder (a ``DT_RESOURCE`` one per variable), a node per
        op as TensorFlow would run it, and a return per output."""
        from rill.saved_model.exporter import LibraryBuilder

        lib = LibraryBuilder()
        fn = lib.add(self.graph, lib.fresh_name(self.name), list(self.graph.outputs))
        fdef = fn.fdef
        # the graph already ends in one Identity per output (as TF's does): return those
        # instead of the second Identity the exporter adds
        nodes = {n.name: n for n in fdef.node_def}
        drop = set()
        for key, ref in list(fdef.ret.items()):
            node = nodes.get(ref.split(":")[0])
            if node is None or node.op != "Identity" or len(node.input) != 1:
                continue
            inner = nodes.get(node.input[0].split(":")[0])
            if inner is not None and inner.op == "Identity":
                fdef.ret[key] = node.input[0]
                drop.add(node.name)
        kept = [n for n in fdef.node_def if n.name not in drop]
        del fdef.node_def[:]
        fdef.node_def.extend(kept)
        return fdef

    # calling ---------------------------------------------------------------------------
    def _tensor_leaves(self, values) -> list:
        return [
            v if isinstance(v, Tensor) else convert_to_tensor(v) for v in _tensor_leaves(values)
        ]

    def _accepts(self, values) -> bool:
        try:
            nest.assert_same_structure(self._arg_template, values, check_types=False)
        except (ValueError, TypeError):
            return False
        for spec, v in zip(nest.flatten(self._arg_template), nest.flatten(values)):
            if isinstance(spec, TensorSpec):
                if not _is_tensor_leaf(v):
                    return False
                s = _spec_of(v)
                if s.dtype is not spec.dtype or not spec.shape.is_compatible_with(s.shape):
                    return False
            elif _leaf_key(spec) != _leaf_key(v):
                return False
        return True

    def __call__(self, *args, **kwargs):
        flat = nest.flatten(list(args) + [kwargs[k] for k in sorted(kwargs)])
        # Python values were fixed when tracing; the graph takes the tensors
        tensors = [
            a.read_value() if is_variable(a) else convert_to_tensor(a)
            for a in flat
            if _is_tensor_leaf(a) or is_variable(a)
        ]
        specs = [s for s in nest.flatten(self._arg_template) if isinstance(s, TensorSpec)]
        if len(tensors) != len(specs):
            raise TypeError(
                f"{self.name}: expected {len(specs)} tensor arguments {specs}, got {len(tensors)}."
            )
        for i, (t, s) in enumerate(zip(tensors, specs)):
            if t.dtype is not s.dtype or not s.shape.is_compatible_with(t.shape):
                raise TypeError(
                    f"{self.name}: argument #{i} is a {t.dtype.name} tensor of shape {t.shape}, "
                    f"incompatible with the traced signature {s!r}."
                )
        return self._call_flat(tensors)

    def _call_flat(self, tensors):
        if _collectors:
            _collect(self.graph)
        if _dispatch._slow:
            st = _dispatch.state
            if st.graph is not None or (st.tapes and not st.stop_recording):
                # inside another trace, or under a recording tape: run the ops one by one
                # through the dispatcher, so they are traced or differentiated
                return self._pack(replay(self.graph, tensors))
        plan = self._plan
        if plan is None:
            plan = self._plan = self._compile()
        out = plan.call_tensors(tensors, self.graph.outputs)
        if self._single_output:
            if self._fast is None:
                self._fast = plan.fast_call(self.graph.outputs[0]._dtype) or False
            return out[0]
        return self._pack(out)

    def _find_packing(self) -> bool:
        """Find once how ``_pack`` rebuilds the outputs: as the one tensor itself, or from
        the pairs of a flat dict of tensors, or through nest. Returns the first answer."""
        t = self._outputs_template
        self._single_output = (
            list(self._out_index) == [("t", 0)]
            and not nest.is_nested(t)
            and not nest._is_composite(t)
        )
        self._dict_outputs = _flat_dict_pairs(t, self._out_index)
        return self._single_output

    def _compile(self):
        plan = compile_graph(self.graph)
        if self._jit_compile is None:
            return plan
        from rill.xla.jit import jit_plan

        return jit_plan(self.graph, plan, self._jit_compile, self.name)

    def _pack(self, tensors):
        single = self._single_output
        if single is None:
            single = self._find_packing()
        if single:
            return tensors[0]
        pairs = self._dict_outputs
        if pairs:  # a flat dict of tensors (Keras' logs): built without nest's walk
            return {k: tensors[i] for k, i in pairs}
        flat = [tensors[i] if k == "t" else i for k, i in self._out_index]
        return nest.pack_sequence_as(self._outputs_template, flat, expand_composites=True)


def _flat_dict_pairs(template, out_index):
    """``(key, tensor index)`` in ``template``'s key order where the outputs are a plain
    dict of tensors only (nest orders a dict's leaves by sorted key); else False."""
    if (
        type(template) is not dict
        or len(template) != len(out_index)
        or any(k != "t" for k, _ in out_index)
        or any(nest.is_nested(v) or nest._is_composite(v) for v in template.values())
    ):
        return False
    position = {k: p for p, k in enumerate(sorted(template))}
    return [(k, out_index[position[k]][1]) for k in template]


def _named_output(graph, t):
    """An ``Identity`` of an output, as TF ends a function's graph (``"Identity:0"``,
    ``"Identity_1:0"``...); the executor removes it."""
    from rill.core.dispatch import AVal
    from rill.ops.array_ops import identity_p

    aval = AVal(t.shape, t.dtype, t._const)
    return graph.add_op(identity_p, [t], {}, aval, name="Identity").outputs[0]


def _names(template):
    return [f"arg{i}" for i in range(len(template))]


def _type_repr(x) -> str:
    """A value's type in TF's notation: TensorSpec(...), Literal[...], Tuple[...], ..."""
    if isinstance(x, (TensorSpec, Tensor)):
        return repr(x if isinstance(x, TensorSpec) else TensorSpec(x.shape, x.dtype))
    if isinstance(x, tuple):
        return f"Tuple[{', '.join(_type_repr(v) for v in x)}]"
    if isinstance(x, list):
        return f"List[{', '.join(_type_repr(v) for v in x)}]"
    if isinstance(x, dict):
        return "Dict[" + ", ".join(f"[{k!r}, {_type_repr(v)}]" for k, v in x.items()) + "]"
    if x is None:
        return "None"
    return f"Literal[{x!r}]"


def function(
    func=None,
    input_signature=None,
    autograph=True,
    jit_compile=None,
    reduce_retracing=False,
    experimental_implements=None,
    experimental_autograph_options=None,
    experimental_attributes=None,
    experimental_relax_shapes=None,
    experimental_compile=None,
    experimental_follow_type_hints=None,
):
    """Compile a Python function into graphs (``tf.function``), as decorator or call."""
    if experimental_relax_shapes is not None:
        reduce_retracing = reduce_retracing or experimental_relax_shapes

    def decorate(f):
        if isinstance(f, Function):
            f = f.python_function
        return Function(
            f,
            input_signature,
            autograph,
            reduce_retracing,
            jit_compile,
            autograph_options=experimental_autograph_options,
        )

    if func is None:
        return decorate
    return decorate(func)
