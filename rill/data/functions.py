"""User functions of tf.data transformations (``map``, ``filter``, ``scan``...).

A function whose inputs are tensors is traced once with ``rill.function`` (so its Python
side effects run once, as in TF) and then runs per element as the compiled plan of its
graph: NumPy leaves in, NumPy leaves out, no tensor wrapping on the way. A function that
receives or returns datasets (``flat_map``, ``interleave``, windows) cannot be a graph: it
is *probed* once with symbolic inputs to learn its result's structure and then called per
element eagerly.
"""

from __future__ import annotations

from rill.core import dispatch as _dispatch
from rill.core.tensor import Tensor, TensorSpec, wrap
from rill.data import structure as _s

__all__ = ["StructuredFunction", "probe"]


def _convert(func):
    try:
        from rill.autograph import convert
    except ImportError:  # pragma: no cover - AutoGraph is part of rill
        return func
    return convert(func)


def _is_composite_spec(x) -> bool:
    return hasattr(x, "_rill_component_specs")


def _call(func, element, unpack):
    return func(*element) if unpack else func(element)


def _normalize_result(ret):
    """A function's result as tf.data takes it: a top-level list becomes a tuple, other
    lists and Python values become tensors."""
    from rill.core.convert import convert_to_tensor

    if isinstance(ret, list):
        ret = tuple(ret)

    def conv(x):
        if hasattr(x, "_rill_components") or _s._is_dataset(x) or isinstance(x, Tensor):
            return x
        if getattr(x, "_rill_variable", False):
            return x.read_value()
        if x is None:
            raise TypeError(
                "tf.data functions must return tensors (or structures of them), not None."
            )
        return convert_to_tensor(x)

    return _s.map_structure(conv, ret)


def _symbolic_leaf(x):
    """An argument leaf of a probe: placeholders (and composites of them) as they are, a
    symbolic dataset for a DatasetSpec."""
    if isinstance(x, Tensor) or hasattr(x, "_rill_components"):
        return x
    from rill.data.dataset_ops import DatasetSpec, _Dataset

    if isinstance(x, DatasetSpec):
        return _Dataset(None, x.element_spec, -2, symbolic=True)
    raise TypeError(f"tf.data: unsupported element spec {x!r}")


def probe(func, element_spec, unpack=None, extra_specs=()):
    """Call ``func`` once on symbolic inputs of ``element_spec`` (inside a throwaway
    trace) and return its normalised result, to learn its structure and specs."""
    from rill.tracing.abstract import trace_abstract

    if unpack is None:
        unpack = type(element_spec) is tuple
    extra_leaves = [_s.flatten(sp) for sp in extra_specs]
    specs = [x for leaves in extra_leaves for x in leaves] + _s.flatten(element_spec)

    def call(*leaves):
        leaves = [_symbolic_leaf(x) for x in leaves]
        args, i = [], 0
        for sp, sp_leaves in zip(extra_specs, extra_leaves):
            args.append(_s.pack(sp, leaves[i : i + len(sp_leaves)]))
            i += len(sp_leaves)
        element = _s.pack(element_spec, leaves[i:])
        args += list(element) if unpack else [element]
        return _normalize_result(func(*args))

    # TensorSpecs and composite specs become placeholders; DatasetSpecs pass to `call`
    _, result = trace_abstract(call, specs, name=getattr(func, "__name__", "fn"))
    return result


def _debug_mode() -> bool:
    """Whether tf.data.experimental.enable_debug_mode() asked for eager user functions."""
    import sys

    extra = sys.modules.get("rill.data.experimental_extra")
    return bool(extra is not None and extra.DEBUG_MODE)


class StructuredFunction:
    """``func`` over dataset elements of ``input_spec``.

    ``self.output_spec`` is its result's spec structure; ``self(*leaves)`` maps one
    element's leaves to the result's leaves (a tuple). ``extra_specs`` are leading
    arguments that are not elements (a ``scan``/``reduce`` state).
    """

    def __init__(self, func, input_spec, name="map", extra_specs=(), unpack=None):
        if not callable(func):
            raise TypeError(f"tf.data: `{name}` expects a callable, got {func!r}.")
        self.func = func
        self.name = name
        self.input_spec = input_spec
        self.extra_specs = tuple(extra_specs)
        self.unpack = type(input_spec) is tuple if unpack is None else unpack
        all_specs = [x for sp in self.extra_specs for x in _s.flatten(sp)] + _s.flatten(input_spec)
        self.traced = not _debug_mode() and all(
            type(x) is TensorSpec or _is_composite_spec(x) for x in all_specs
        )
        if self.traced:
            try:
                self._trace()
            except _NeedsEager:
                self.traced = False
        if not self.traced:
            self._setup_eager()

    # traced --------------------------------------------------------------------------
    def _trace(self):
        from rill.tracing.executor import compile_graph
        from rill.tracing.polymorphic import Function

        f = _convert(self.func)
        unpack, n_extra = self.unpack, len(self.extra_specs)

        def fn(*args):
            extra, element = args[:n_extra], args[n_extra:]
            if not unpack:
                element = element[0]
                ret = f(*extra, element)
            else:
                ret = f(*extra, *element)
            ret = _normalize_result(ret)
            if any(_s._is_dataset(x) for x in _s.flatten(ret)):
                raise _NeedsEager
            return ret

        fn.__name__ = getattr(self.func, "__name__", self.name)
        args = list(self.extra_specs)
        args += list(self.input_spec) if self.unpack else [self.input_spec]
        function = Function(fn, autograph=False, name=fn.__name__)
        if _dispatch.state.graph is not None:
            # built while another function is traced: trace in a clean context
            st = _dispatch.state
            saved = st.graph
            st.graph = None
            try:
                cf = function.get_concrete_function(*args)
            finally:
                st.graph = saved
        else:
            cf = function.get_concrete_function(*args)
        self.concrete_function = cf
        result = cf._outputs_template
        self.output_spec = _s.map_structure(_s.spec_of, result)
        out_specs = _s.flatten(self.output_spec)
        in_specs = [x for sp in self.extra_specs for x in _s.flatten(sp)] + _s.flatten(
            self.input_spec
        )
        plan = compile_graph(cf.graph)
        self._plan = plan
        in_dense = all(type(x) is TensorSpec for x in in_specs)
        out_dense = all(type(x) is TensorSpec for x in out_specs)
        if in_dense and out_dense:
            self.call = plan
            return

        def call(*leaves):
            arrays = []
            for leaf, sp in zip(leaves, in_specs):
                if type(sp) is TensorSpec:
                    arrays.append(leaf)
                else:
                    arrays.extend(c._value for c in _as_tensors(leaf._rill_components()))
            outs = iter(plan(*arrays))
            res = []
            for sp in out_specs:
                if type(sp) is TensorSpec:
                    res.append(next(outs))
                else:
                    comps = [wrap(next(outs), c.dtype) for c in sp._rill_component_specs()]
                    res.append(sp._rill_from_components(comps))
            return tuple(res)

        self.call = call

    # eager ---------------------------------------------------------------------------
    def _setup_eager(self):
        result = probe(self.func, self.input_spec, self.unpack, self.extra_specs)
        self.output_spec = _s.map_structure(_s.spec_of, result)
        in_specs = [x for sp in self.extra_specs for x in _s.flatten(sp)] + _s.flatten(
            self.input_spec
        )
        func, unpack, extra_specs, input_spec = (
            self.func,
            self.unpack,
            self.extra_specs,
            self.input_spec,
        )
        out_specs = _s.flatten(self.output_spec)

        def call(*leaves):
            values = [_s.from_leaf(a, sp) for a, sp in zip(leaves, in_specs)]
            args, i = [], 0
            for sp in extra_specs:
                n = len(_s.flatten(sp))
                args.append(_s.pack(sp, values[i : i + n]))
                i += n
            element = _s.pack(input_spec, values[i:])
            args += list(element) if unpack else [element]
            ret = _normalize_result(func(*args))
            flat = _s.flatten(ret)
            if len(flat) != len(out_specs):
                raise TypeError(
                    f"tf.data: the function passed to {self.name} returned a different "
                    f"structure per element ({ret!r}); expected {self.output_spec!r}."
                )
            return tuple(_s.to_leaf(x) for x in flat)

        self.call = call

    def __call__(self, *leaves):
        return self.call(*leaves)


def _as_tensors(xs):
    from rill.core.convert import convert_to_tensor

    return [x if isinstance(x, Tensor) else convert_to_tensor(x) for x in xs]


class _NeedsEager(Exception):
    """The function returns datasets: it cannot run as a graph."""
