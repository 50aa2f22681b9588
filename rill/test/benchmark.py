"""``tf.test.Benchmark``: time code and report the numbers as TF's benchmark tools read them.

``report_benchmark`` prints an entry in protocol-buffer text format, or, when the
environment variable ``TEST_REPORT_FILE_PREFIX`` is set, writes a serialized
``BenchmarkEntries`` message (TF's ``test_log.proto``) to ``PREFIX + name``, the file TF's
benchmark runners collect. The message is encoded here by hand, so no protobuf package
is needed. ``run_op_benchmark`` times an eager callable (rill has no sessions).
"""

from __future__ import annotations

import inspect
import numbers
import os
import re
import struct
import sys
import time

import numpy as np

__all__ = ["Benchmark", "run_benchmarks"]

_REGISTRY: list = []  # every Benchmark subclass, for ``rill.test.main --benchmarks=...``


# --------------------------------------------------------------------------------------
# protocol-buffer wire format (just what BenchmarkEntries needs)
# --------------------------------------------------------------------------------------


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _len_field(field: int, payload: bytes) -> bytes:
    return _key(field, 2) + _varint(len(payload)) + payload


def _double_field(field: int, value: float) -> bytes:
    return _key(field, 1) + struct.pack("<d", float(value))


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) or isinstance(v, np.number)


def _entry_bytes(name, iters, cpu_time, wall_time, throughput, extras, metrics) -> bytes:
    # BenchmarkEntry: name=1, iters=2, cpu_time=3, wall_time=4, throughput=5,
    # extras=6 (map<string, EntryValue{double_value=1, string_value=2}>), metrics=7
    # (MetricEntry{name=1, value=2, min_value=3, max_value=4 (DoubleValue{value=1})})
    out = _len_field(1, name.encode())
    if iters:
        out += _key(2, 0) + _varint(int(iters))
    for field, v in ((3, cpu_time), (4, wall_time), (5, throughput)):
        if v:
            out += _double_field(field, v)
    for k, v in (extras or {}).items():
        if _is_number(v):
            value = _double_field(1, v)
        else:
            value = _len_field(2, str(v).encode())
        out += _len_field(6, _len_field(1, str(k).encode()) + _len_field(2, value))
    for m in metrics or []:
        payload = _len_field(1, str(m["name"]).encode()) + _double_field(2, m["value"])
        for field, key in ((3, "min_value"), (4, "max_value")):
            if m.get(key) is not None:
                payload += _len_field(field, _double_field(1, m[key]))
        out += _len_field(7, payload)
    return _len_field(1, out)  # BenchmarkEntries: entry=1


def _fmt_double(v) -> str:
    v = float(v)
    if v == int(v) and abs(v) < 1e16:
        return str(int(v))
    return repr(v)


def _entry_text(name, iters, cpu_time, wall_time, throughput, extras, metrics) -> str:
    lines = ["entry {", f'  name: "{name}"']
    if iters:
        lines.append(f"  iters: {int(iters)}")
    for label, v in (("cpu_time", cpu_time), ("wall_time", wall_time), ("throughput", throughput)):
        if v:
            lines.append(f"  {label}: {_fmt_double(v)}")
    for k, v in (extras or {}).items():
        value = f"double_value: {_fmt_double(v)}" if _is_number(v) else f'string_value: "{v}"'
        lines += ["  extras {", f'    key: "{k}"', "    value {", f"      {value}", "    }", "  }"]
    for m in metrics or []:
        lines += [
            "  metrics {",
            f'    name: "{m["name"]}"',
            f"    value: {_fmt_double(m['value'])}",
        ]
        for key in ("min_value", "max_value"):
            if m.get(key) is not None:
                lines += [f"    {key} {{", f"      value: {_fmt_double(m[key])}", "    }"]
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# Benchmark
# --------------------------------------------------------------------------------------


class Benchmark:
    """Base class of benchmarks: subclasses define ``benchmark*`` methods that time
    something and call ``report_benchmark``."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _REGISTRY.append(cls)

    @classmethod
    def is_abstract(cls) -> bool:
        """True for the base class itself, whose methods are not benchmarks."""
        return cls is Benchmark

    def _get_name(self, overwrite_name=None) -> str:
        """``ClassName.name``: ``overwrite_name``, else the outermost method of this
        benchmark on the call stack (the ``benchmark*`` method running)."""
        name = overwrite_name
        if name is None:
            frame = sys._getframe(1)
            while frame is not None:
                if frame.f_locals.get("self") is self:
                    name = frame.f_code.co_name
                frame = frame.f_back
        return f"{type(self).__name__}.{name or 'benchmark'}"

    def report_benchmark(
        self, iters=None, cpu_time=None, wall_time=None, throughput=None, extras=None,
        name=None, metrics=None,
    ):  # fmt: skip
        """Report one measurement: printed in text format, or written to
        ``$TEST_REPORT_FILE_PREFIX<name>`` as a serialized ``BenchmarkEntries``.

        Args:
          iters: iterations timed. cpu_time, wall_time: seconds per iteration.
          throughput: megabytes per second. extras: a dict of numbers or strings.
          name: the benchmark's name (default: the calling ``benchmark*`` method).
          metrics: a list of dicts with ``name``, ``value`` and optional ``min_value``
            and ``max_value``.
        """
        for m in metrics or []:
            if "name" not in m or "value" not in m:
                raise ValueError(f"Each metric needs a 'name' and a 'value', got {m!r}.")
        full = self._get_name(name)
        fields = (full, iters, cpu_time, wall_time, throughput, extras, metrics)
        prefix = os.environ.get("TEST_REPORT_FILE_PREFIX")
        if not prefix:
            print(_entry_text(*fields), end="")
            return
        path = prefix + full.replace("/", "__")
        if os.path.exists(path):
            raise OSError(f"File already exists: {path}")
        with open(path, "wb") as f:
            f.write(_entry_bytes(*fields))

    def run_op_benchmark(
        self, sess, op_or_tensor, feed_dict=None, burn_iters=2, min_iters=10,
        store_trace=False, store_memory_usage=True, name=None, extras=None, mbs=0,
    ):  # fmt: skip
        """Time ``op_or_tensor`` and report it.

        rill runs eagerly: ``op_or_tensor`` is a callable (called with ``**feed_dict``
        if given) or a nested structure of tensors (evaluated to NumPy), run
        ``burn_iters`` times untimed, then ``min_iters`` times timed. ``sess`` is
        ignored; ``store_trace`` and ``store_memory_usage`` record nothing (rill keeps no
        step traces or allocator statistics).

        Returns:
          ``{"iters", "wall_time" (the median, seconds), "extras" (with
          ``wall_time_mean`` and ``wall_time_stdev``), "name", "throughput"
          (``mbs / wall_time``, 0 without ``mbs``)}``, as TF returns it.
        """
        if callable(op_or_tensor):
            kwargs = dict(feed_dict or {})

            def step():
                return op_or_tensor(**kwargs)

        else:
            if feed_dict:
                raise RuntimeError(
                    "feed_dict needs a callable: rill runs eagerly, so tensors passed to "
                    "run_op_benchmark are already computed."
                )

            def step():
                return self.evaluate(op_or_tensor)

        for _ in range(burn_iters):
            step()
        deltas = []
        for _ in range(min_iters):
            start = time.perf_counter()
            step()
            deltas.append(time.perf_counter() - start)
        median = float(np.median(deltas)) if deltas else 0.0
        extras = dict(extras or {})
        if deltas:
            extras["wall_time_mean"] = float(np.mean(deltas))
            extras["wall_time_stdev"] = float(np.std(deltas))
        throughput = mbs / median if mbs and median > 0 else 0.0
        values = {
            "iters": min_iters,
            "wall_time": median,
            "extras": extras,
            "name": name,
            "throughput": throughput,
        }
        self.report_benchmark(
            iters=min_iters, wall_time=median, throughput=throughput or None,
            extras=extras, name=name,
        )  # fmt: skip
        return values

    def evaluate(self, tensors):
        """Tensors (in any nested structure) to NumPy values."""
        from rill import nest
        from rill.test._values import evaluate_leaf

        return nest.map_structure(evaluate_leaf, tensors)


def run_benchmarks(pattern: str) -> None:
    """Run every ``benchmark*`` method of the registered Benchmark classes whose
    ``Class.method`` name matches the regex ``pattern`` (``main --benchmarks=...``)."""
    regex = re.compile(pattern)
    for cls in list(_REGISTRY):
        if cls.is_abstract() or inspect.isabstract(cls):
            continue
        for attr in sorted(dir(cls)):
            if not attr.startswith("benchmark"):
                continue
            method = getattr(cls, attr)
            if callable(method) and regex.search(f"{cls.__name__}.{attr}"):
                getattr(cls(), attr)()
