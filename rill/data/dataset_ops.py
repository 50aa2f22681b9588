"""``tf.data.Dataset``: sources, transformations and iteration.

A dataset is a recipe: its ``element_spec``, its cardinality, and a way to start a fresh
Python iterator over its elements. Inside the pipeline an element is a flat tuple of
*leaves* (NumPy arrays for tensors, see ``rill.data.structure``), so a transformation is a
few lines over Python iterators: ``map`` runs the compiled plan of its traced function on
the leaves, ``batch`` stacks them with NumPy, ``prefetch`` fills a bounded queue from a
background thread. Leaves become rill tensors only when an element leaves the pipeline.
"""

from __future__ import annotations

import collections
import itertools
import os
import queue
import random as _pyrandom
import threading
import warnings
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from rill.core import dtypes as _d
from rill.core import runtime as _runtime
from rill.core.errors import InvalidArgumentError, OutOfRangeError, op_error
from rill.core.tensor import EagerTensor, Tensor, TensorSpec, wrap
from rill.core.tensor_shape import TensorShape
from rill.core.type_spec import TypeSpec
from rill.data import structure as _s
from rill.data.functions import StructuredFunction
from rill.data.options import Options
from rill.ops._op import tf_export

__all__ = ["Dataset", "DatasetV2", "DatasetSpec", "AUTOTUNE", "INFINITE", "UNKNOWN"]

AUTOTUNE = -1
INFINITE = -1
UNKNOWN = -2
tf_export("data.AUTOTUNE", "data.experimental.AUTOTUNE")(AUTOTUNE)
tf_export("data.INFINITE_CARDINALITY", "data.experimental.INFINITE_CARDINALITY")(INFINITE)
tf_export("data.UNKNOWN_CARDINALITY", "data.experimental.UNKNOWN_CARDINALITY")(UNKNOWN)

_CHUNK = 1 << 14


def default_parallelism(options=None) -> int:
    """Workers behind ``AUTOTUNE``: the thread bound if there is one (``thread_bound``),
    else enough threads to overlap I/O-bound Python work (functions mostly wait)."""
    bound = thread_bound(options)
    if bound is not None:
        return max(bound, 1)
    return max(16, 4 * (os.cpu_count() or 1))


def thread_bound(options=None):
    """The most threads a pipeline stage (parallel map, parallel interleave) may run at
    once: the dataset's private thread pool size if set, else
    ``tf.config.threading.set_inter_op_parallelism_threads``'s value (0 below: a negative
    one runs everything in the caller's thread, as in TF), else None (no bound)."""
    if options is not None:
        n = options.threading.private_threadpool_size
        if n:
            return int(n)
    n = _runtime.settings.inter_op_threads
    if n:
        return max(n, 0)
    return None


# --------------------------------------------------------------------------------------
# DatasetSpec
# --------------------------------------------------------------------------------------


@tf_export("data.DatasetSpec")
class DatasetSpec(TypeSpec):
    """The spec of a dataset-valued element (windows, datasets of datasets)."""

    def __init__(self, element_spec, dataset_shape=()):
        self.element_spec = element_spec
        self._dataset_shape = TensorShape(dataset_shape)

    def _serialize(self) -> tuple:
        return (self.element_spec, self._dataset_shape)

    @property
    def value_type(self):
        return DatasetV2

    @staticmethod
    def from_value(value):
        return DatasetSpec(value.element_spec)

    def is_compatible_with(self, other) -> bool:
        return isinstance(other, DatasetSpec) and _specs_equal(
            self.element_spec, other.element_spec
        )

    def most_specific_compatible_type(self, other):
        if not isinstance(other, DatasetSpec):
            raise ValueError(f"No TypeSpec is compatible with both {self} and {other}")
        return DatasetSpec(_compatible_structure(self.element_spec, other.element_spec))

    def __eq__(self, other):
        return (
            isinstance(other, DatasetSpec)
            and self._dataset_shape == other._dataset_shape
            and _specs_equal(self.element_spec, other.element_spec)
        )

    def __hash__(self):
        return hash(("DatasetSpec", repr(self.element_spec)))

    def __repr__(self):
        return f"DatasetSpec({self.element_spec!r}, {self._dataset_shape!r})"


def _specs_equal(a, b) -> bool:
    try:
        fa, fb = _s.flatten(a), _s.flatten(b)
        return _same_structure(a, b) and all(x == y for x, y in zip(fa, fb))
    except (ValueError, TypeError):
        return False


def _same_structure(a, b) -> bool:
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and sorted(a) == sorted(b)
            and all(_same_structure(a[k], b[k]) for k in a)
        )
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (
            isinstance(a, tuple)
            and isinstance(b, tuple)
            and len(a) == len(b)
            and all(_same_structure(x, y) for x, y in zip(a, b))
        )
    return True


def _compatible_structure(a, b):
    """The most specific element_spec compatible with both, or TypeError (TF's message)."""
    if _same_structure(a, b):
        out = []
        for x, y in zip(_s.flatten(a), _s.flatten(b)):
            c = _s.compatible_spec(x, y)
            if c is None:
                break
            out.append(c)
        else:
            return _s.pack(a, out)
    raise TypeError(f"Incompatible dataset elements:\n  {a!r} vs.   {b!r}")


# --------------------------------------------------------------------------------------
# Dataset
# --------------------------------------------------------------------------------------


def _card_of(ds) -> int:
    return ds._card


class _SymbolicArg(Exception):
    """An argument is a tensor whose value is unknown while tracing."""


def _int(x, what="argument") -> int:
    if isinstance(x, Tensor):
        from rill.ops._op import static_value

        v = static_value(x)
        if v is None:
            raise _SymbolicArg(what)
        return int(v)
    return int(x)


def _symbolic_ok(spec_fn=None):
    """A transformation whose integer arguments may be symbolic (a dataset built while a
    function is probed or traced): it then gives a symbolic dataset with the right spec."""

    def deco(method):
        import functools

        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except _SymbolicArg:
                spec = self.element_spec if spec_fn is None else spec_fn(self)
                return DatasetV2(None, spec, UNKNOWN, inputs=[self], symbolic=True)

        return wrapper

    return deco


def _batched_spec(ds):
    return _s.map_structure(lambda sp: _s.batch_spec(sp, None), ds.element_spec)


@tf_export("data.Dataset")
class DatasetV2:
    """A (possibly infinite) sequence of elements, each a nested structure of tensors."""

    _rill_dataset = True
    _rill_dispatch = False

    def __init__(self, gen, element_spec, card=UNKNOWN, inputs=(), symbolic=False, kind=None):
        self._gen = gen  # zero-argument callable -> iterator of leaf tuples
        self._element_spec = element_spec
        self._leaf_specs = _s.flatten(element_spec)
        self._card = card
        self._inputs = tuple(inputs)
        self._options_obj = None
        self._symbolic = symbolic or any(d._symbolic for d in self._inputs)
        self._kind = kind or "_Dataset"
        self._packer = None

    # introspection -----------------------------------------------------------------
    @property
    def element_spec(self):
        """The structure of TensorSpecs (and composite/Dataset specs) of one element."""
        return self._element_spec

    def __repr__(self):
        return f"<{self._kind} element_spec={self._element_spec!r}>"

    def __bool__(self):
        return True

    def __len__(self):
        n = self._card
        if n == INFINITE:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN:
            raise TypeError("The dataset length is unknown.")
        return n

    def cardinality(self):
        """Number of elements as an int64 scalar tensor; INFINITE_CARDINALITY (-1) or
        UNKNOWN_CARDINALITY (-2) when not a finite known count."""
        return wrap(np.asarray(self._card, np.int64), _d.int64)

    def options(self) -> Options:
        """The options of this pipeline (inputs' options merged, this dataset's last)."""
        out = Options()
        for d in self._inputs:
            out = out.merge(d.options())
        if self._options_obj is not None:
            out = out.merge(self._options_obj)
        return out

    def with_options(self, options, name=None):
        ds = self._derive(self._gen, self._element_spec, self._card, kind="_OptionsDataset")
        ds._options_obj = options
        return ds

    def _derive(self, gen, spec, card, kind):
        return DatasetV2(gen, spec, card, inputs=[self], kind=kind)

    # iteration ---------------------------------------------------------------------
    def _iter(self, ctx=None):
        """A fresh iterator of leaf tuples. ``ctx`` carries the options of the pipeline
        being iterated (the outermost dataset's), passed down to every input."""
        if self._symbolic:
            raise NotImplementedError(
                "tf.data: this dataset was built from tensors of a rill.function being "
                "traced and cannot be iterated while tracing; build it from eager values."
            )
        if ctx is None:
            ctx = _Context(self.options())
        return iter(self._gen(ctx))

    def _pack(self):
        if self._packer is None:
            self._packer = _s.make_packer(self._element_spec)
        return self._packer

    def __iter__(self):
        return OwnedIterator(self)

    def as_numpy_iterator(self):
        """Iterate over elements as NumPy values (0-d tensors as NumPy scalars, strings as
        bytes)."""
        for spec in self._leaf_specs:
            if isinstance(spec, DatasetSpec):
                raise TypeError(
                    f"Dataset.as_numpy_iterator() is not supported for datasets that produce "
                    f"values of type {DatasetV2}"
                )
        return _NumpyIterator(self)

    def __rill_for_stmt__(self, extra_test, body, get_state, set_state, symbol_names, opts):
        from rill.data.iterator_ops import dataset_for_stmt

        return dataset_for_stmt(self, extra_test, body, get_state, set_state, symbol_names, opts)

    def get_single_element(self, name=None):
        """The only element of a one-element dataset."""
        it = self._iter()
        try:
            first = next(it)
        except StopIteration:
            raise op_error(
                InvalidArgumentError, "DatasetToSingleElement", "Dataset was empty."
            ) from None
        if next(it, None) is not None:
            raise op_error(
                InvalidArgumentError,
                "DatasetToSingleElement",
                "Dataset had more than one element.",
            )
        return self._pack()(first)

    # sources -------------------------------------------------------------------------
    @staticmethod
    def from_tensors(tensors, name=None) -> DatasetV2:
        """A dataset with one element, ``tensors``."""
        value = _s.normalize(tensors)
        spec = _s.map_structure(_s.spec_of, value)
        leaves = tuple(_s.to_leaf(x) for x in _s.flatten(value))
        symbolic = any(isinstance(x, Tensor) and type(x) is not EagerTensor for x in leaves)
        return DatasetV2(
            lambda ctx: iter((leaves,)), spec, 1, symbolic=symbolic, kind="_TensorDataset"
        )

    @staticmethod
    def from_tensor_slices(tensors, name=None) -> DatasetV2:
        """A dataset of the slices of ``tensors`` along their first dimension."""
        value = _s.normalize(tensors)
        flat = _s.flatten(value)
        n = None
        specs = []
        for x in flat:
            if isinstance(x, Tensor):
                shape = x.shape
                if shape.rank == 0:
                    raise ValueError("Unbatching a tensor is only supported for rank >= 1")
                d0 = shape[0] if shape.rank is not None else None
                specs.append(TensorSpec(shape[1:] if shape.rank else TensorShape(None), x.dtype))
            else:
                d0 = _first_dim(x)
                specs.append(_s.unbatch_spec(_s.spec_of(x)))
            if n is not None and d0 is not None and d0 != n:
                raise ValueError(f"Dimensions {n} and {d0} are not compatible")
            n = d0 if n is None else n
        if not flat:
            raise ValueError("Invalid `tensors`: tensors must not be empty.")
        spec = _s.pack(value, specs)
        symbolic = any(isinstance(x, Tensor) and type(x) is not EagerTensor for x in flat)
        if symbolic:
            return DatasetV2(None, spec, UNKNOWN, symbolic=True, kind="_TensorSliceDataset")
        rows = [_rows(_s.to_leaf(x)) for x in flat]

        def gen(ctx):
            return zip(*rows)

        return DatasetV2(gen, spec, n if n is not None else UNKNOWN, kind="_TensorSliceDataset")

    @staticmethod
    def range(*args, dtype=_d.int64, name=None) -> DatasetV2:
        """``range(stop)``, ``range(start, stop[, step])`` like Python's, as int64."""
        if not 1 <= len(args) <= 3:
            raise ValueError(
                f"Invalid `args`. The length of `args` should be between 1 and 3 but was {len(args)}."
            )
        dtype = _d.as_dtype(dtype)
        spec = TensorSpec([], dtype)
        if any(isinstance(a, Tensor) and type(a) is not EagerTensor for a in args):
            from rill.ops._op import static_value

            if any(static_value(a) is None for a in args if isinstance(a, Tensor)):
                return DatasetV2(None, spec, UNKNOWN, symbolic=True, kind="_RangeDataset")
        vals = [_int(a) for a in args]
        start, stop, step = (0, vals[0], 1) if len(vals) == 1 else (*vals[:2], 1)
        if len(vals) == 3:
            step = vals[2]
        if step == 0:
            raise op_error(InvalidArgumentError, "RangeDataset", "step must be a non-zero integer.")
        n = max(0, -(-(stop - start) // step)) if step > 0 else max(0, -((start - stop) // step))
        npdt = dtype.np

        def gen(ctx):
            for lo in range(start, start + n * step, _CHUNK * step):
                hi = (
                    min(lo + _CHUNK * step, start + n * step)
                    if step > 0
                    else max(lo + _CHUNK * step, start + n * step)
                )
                yield from zip(np.arange(lo, hi, step, dtype=npdt))

        return DatasetV2(gen, spec, n, kind="_RangeDataset")

    @staticmethod
    def from_generator(
        generator,
        output_types=None,
        output_shapes=None,
        args=None,
        output_signature=None,
        name=None,
    ) -> DatasetV2:
        """Elements yielded by ``generator(*args)`` (called anew for each iteration),
        converted to ``output_signature`` (or ``output_types``/``output_shapes``)."""
        if not callable(generator):
            raise TypeError("`generator` must be a Python callable.")
        if output_signature is not None:
            if output_types is not None:
                raise TypeError(
                    "The `output_types` argument can not be used together with the "
                    "`output_signature` argument."
                )
            if output_shapes is not None:
                raise TypeError(
                    "The `output_shapes` argument can not be used together with the "
                    "`output_signature` argument."
                )
            spec = output_signature
            if isinstance(spec, list):
                spec = tuple(spec)
            for sp in _s.flatten(spec):
                if not (isinstance(sp, TensorSpec) or hasattr(sp, "_rill_component_specs")):
                    raise TypeError(
                        f"`output_signature` must contain objects that are subclass of "
                        f"`tf.TypeSpec` but found {type(sp)} which is not."
                    )
        else:
            if output_types is None:
                raise TypeError(
                    "To specify the output signature you need to provide either the "
                    "`output_signature` argument or the `output_types` argument."
                )
            types = tuple(output_types) if isinstance(output_types, list) else output_types
            if output_shapes is None:
                shapes = _s.map_structure(lambda _: TensorShape(None), types)
            else:
                shapes = _shapes_like(types, output_shapes)
            spec = _s.map_structure(lambda t, sh: TensorSpec(sh, t), types, shapes)
        specs = _s.flatten(spec)
        gen_args = tuple(
            np.asarray(_s._to_tensor(a)._value) if not isinstance(a, np.ndarray) else a
            for a in (args or ())
        )
        gen_args = tuple(a[()] if a.ndim == 0 else a for a in gen_args)
        single = not _s.is_nested(spec)

        def gen(ctx):
            for value in generator(*gen_args):
                if isinstance(value, list) and not single:
                    value = tuple(value)
                yield _from_python(value, spec, specs, single)

        return DatasetV2(gen, spec, UNKNOWN, kind="_FlatMapDataset")

    @staticmethod
    def zip(*args, datasets=None, name=None) -> DatasetV2:
        """Elements of several datasets side by side (as long as the shortest)."""
        if datasets is not None and args:
            raise TypeError("Both `*args` and `datasets` cannot be set.")
        if datasets is None:
            if not args:
                raise TypeError("Must pass at least one dataset to `zip`.")
            datasets = args[0] if len(args) == 1 else args
        if isinstance(datasets, list):
            datasets = tuple(datasets)
        flat = _s.flatten(datasets)
        for d in flat:
            if not isinstance(d, DatasetV2):
                raise TypeError(
                    f"Invalid `datasets`. `datasets` is expected to be a (nested) structure "
                    f"of `tf.data.Dataset` objects. Python `list` is not supported and you "
                    f"should use `tuple` instead. Got {type(d)}."
                )
        spec = _s.pack(datasets, [d.element_spec for d in flat])
        card = INFINITE
        for d in flat:
            if d._card == UNKNOWN:
                card = UNKNOWN
                break
            if d._card != INFINITE:
                card = d._card if card == INFINITE else min(card, d._card)
        chain = itertools.chain.from_iterable

        def gen(ctx):
            its = [d._iter(ctx) for d in flat]
            if len(its) == 1:
                return its[0]
            return (tuple(chain(t)) for t in zip(*its))

        return DatasetV2(gen, spec, card, inputs=flat, kind="_ZipDataset")

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None, name=None) -> DatasetV2:
        """The files matching a glob pattern (or list of patterns), shuffled unless
        ``shuffle=False`` (then sorted)."""
        import glob

        pats = _strings(file_pattern)
        files = sorted({f for p in pats for f in glob.glob(p)})
        if not files:
            raise op_error(
                InvalidArgumentError,
                "Assert",
                "Expected 'tf.Tensor(False, shape=(), dtype=bool)' to be true. Summarized "
                f"data: b'No files matched pattern: {', '.join(pats)}'",
            )
        ds = DatasetV2.from_tensor_slices(np.array([f.encode() for f in files], dtype=object))
        if shuffle is None or shuffle:
            ds = ds.shuffle(len(files), seed=seed)
        return ds

    @staticmethod
    def sample_from_datasets(
        datasets,
        weights=None,
        seed=None,
        stop_on_empty_dataset=False,
        rerandomize_each_iteration=None,
    ) -> DatasetV2:
        from rill.data.sampling import sample_from_datasets

        return sample_from_datasets(
            datasets, weights, seed, stop_on_empty_dataset, rerandomize_each_iteration
        )

    @staticmethod
    def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True) -> DatasetV2:
        from rill.data.sampling import choose_from_datasets

        return choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset)

    @staticmethod
    def load(path, element_spec=None, compression=None, reader_func=None, wait=False):
        from rill.data.save_load import load

        return load(path, element_spec, compression, reader_func)

    def save(self, path, compression=None, shard_func=None, checkpoint_args=None):
        """Write the dataset to directory ``path`` (rill's format; ``Dataset.load``)."""
        from rill.data.save_load import save

        return save(self, path, compression, shard_func)

    # transformations -----------------------------------------------------------------
    def apply(self, transformation_func) -> DatasetV2:
        ds = transformation_func(self)
        if not isinstance(ds, DatasetV2):
            raise TypeError(
                f"`transformation_func` must return a `tf.data.Dataset` object. Got {type(ds)}."
            )
        return ds

    def concatenate(self, dataset, name=None) -> DatasetV2:
        spec = _compatible_structure(self.element_spec, dataset.element_spec)
        a, b = self._card, dataset._card
        card = INFINITE if INFINITE in (a, b) else UNKNOWN if UNKNOWN in (a, b) else a + b
        first = self

        def gen(ctx):
            yield from first._iter(ctx)
            yield from dataset._iter(ctx)

        return DatasetV2(gen, spec, card, inputs=[self, dataset], kind="_ConcatenateDataset")

    def map(
        self,
        map_func,
        num_parallel_calls=None,
        deterministic=None,
        synchronous=None,
        use_unbounded_threadpool=False,
        name=None,
    ) -> DatasetV2:
        """Apply ``map_func`` to each element. The function is traced once; with
        ``num_parallel_calls`` (an int or AUTOTUNE) it runs in a thread pool, results in
        input order unless ``deterministic=False``."""
        fn = StructuredFunction(map_func, self.element_spec, "map")
        call = fn.call
        src = self
        par = None if num_parallel_calls is None else _int(num_parallel_calls)
        if par is not None and par != AUTOTUNE and par < 1:
            raise ValueError(f"num_parallel_calls must be positive or AUTOTUNE, got {par}.")
        if par is None or par == 1:

            def gen(ctx):
                return itertools.starmap(call, src._iter(ctx))

            kind = "_MapDataset"
        else:

            def gen(ctx):
                opts = ctx.options
                n = default_parallelism(opts) if par == AUTOTUNE else par
                bound = thread_bound(opts)
                if bound is not None and n > bound:
                    n = bound
                if n <= 1:  # one thread at most: run in the caller's
                    return itertools.starmap(call, src._iter(ctx))
                det = deterministic
                if det is None:
                    det = opts.deterministic
                    det = True if det is None else bool(det)
                return _ParallelMapIter(src._iter(ctx), call, n, det)

            kind = "_ParallelMapDataset"
        out = self._derive(gen, fn.output_spec, self._card, kind)
        out._map_function = fn
        return out

    def filter(self, predicate, name=None) -> DatasetV2:
        """Keep the elements for which ``predicate`` (a scalar bool) is True."""
        fn = StructuredFunction(predicate, self.element_spec, "filter")
        out = fn.output_spec
        if not (type(out) is TensorSpec and out.dtype is _d.bool and out.shape.rank in (0, None)):
            raise ValueError(
                f"Invalid `predicate`. `predicate` must return a `tf.bool` scalar tensor, but "
                f"its return type is {out!r}."
            )
        call = fn.call
        src = self

        def keep(leaves):
            return call(*leaves)[0]

        def gen(ctx):
            return filter(keep, src._iter(ctx))

        return self._derive(gen, self.element_spec, UNKNOWN, "_FilterDataset")

    def take_while(self, predicate, name=None) -> DatasetV2:
        fn = StructuredFunction(predicate, self.element_spec, "take_while")
        call = fn.call
        src = self

        def gen(ctx):
            return itertools.takewhile(lambda leaves: call(*leaves)[0], src._iter(ctx))

        return self._derive(gen, self.element_spec, UNKNOWN, "_TakeWhileDataset")

    @_symbolic_ok(_batched_spec)
    def batch(
        self,
        batch_size,
        drop_remainder=False,
        num_parallel_calls=None,
        deterministic=None,
        name=None,
    ) -> DatasetV2:
        """Stack ``batch_size`` consecutive elements; the last batch may be smaller unless
        ``drop_remainder``."""
        n = _int(batch_size, "batch_size")
        if n <= 0:
            raise op_error(
                InvalidArgumentError,
                "BatchDatasetV2",
                f"Batch size must be greater than zero, got {n}.",
            )
        drop = bool(drop_remainder)
        specs = self._leaf_specs
        dim = n if drop else None
        spec = _s.map_structure(lambda sp: _s.batch_spec(sp, dim), self.element_spec)
        src = self
        islice = itertools.islice

        def gen(ctx):
            it = src._iter(ctx)
            stack = _s.stack_leaves
            while True:
                chunk = list(islice(it, n))
                if not chunk or (drop and len(chunk) < n):
                    return
                if len(specs) == 1:
                    yield (stack([c[0] for c in chunk], specs[0]),)
                else:
                    yield tuple(
                        stack(list(col), sp, i)
                        for i, (col, sp) in enumerate(zip(zip(*chunk), specs))
                    )

        return self._derive(gen, spec, _batch_card(self._card, n, drop), "_BatchDataset")

    @_symbolic_ok(_batched_spec)
    def padded_batch(
        self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False, name=None
    ) -> DatasetV2:
        from rill.data.batching import padded_batch

        return padded_batch(self, batch_size, padded_shapes, padding_values, drop_remainder)

    def ragged_batch(self, batch_size, drop_remainder=False, row_splits_dtype=_d.int64, name=None):
        from rill.data.batching import ragged_batch

        return ragged_batch(self, batch_size, drop_remainder, row_splits_dtype)

    def unbatch(self, name=None) -> DatasetV2:
        """Split each element's components along their first dimension."""
        spec = _s.map_structure(_s.unbatch_spec, self.element_spec)
        src = self
        specs = self._leaf_specs

        def gen(ctx):
            for leaves in src._iter(ctx):
                ns = {_first_dim(a) for a in leaves}
                if len(ns) != 1:
                    raise op_error(
                        InvalidArgumentError,
                        "UnbatchDataset",
                        f"Input element must have the same batch size in each component. "
                        f"Component 0 had size {_first_dim(leaves[0])} but another component "
                        f"had size {sorted(ns - {_first_dim(leaves[0])})[0]}.",
                    )
                if len(specs) == 1:
                    yield from zip(_rows(leaves[0]))
                else:
                    yield from zip(*[_rows(a) for a in leaves])

        return self._derive(gen, spec, UNKNOWN, "_UnbatchDataset")

    @_symbolic_ok(_batched_spec)
    def rebatch(self, batch_size, drop_remainder=False, name=None) -> DatasetV2:
        """Re-split batches to ``batch_size`` (an int, or a list of sizes used in turn)."""
        sizes = [_int(b) for b in np.atleast_1d(np.asarray(batch_size))]
        if len(sizes) == 1:
            return self.unbatch().batch(sizes[0], drop_remainder)
        unb = self.unbatch()
        drop = bool(drop_remainder)
        specs = unb._leaf_specs
        spec = _s.map_structure(lambda sp: _s.batch_spec(sp, None), unb.element_spec)

        def gen(ctx):
            it = unb._iter(ctx)
            for n in itertools.cycle(sizes):
                chunk = list(itertools.islice(it, n))
                if not chunk or (drop and len(chunk) < n):
                    return
                yield tuple(
                    _s.stack_leaves(list(col), sp, i)
                    for i, (col, sp) in enumerate(zip(zip(*chunk), specs))
                )

        return DatasetV2(gen, spec, UNKNOWN, inputs=[self], kind="_RebatchDataset")

    def shuffle(
        self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None
    ) -> DatasetV2:
        """Randomly shuffle with a buffer of ``buffer_size`` elements (TF's algorithm: fill
        the buffer, then repeatedly emit a uniformly chosen buffered element and refill its
        place from the input)."""
        size = _int(buffer_size, "buffer_size")
        if size == AUTOTUNE:
            size = 1 << 30
        if size <= 0:
            raise op_error(
                InvalidArgumentError, "ShuffleDatasetV3", "buffer_size must be greater than zero."
            )
        seeds = _dataset_seed(seed)
        counter = itertools.count()
        reshuffle = reshuffle_each_iteration is None or bool(reshuffle_each_iteration)
        src = self

        def gen(ctx):
            k = next(counter) if reshuffle else 0
            rng = _pyrandom.Random(None if seeds is None else hash((seeds, k)) & (2**63 - 1))
            return _shuffle(src._iter(ctx), size, rng)

        return self._derive(gen, self.element_spec, self._card, "_ShuffleDataset")

    @_symbolic_ok()
    def repeat(self, count=None, name=None) -> DatasetV2:
        """Repeat the dataset ``count`` times (forever if None or -1)."""
        count = -1 if count is None else _int(count, "count")
        n = self._card
        if count < 0:
            card = 0 if n == 0 else INFINITE
        elif count == 0:
            card = 0
        else:
            card = n if n in (INFINITE, UNKNOWN) else n * count
        src = self

        def gen(ctx):
            i = 0
            while count < 0 or i < count:
                empty = True
                for x in src._iter(ctx):
                    empty = False
                    yield x
                if empty:
                    return
                i += 1

        return self._derive(gen, self.element_spec, card, "_RepeatDataset")

    @_symbolic_ok()
    def take(self, count, name=None) -> DatasetV2:
        """The first ``count`` elements (all of them if -1)."""
        count = _int(count, "count")
        n = self._card
        if count < 0:
            card = n
        elif n == INFINITE:
            card = count
        elif n == UNKNOWN:
            card = UNKNOWN
        else:
            card = min(n, count)
        src = self

        def gen(ctx):
            it = src._iter(ctx)
            return it if count < 0 else itertools.islice(it, count)

        return self._derive(gen, self.element_spec, card, "_TakeDataset")

    @_symbolic_ok()
    def skip(self, count, name=None) -> DatasetV2:
        """All but the first ``count`` elements (none if -1)."""
        count = _int(count, "count")
        n = self._card
        if n in (INFINITE, UNKNOWN):
            card = n if count >= 0 else (0 if n == INFINITE else UNKNOWN)
        else:
            card = 0 if count < 0 else max(0, n - count)
        src = self

        def gen(ctx):
            it = src._iter(ctx)
            if count < 0:
                for _ in it:
                    pass
                return iter(())
            return itertools.islice(it, count, None)

        return self._derive(gen, self.element_spec, card, "_SkipDataset")

    @_symbolic_ok()
    def shard(self, num_shards, index, name=None) -> DatasetV2:
        """Every ``num_shards``-th element, starting at ``index``."""
        k, i = _int(num_shards), _int(index)
        if k <= 0:
            raise op_error(
                InvalidArgumentError,
                "ShardDataset",
                f"Number of shards must be greater than zero (currently num_shards = {k}).",
            )
        if not 0 <= i < k:
            raise op_error(
                InvalidArgumentError,
                "ShardDataset",
                f"Index must be between 0 and {k - 1} (currently index = {i}).",
            )
        n = self._card
        card = n if n in (INFINITE, UNKNOWN) else n // k + (1 if i < n % k else 0)
        src = self

        def gen(ctx):
            return itertools.islice(src._iter(ctx), i, None, k)

        return self._derive(gen, self.element_spec, card, "_ShardDataset")

    def enumerate(self, start=0, name=None) -> DatasetV2:
        """Pairs ``(index, element)`` with int64 indices from ``start``."""
        start = _int(start)
        counter = DatasetV2(
            lambda ctx: _count(start),
            TensorSpec([], _d.int64),
            INFINITE,
            kind="_RangeDataset",
        )
        return DatasetV2.zip((counter, self))

    @_symbolic_ok()
    def prefetch(self, buffer_size, name=None) -> DatasetV2:
        """Produce elements ahead of the consumer in a background thread, up to
        ``buffer_size`` of them (AUTOTUNE: a few)."""
        size = _int(buffer_size, "buffer_size")
        if size == AUTOTUNE:
            size = 8
        if size < 0:
            raise op_error(InvalidArgumentError, "PrefetchDataset", "buffer_size must be >= 0.")
        if size == 0:
            return self._derive(self._gen, self.element_spec, self._card, "_PrefetchDataset")
        src = self
        return self._derive(
            lambda ctx: _prefetch(lambda: src._iter(ctx), size),
            self.element_spec,
            self._card,
            "_PrefetchDataset",
        )

    def cache(self, filename="", name=None) -> DatasetV2:
        """Remember the elements of the first complete iteration, in memory (``filename``
        empty) or in files ``filename.index``/``filename.data-00000-of-00001``."""
        from rill.data.save_load import file_cache

        if isinstance(filename, Tensor):
            filename = filename.numpy()
        if isinstance(filename, bytes):
            filename = filename.decode()
        src = self
        if filename:
            gen = file_cache(src, filename)
        else:
            memo = []

            def gen(ctx):
                if memo:
                    return iter(memo[0])
                return _record(src._iter(ctx), memo)

        return self._derive(gen, self.element_spec, self._card, "_CacheDataset")

    def flat_map(self, map_func, name=None) -> DatasetV2:
        """Map each element to a dataset and flatten them, in order."""
        return self.interleave(map_func, cycle_length=1, block_length=1, _kind="_FlatMapDataset")

    def interleave(
        self,
        map_func,
        cycle_length=None,
        block_length=None,
        num_parallel_calls=None,
        deterministic=None,
        name=None,
        _kind="_InterleaveDataset",
    ) -> DatasetV2:
        """Map each element to a dataset and interleave them: ``cycle_length`` datasets
        open at once, ``block_length`` consecutive elements from each in turn (TF's order).
        With ``num_parallel_calls`` each open dataset is produced ahead in a thread."""
        fn = StructuredFunction(map_func, self.element_spec, _kind)
        out = fn.output_spec
        if not isinstance(out, DatasetSpec):
            raise TypeError(
                f"The `map_func` argument must return a `Dataset` object. Got {_type_name(out)}."
            )
        cycle = AUTOTUNE if cycle_length is None else _int(cycle_length)
        if cycle == AUTOTUNE:
            cycle = os.cpu_count() or 1
        block = 1 if block_length is None else _int(block_length)
        if cycle <= 0 or block <= 0:
            raise op_error(
                InvalidArgumentError,
                "InterleaveDataset",
                "cycle_length and block_length must be greater than zero.",
            )
        par = None if num_parallel_calls is None else _int(num_parallel_calls)
        call = fn.call
        src = self

        def gen(ctx):
            bound = thread_bound(ctx.options)
            live = [0]  # open datasets produced ahead in their own thread

            def open_(leaves):
                ds = call(*leaves)[0]
                if par is not None and (bound is None or live[0] < bound):
                    live[0] += 1
                    return _released(_prefetch(lambda: ds._iter(ctx), max(block, 2)), live)
                return ds._iter(ctx)

            return _interleave(src._iter(ctx), open_, cycle, block)

        return self._derive(gen, out.element_spec, UNKNOWN, _kind)

    @_symbolic_ok(lambda ds: _s.map_structure(DatasetSpec, ds.element_spec))
    def window(self, size, shift=None, stride=1, drop_remainder=False, name=None) -> DatasetV2:
        """Windows of ``size`` elements (each component a dataset), every ``shift``
        elements, taking every ``stride``-th element."""
        from rill.data.grouping import window

        return window(self, size, shift, stride, drop_remainder)

    def group_by_window(
        self, key_func, reduce_func, window_size=None, window_size_func=None, name=None
    ) -> DatasetV2:
        from rill.data.grouping import group_by_window

        return group_by_window(self, key_func, reduce_func, window_size, window_size_func)

    def bucket_by_sequence_length(
        self,
        element_length_func,
        bucket_boundaries,
        bucket_batch_sizes,
        padded_shapes=None,
        padding_values=None,
        pad_to_bucket_boundary=False,
        no_padding=False,
        drop_remainder=False,
        name=None,
    ) -> DatasetV2:
        from rill.data.grouping import bucket_by_sequence_length

        return bucket_by_sequence_length(
            self,
            element_length_func,
            bucket_boundaries,
            bucket_batch_sizes,
            padded_shapes,
            padding_values,
            pad_to_bucket_boundary,
            no_padding,
            drop_remainder,
        )

    def unique(self, name=None) -> DatasetV2:
        """Each distinct element once, in first-seen order (int32/int64/string elements)."""
        spec = self.element_spec
        if not (type(spec) is TensorSpec and spec.dtype in (_d.int32, _d.int64, _d.string)):
            raise TypeError(
                "Invalid `dataset`. `Dataset.unique()` is only supported for datasets that "
                "produce scalar `tf.int32`, `tf.int64` or `tf.string` elements, but got "
                f"{spec!r}."
            )
        src = self

        def gen(ctx):
            seen = set()
            for leaves in src._iter(ctx):
                a = np.asarray(leaves[0])
                key = (a.shape, a.tobytes() if a.dtype != object else tuple(a.reshape(-1)))
                if key not in seen:
                    seen.add(key)
                    yield leaves

        return self._derive(gen, spec, UNKNOWN, "_UniqueDataset")

    def ignore_errors(self, log_warning=False, name=None) -> DatasetV2:
        """Drop elements whose production raised an error (and go on with the next)."""
        src = self

        def gen(ctx):
            it = src._iter(ctx)
            while True:
                try:
                    x = next(it)
                except StopIteration:
                    return
                except Exception as e:  # noqa: BLE001 - the point of ignore_errors
                    if log_warning:
                        warnings.warn(f"tf.data: ignoring an error: {e}", stacklevel=2)
                    continue
                yield x

        return self._derive(gen, self.element_spec, UNKNOWN, "_IgnoreErrorsDataset")

    def scan(self, initial_state, scan_func, name=None) -> DatasetV2:
        """Thread a state through the elements: ``scan_func(state, element) -> (new_state,
        output)``; outputs form the new dataset."""
        from rill.data.reducing import scan

        return scan(self, initial_state, scan_func)

    def reduce(self, initial_state, reduce_func, name=None):
        """Fold the elements into a state: ``reduce_func(state, element) -> new_state``."""
        from rill.data.reducing import reduce

        return reduce(self, initial_state, reduce_func)


Dataset = DatasetV2
_Dataset = DatasetV2


class _Context:
    """What an iteration of a pipeline knows: the options of its outermost dataset."""

    __slots__ = ("options",)

    def __init__(self, options):
        self.options = options


# --------------------------------------------------------------------------------------
# Iterators
# --------------------------------------------------------------------------------------


@tf_export("data.Iterator")
class OwnedIterator:
    """An iterator over a dataset's elements (``iter(dataset)``)."""

    def __init__(self, dataset):
        self._dataset = dataset
        self._it = dataset._iter()
        self._packer = dataset._pack()

    @property
    def element_spec(self):
        return self._dataset.element_spec

    def __iter__(self):
        return self

    def __next__(self):
        return self._packer(next(self._it))

    next = __next__

    def get_next(self):
        """The next element; OutOfRangeError at the end."""
        try:
            return self._packer(next(self._it))
        except StopIteration:
            raise op_error(OutOfRangeError, "IteratorGetNext", "End of sequence") from None

    def get_next_as_optional(self):
        """The next element as an ``Optional`` (empty at the end)."""
        from rill.data.iterator_ops import Optional

        try:
            leaves = next(self._it)
        except StopIteration:
            return Optional.empty(self.element_spec)
        return Optional.from_value(self._packer(leaves))

    def __repr__(self):
        return f"<rill.data.Iterator element_spec={self.element_spec!r}>"


class _NumpyIterator:
    def __init__(self, dataset):
        self._it = dataset._iter()
        self._specs = dataset._leaf_specs
        self._spec = dataset.element_spec

    def __iter__(self):
        return self

    def __next__(self):
        leaves = next(self._it)
        return _s.pack(self._spec, [_to_numpy(a, sp) for a, sp in zip(leaves, self._specs)])

    next = __next__


def _to_numpy(a, spec):
    if type(spec) is TensorSpec:
        a = np.asarray(a)
        return a[()] if a.ndim == 0 else a
    n = getattr(a, "numpy", None)
    return n() if callable(n) else a


class _ParallelMapIter:
    """Runs ``fn`` over the input in a thread pool, keeping up to 2x the workers in
    flight. Deterministic: results in input order; otherwise as they complete. An error
    is raised at the element that caused it and iteration can go on."""

    def __init__(self, src, fn, workers, deterministic):
        self._src = src
        self._fn = fn
        self._cap = 2 * workers
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="rill-data-map")
        self._pending = collections.deque()
        self._done_q = None if deterministic else queue.SimpleQueue()
        self._in_flight = 0
        self._exhausted = False

    def __iter__(self):
        return self

    def _fill(self):
        submit, fn = self._pool.submit, self._fn
        while not self._exhausted and self._in_flight < self._cap:
            try:
                leaves = next(self._src)
            except StopIteration:
                self._exhausted = True
                break
            except Exception as e:  # noqa: BLE001 - delivered in order
                fut = Future()
                fut.set_exception(e)
            else:
                fut = submit(fn, *leaves)
            self._in_flight += 1
            if self._done_q is None:
                self._pending.append(fut)
            else:
                fut.add_done_callback(self._done_q.put)

    def __next__(self):
        if self._pool is None:
            raise StopIteration
        self._fill()
        if self._in_flight == 0:
            self.close()
            raise StopIteration
        self._in_flight -= 1
        fut = self._pending.popleft() if self._done_q is None else self._done_q.get()
        return fut.result()

    def close(self):
        pool = self._pool
        if pool is not None:
            self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)

    def __del__(self):
        self.close()


_END, _ITEM, _ERROR = 0, 1, 2


def _prefetch(make_iter, size):
    """Iterate ``make_iter()`` in a daemon thread, ``size`` elements ahead. Dropping (or
    closing) the returned generator stops the thread."""
    q = queue.Queue(maxsize=size)
    stop = threading.Event()

    def put(item):
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            it = make_iter()
            for x in it:
                if not put((_ITEM, x)):
                    return
            put((_END, None))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            put((_ERROR, e))

    def consume():
        t = threading.Thread(target=produce, name="rill-data-prefetch", daemon=True)
        t.start()
        get = q.get
        try:
            while True:
                kind, x = get()
                if kind == _ITEM:
                    yield x
                elif kind == _END:
                    return
                else:
                    raise x
        finally:
            stop.set()

    return consume()


def _count(start):
    for lo in itertools.count(start, _CHUNK):
        yield from zip(np.arange(lo, lo + _CHUNK, dtype=np.int64))


def _record(it, memo):
    items = []
    for x in it:
        items.append(x)
        yield x
    memo.append(items)


def _shuffle(it, size, rng):
    buf = list(itertools.islice(it, size))
    randrange = rng.randrange
    for x in it:
        i = randrange(len(buf))
        out = buf[i]
        buf[i] = x
        yield out
    while buf:
        i = randrange(len(buf))
        buf[i], buf[-1] = buf[-1], buf[i]
        yield buf.pop()


def _released(it, live):
    """Iterate ``it``; when it ends (or is dropped), give its thread back to ``live``."""
    try:
        yield from it
    finally:
        live[0] -= 1


def _interleave(src, open_, cycle, block):
    """TF's interleave order: ``cycle`` slots; each yields up to ``block`` elements in
    turn; an exhausted slot takes the next input element's dataset on its next turn."""
    slots = [None] * cycle
    n_open = 0
    idx = 0
    end_of_input = False
    while not end_of_input or n_open > 0:
        cur = slots[idx]
        if cur is not None:
            k = 0
            while k < block:
                try:
                    x = next(cur)
                except StopIteration:
                    break
                yield x
                k += 1
            else:
                idx = (idx + 1) % cycle
                continue
            slots[idx] = None
            n_open -= 1
            idx = (idx + 1) % cycle
        elif not end_of_input:
            try:
                leaves = next(src)
            except StopIteration:
                end_of_input = True
                continue
            slots[idx] = open_(leaves)
            n_open += 1
        else:
            idx = (idx + 1) % cycle


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _first_dim(x):
    s = getattr(x, "shape", None)
    if s is None:
        s = np.shape(x)
    d = s[0] if len(s) else None
    return None if d is None else int(d)


def _rows(a) -> list:
    """A leaf's slices along its first dimension, as leaves."""
    if isinstance(a, np.ndarray):
        if a.ndim == 0:
            raise ValueError("Unbatching a tensor is only supported for rank >= 1")
        if a.dtype == object and a.ndim == 1:
            out = []
            for x in a:
                z = np.empty((), object)
                z[()] = x
                out.append(z)
            return out
        return list(a)
    if isinstance(a, np.generic):
        raise ValueError("Unbatching a tensor is only supported for rank >= 1")
    n = _first_dim(a)
    if type(a).__name__ == "SparseTensor":
        return _sparse_rows(a, n)
    return [a[i] for i in range(n)]


def _sparse_rows(sp, n):
    """The slices of a SparseTensor along its first dimension."""
    cls = type(sp)
    ind = np.asarray(sp.indices)
    vals = sp.values
    shape = np.asarray(sp.dense_shape)[1:]
    order = np.argsort(ind[:, 0], kind="stable")
    starts = np.searchsorted(ind[order, 0], np.arange(n + 1))
    out = []
    for i in range(n):
        sel = order[starts[i] : starts[i + 1]]
        out.append(cls(ind[sel, 1:], wrap(np.asarray(vals)[sel], vals.dtype), shape))
    return out


def _batch_card(n, size, drop):
    if n in (INFINITE, UNKNOWN):
        return n
    return n // size if drop else -(-n // size)


def _strings(x) -> list:
    if isinstance(x, Tensor):
        x = x.numpy()
    if isinstance(x, DatasetV2):
        return [v.decode() for v in x.as_numpy_iterator()]
    if isinstance(x, (str, bytes)):
        x = [x]
    out = []
    for v in np.asarray(x, dtype=object).reshape(-1):
        out.append(v.decode() if isinstance(v, bytes) else str(v))
    return out


def _type_name(spec) -> str:
    if isinstance(spec, TensorSpec):
        return "Tensor"
    return type(spec).__name__


def _shapes_like(types, shapes):
    if not _s.is_nested(types):
        return TensorShape(shapes)
    if isinstance(shapes, list) and isinstance(types, tuple):
        shapes = tuple(shapes)
    return (
        _s.map_structure(lambda _, sh: sh, types, _s.map_structure(TensorShape, shapes))
        if (_s.is_nested(shapes))
        else _s.map_structure(lambda _: TensorShape(shapes), types)
    )


def _from_python(value, spec, specs, single):
    """One generator output converted to the declared leaves, checked like TF."""
    flat = [value] if single else _s.flatten(value)
    if len(flat) != len(specs):
        raise op_error(
            InvalidArgumentError,
            "PyFunc",
            f"TypeError: `generator` yielded an element that did not match the expected "
            f"structure. The expected structure was {spec!r}, but the yielded element was "
            f"{value!r}.",
        )
    out = []
    for v, sp in zip(flat, specs):
        if type(sp) is not TensorSpec:
            out.append(v)
            continue
        try:
            t = (
                _s._to_tensor(v, sp.dtype)
                if not isinstance(v, np.ndarray) or v.dtype == object
                else None
            )
            a = t._value if t is not None else v.astype(sp.dtype.np, copy=False)
            if t is None and v.dtype.kind in "USO" and sp.dtype is not _d.string:
                raise ValueError("strings")
        except (TypeError, ValueError):
            raise op_error(
                InvalidArgumentError,
                "PyFunc",
                f"TypeError: `generator` yielded an element that could not be converted to "
                f"the expected type. The expected type was {sp.dtype.name}, but the yielded "
                f"element was {v!r}.",
            ) from None
        if not sp.shape.is_compatible_with(TensorShape(a.shape)):
            raise op_error(
                InvalidArgumentError,
                "PyFunc",
                f"TypeError: `generator` yielded an element of shape {tuple(a.shape)} where an "
                f"element of shape {_shape_tuple(sp.shape)} was expected.",
            )
        out.append(a)
    return tuple(out)


def _shape_tuple(shape):
    if shape.rank is None:
        return "<unknown>"
    return tuple(shape.as_list())


def _dataset_seed(seed):
    """A hashable seed for a random transformation, or None (non-deterministic)."""
    from rill.ops.random_ops import get_seed

    if seed is not None:
        seed = _int(seed)
    s1, s2 = get_seed(seed)
    return None if s1 is None else (s1, s2)


def _from_leaf_list(leaves_list, spec, kind="_TensorSliceDataset"):
    """A concrete dataset over already-built leaf tuples."""
    items = list(leaves_list)
    return DatasetV2(lambda ctx: iter(items), spec, len(items), kind=kind)
