"""``tf.test.TestCase``: ``unittest.TestCase`` with TensorFlow's assertion helpers.

The assertions take tensors, variables, NumPy arrays, Python numbers and nested lists,
and (``assertAllClose``, ``assertAllEqual``) nested dicts, lists, tuples and namedtuples,
ragged and sparse tensors, converting tensors to NumPy first. Which inputs pass and
which fail, and with which exception type, follow TF's TestCase; the messages are rill's
(they name the path of the mismatching value inside the structure, the indices and the
values that differ).

Sessions: rill is eager, so ``cached_session()`` yields an object whose ``run(fetches)``
evaluates tensors (TF's eager stand-in), ``session()`` one that raises on use, and
``test_session()`` None, as TF does under eager execution.
"""

from __future__ import annotations

import atexit
import collections.abc
import contextlib
import json
import math
import os
import random
import re
import shutil
import tempfile
import threading
import unittest

import numpy as np

from rill.test._values import evaluate_leaf, is_ragged

__all__ = ["TestCase"]

_DEFAULT_SEED = 87654321  # the seed TF's TestCase.setUp gives Python, NumPy and TF


# --------------------------------------------------------------------------------------
# conversions
# --------------------------------------------------------------------------------------


def _is_tensorlike(x) -> bool:
    from rill.core.tensor import Tensor
    from rill.core.variables import is_variable

    return isinstance(x, Tensor) or is_variable(x)


def _to_numpy(x) -> np.ndarray:
    """``x`` as a NumPy array; nested sequences of unequal lengths become object arrays
    (of their rows), as TF's helpers make them."""
    from rill.core.tensor_shape import TensorShape

    if isinstance(x, np.ndarray):
        return x
    if _is_tensorlike(x):
        return np.asarray(x.numpy())
    if isinstance(x, TensorShape):
        return np.array(x.as_list())
    try:
        return np.asarray(x)
    except ValueError:  # ragged nesting
        out = np.empty(len(x), dtype=object)
        for i, v in enumerate(x):
            out[i] = v
        return out


def _composite_value(x):
    """Sparse and ragged tensors as their ``*Value``; anything else unchanged."""
    from rill.structures.ragged_tensor import RaggedTensor
    from rill.structures.sparse_tensor import SparseTensor

    if isinstance(x, (RaggedTensor, SparseTensor)):
        return evaluate_leaf(x)
    return x


def _as_mapping(x):
    if isinstance(x, collections.abc.Mapping):
        return x
    asdict = getattr(x, "_asdict", None)  # namedtuples compare as mappings, as in TF
    if isinstance(x, tuple) and callable(asdict):
        return asdict()
    return None


def _path_str(path) -> str:
    return "".join(f"[{p!r}]" for p in path)


def _is_text(a: np.ndarray) -> bool:
    if a.dtype.kind in "SU":
        return True
    return a.dtype.kind == "O" and any(isinstance(v, (str, bytes)) for v in a.flat)


def _text(a: np.ndarray) -> np.ndarray:
    """Text arrays with bytes decoded, so ``"a"`` and ``b"a"`` compare equal (tensors
    hold bytes, Python literals are str)."""
    out = np.empty(a.shape, dtype=object)
    flat = out.reshape(-1)
    for i, v in enumerate(a.reshape(-1).tolist()):
        flat[i] = v.decode("utf-8", "replace") if isinstance(v, bytes) else v
    return out


def _numeric(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "O":
        try:
            return a.astype(np.result_type(*[np.asarray(v).dtype for v in a.flat] or [float]))
        except (TypeError, ValueError):
            return a
    if a.dtype.kind == "V" or a.dtype.name == "bfloat16":  # ml_dtypes types: compute wider
        return a.astype(np.float64)
    return a


def _describe_mismatch(a, b, bad, limit=5, tol=None) -> str:
    idx = np.argwhere(bad)
    lines = [f"{len(idx)} of {a.size} element(s) differ"]
    for i in idx[:limit]:
        i = tuple(int(k) for k in i)
        line = f"  {list(i)}: {a[i]!r} vs {b[i]!r}"
        if tol is not None:
            line += (
                f" (|a-b| = {abs(a[i] - b[i])!r}, tolerance {tol[i] if np.ndim(tol) else tol!r})"
            )
        lines.append(line)
    if len(idx) > limit:
        lines.append(f"  ... and {len(idx) - limit} more")
    return "\n".join(lines)


def _fmt_msg(msg) -> str:
    return f" : {msg}" if msg else ""


# --------------------------------------------------------------------------------------
# sessions and threads
# --------------------------------------------------------------------------------------


class _EagerSession:
    """What ``cached_session()`` yields under eager execution: ``run`` evaluates."""

    def __init__(self, test_case):
        self._test_case = test_case

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        if feed_dict:
            raise RuntimeError(
                "feed_dict is not supported when eager execution is enabled: sess.run(t) "
                "only evaluates t (t.numpy())."
            )
        return self._test_case.evaluate(fetches)


class _SessionWarner:
    """What ``session()`` yields under eager execution: any use raises, as in TF."""

    def __getattr__(self, name):
        raise AttributeError(
            f"session().{name}: rill executes eagerly, so the object self.session() yields "
            f"cannot be used; evaluate tensors with self.evaluate(t) or t.numpy()."
        )


class _CheckedThread:
    """A thread whose exception fails the test when it is joined."""

    def __init__(self, testcase, target, args=None, kwargs=None):
        self._testcase = testcase
        self._target = target
        self._args = () if args is None else args
        self._kwargs = {} if kwargs is None else kwargs
        self._thread = threading.Thread(target=self._protected_run)
        self._exception = None
        self._is_thread_joined = False

    def _protected_run(self):
        try:
            self._target(*self._args, **self._kwargs)
        except Exception as e:  # noqa: BLE001 - reported on join
            self._exception = e

    def start(self):
        self._thread.start()

    def join(self):
        self._thread.join()
        self._is_thread_joined = True
        if self._exception is not None:
            self._testcase.fail(f"Error in checkedThread: {self._exception}")

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def check_termination(self):
        if self._is_thread_joined:
            if self.is_alive():
                raise RuntimeError("Thread was not joined with main thread, and is still running.")
        else:
            self._testcase.assertFalse(
                self.is_alive(), "A checkedThread was not joined before the test ended."
            )


class _CapturedWrites:
    def __init__(self, path):
        self._path = path

    def contents(self) -> str:
        with open(self._path, encoding="utf-8", errors="replace") as f:
            return f.read()


class _TempDir:
    """A directory made by ``create_tempdir``."""

    def __init__(self, path):
        self.full_path = path

    def __fspath__(self):
        return self.full_path

    def create_file(self, file_path=None, content=None, mode="w", encoding="utf8", errors="strict"):
        path = os.path.join(self.full_path, file_path) if file_path else None
        return _make_tempfile(self.full_path, path, content, mode, encoding, errors)

    def mkdir(self, dir_path=None):
        path = (
            os.path.join(self.full_path, dir_path)
            if dir_path
            else tempfile.mkdtemp(dir=self.full_path)
        )
        os.makedirs(path, exist_ok=True)
        return _TempDir(path)


class _TempFile:
    """A file made by ``create_tempfile``."""

    def __init__(self, path):
        self.full_path = path

    def __fspath__(self):
        return self.full_path

    def read_text(self, encoding="utf8", errors="strict") -> str:
        with open(self.full_path, encoding=encoding, errors=errors) as f:
            return f.read()

    def read_bytes(self) -> bytes:
        with open(self.full_path, "rb") as f:
            return f.read()

    def write_text(self, text, mode="w", encoding="utf8", errors="strict"):
        with open(self.full_path, mode, encoding=encoding, errors=errors) as f:
            f.write(text)

    def write_bytes(self, data, mode="wb"):
        with open(self.full_path, mode) as f:
            f.write(data)


def _make_tempfile(base, path, content, mode, encoding, errors):
    if path is None:
        fd, path = tempfile.mkstemp(dir=base)
        os.close(fd)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    f = _TempFile(path)
    if content is None:
        content = b"" if "b" in mode else ""
    if isinstance(content, bytes):
        f.write_bytes(content, mode if "b" in mode else "wb")
    else:
        f.write_text(content, mode, encoding, errors)
    return f


_base_tmp = [None]


def _base_temp_dir() -> str:
    """``$TEST_TMPDIR`` if set, else one directory per process, removed at exit."""
    env = os.environ.get("TEST_TMPDIR")
    if env:
        os.makedirs(env, exist_ok=True)
        return env
    if _base_tmp[0] is None:
        _base_tmp[0] = tempfile.mkdtemp(prefix="rill_test_")
        atexit.register(shutil.rmtree, _base_tmp[0], True)
    return _base_tmp[0]


# --------------------------------------------------------------------------------------
# TestCase
# --------------------------------------------------------------------------------------


class TestCase(unittest.TestCase):
    """``unittest.TestCase`` with TensorFlow's helpers (``tf.test.TestCase``)."""

    def __init__(self, methodName="runTest"):  # noqa: N803 - unittest's name
        super().__init__(methodName)
        self._threads = []
        self._tempdir = None

    # setup -----------------------------------------------------------------------------
    def setUp(self):
        """Seed Python's, NumPy's and rill's random generators with TF's test seed, so
        that random tests are reproducible run to run."""
        super().setUp()
        from rill.ops.random_ops import set_seed

        random.seed(_DEFAULT_SEED)
        np.random.seed(_DEFAULT_SEED)
        set_seed(_DEFAULT_SEED)

    def tearDown(self):
        """Fail if a ``checkedThread`` was started and not joined."""
        for t in self._threads:
            t.check_termination()
        super().tearDown()

    def get_temp_dir(self) -> str:
        """A directory for this test, the same on every call (removed at exit unless
        ``$TEST_TMPDIR`` is set)."""
        if self._tempdir is None:
            self._tempdir = tempfile.mkdtemp(dir=_base_temp_dir())
        return self._tempdir

    def create_tempdir(self, name=None, cleanup=None) -> _TempDir:
        """A new directory (named ``name`` inside this test's directory), removed when
        the test ends."""
        base = self.get_temp_dir()
        path = os.path.join(base, name) if name else tempfile.mkdtemp(dir=base)
        os.makedirs(path, exist_ok=True)
        self.addCleanup(shutil.rmtree, path, True)
        return _TempDir(path)

    def create_tempfile(
        self, file_path=None, content=None, mode="w", encoding="utf8", errors="strict",
        cleanup=None,
    ) -> _TempFile:  # fmt: skip
        """A new file (at ``file_path`` inside this test's directory) holding
        ``content``, removed when the test ends."""
        base = self.get_temp_dir()
        path = os.path.join(base, file_path) if file_path else None
        f = _make_tempfile(base, path, content, mode, encoding, errors)
        self.addCleanup(lambda: os.path.exists(f.full_path) and os.remove(f.full_path))
        return f

    def enter_context(self, manager):
        """Enter a context manager for the rest of the test; it exits at cleanup."""
        value = manager.__enter__()
        self.addCleanup(manager.__exit__, None, None, None)
        return value

    def checkedThread(self, target, args=None, kwargs=None) -> _CheckedThread:  # noqa: N802
        """A thread running ``target``: an exception in it fails the test at ``join``,
        and a thread not joined fails it at ``tearDown``."""
        t = _CheckedThread(self, target, args, kwargs)
        self._threads.append(t)
        return t

    @contextlib.contextmanager
    def captureWritesToStream(self, stream):  # noqa: N802
        """Capture what is written to ``stream`` (``sys.stdout``/``sys.stderr``) in the
        block, by Python code and by C code alike: ``.contents()`` afterwards."""
        fd, path = tempfile.mkstemp(dir=self.get_temp_dir())
        try:
            fileno = stream.fileno()
        except (AttributeError, OSError, ValueError):
            fileno = None
        stream.flush()
        if fileno is not None:
            saved = os.dup(fileno)
            os.dup2(fd, fileno)
            try:
                yield _CapturedWrites(path)
            finally:
                stream.flush()
                os.dup2(saved, fileno)
                os.close(saved)
                os.close(fd)
        else:  # a Python-only stream (io.StringIO): capture its writes
            os.close(fd)
            original = stream.write
            with open(path, "w", encoding="utf-8") as sink:
                stream.write = sink.write
                try:
                    yield _CapturedWrites(path)
                finally:
                    stream.write = original

    # sessions --------------------------------------------------------------------------
    @contextlib.contextmanager
    def cached_session(self, graph=None, config=None, use_gpu=True, force_gpu=False):
        """Yields an object whose ``run(fetches)`` evaluates tensors (rill is eager)."""
        yield _EagerSession(self)

    @contextlib.contextmanager
    def session(self, graph=None, config=None, use_gpu=True, force_gpu=False):
        """Under eager execution TF yields an object that raises on any use; so does
        rill. The block itself runs."""
        yield _SessionWarner()

    @contextlib.contextmanager
    def _test_session(self, graph=None, config=None, use_gpu=True, force_gpu=False):
        """Deprecated in TF for ``session``/``cached_session``; yields None eagerly."""
        yield None

    # A property, so that unittest and pytest do not collect "test_session" as a test
    # (its name starts with "test"): ``self.test_session()`` still works.
    test_session = property(lambda self: self._test_session, doc=_test_session.__doc__)

    def evaluate(self, tensors):
        """Tensors (in any nested structure) to NumPy values: arrays and NumPy scalars,
        ``SparseTensorValue`` and ``RaggedTensorValue`` for composite tensors."""
        from rill import nest

        return nest.map_structure(evaluate_leaf, tensors)

    def evaluate_if_both_tensors(self, a, b):
        """``(evaluate(a), evaluate(b))`` if both are tensors, else ``(a, b)``."""
        if _is_tensorlike(a) and _is_tensorlike(b):
            return self.evaluate(a), self.evaluate(b)
        return a, b

    # closeness -------------------------------------------------------------------------
    def _assert_array_close(self, a, b, rtol, atol, path, msg):
        a, b = _to_numpy(a), _to_numpy(b)
        where = _path_str(path)
        if a.shape != b.shape:
            raise AssertionError(
                f"Shape mismatch at a{where} vs b{where}: expected {a.shape}, got "
                f"{b.shape} with contents {b}.{_fmt_msg(msg)}"
            )
        if a.dtype == b.dtype and a.dtype.kind == "b":  # NumPy cannot subtract booleans
            try:
                if np.array_equal(a, b):
                    return
            except (TypeError, ValueError):
                pass
        a, b = _numeric(a), _numeric(b)
        try:
            close = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
        except TypeError as e:
            raise TypeError(
                f"Cannot compare a{where} ({a.dtype}) and b{where} ({b.dtype}) with "
                f"tolerances: {e}{_fmt_msg(msg)}"
            ) from None
        if not np.all(close):
            with np.errstate(all="ignore"):
                tol = atol + rtol * np.abs(b)
            raise AssertionError(
                f"Not close (rtol={rtol}, atol={atol}): a{where} differs from b{where}, "
                f"dtype {a.dtype} vs {b.dtype}, shape {a.shape}: "
                f"{_describe_mismatch(a, b, ~close, tol=tol)}{_fmt_msg(msg)}"
            )

    def _assert_all_close(self, a, b, rtol, atol, path, msg):
        a, b = _composite_value(a), _composite_value(b)
        if is_ragged(a) or is_ragged(b):
            a = a.to_list() if is_ragged(a) else a
            b = b.to_list() if is_ragged(b) else b
            return self._assert_list_close(a, b, rtol, atol, path, msg)
        am, bm = _as_mapping(a), _as_mapping(b)
        if am is not None or bm is not None:
            if am is None or bm is None:
                raise ValueError(
                    f"Can't compare a mapping to a non-mapping: a{_path_str(path)} is "
                    f"{type(a).__name__}, b{_path_str(path)} is {type(b).__name__}."
                    f"{_fmt_msg(msg)}"
                )
            if set(am) != set(bm):
                raise AssertionError(
                    f"Mismatched keys at a{_path_str(path)}: a has {sorted(map(str, am))}, "
                    f"b has {sorted(map(str, bm))}.{_fmt_msg(msg)}"
                )
            for k in am:
                self._assert_all_close(am[k], bm[k], rtol, atol, [*path, k], msg)
            return None
        if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
            return self._assert_list_close(a, b, rtol, atol, path, msg)
        return self._assert_array_close(a, b, rtol, atol, path, msg)

    def _assert_list_close(self, a, b, rtol, atol, path, msg):
        a_arr, b_arr = _to_numpy(a), _to_numpy(b)
        if a_arr.dtype != object and b_arr.dtype != object:
            return self._assert_array_close(a_arr, b_arr, rtol, atol, path, msg)
        if not isinstance(a, (list, tuple)) or not isinstance(b, (list, tuple)):
            return self._assert_array_close(a_arr, b_arr, rtol, atol, path, msg)
        if len(a) != len(b):
            raise AssertionError(
                f"Length differs at a{_path_str(path)}: {len(a)} vs {len(b)}.{_fmt_msg(msg)}"
            )
        for i, (x, y) in enumerate(zip(a, b)):
            self._assert_all_close(x, y, rtol, atol, [*path, i], msg)
        return None

    def assertAllClose(self, a, b, rtol=1e-6, atol=1e-6, msg=None):  # noqa: N802
        """``|a - b| <= atol + rtol * |b|`` elementwise (NaNs equal), with equal shapes.
        ``a`` and ``b`` may be nested dicts, lists, tuples and namedtuples of tensors,
        arrays and numbers, or ragged and sparse tensors."""
        self._assert_all_close(a, b, rtol, atol, [], msg)

    def assertAllCloseAccordingToType(  # noqa: N802
        self, a, b, rtol=1e-6, atol=1e-6, float_rtol=1e-6, float_atol=1e-6,
        half_rtol=1e-3, half_atol=1e-3, bfloat16_rtol=1e-2, bfloat16_atol=1e-2, msg=None,
    ):  # fmt: skip
        """``assertAllClose`` with tolerances widened by the less precise dtype of the
        two: float32/complex64 (``float_*``), float16 (``half_*``), bfloat16."""
        a_arr, b_arr = _to_numpy(a), _to_numpy(b)
        kinds = {a_arr.dtype.name, b_arr.dtype.name}
        if kinds & {"float32", "complex64"}:
            rtol, atol = max(rtol, float_rtol), max(atol, float_atol)
        if "float16" in kinds:
            rtol, atol = max(rtol, half_rtol), max(atol, half_atol)
        if "bfloat16" in kinds:
            rtol, atol = max(rtol, bfloat16_rtol), max(atol, bfloat16_atol)
        self.assertAllClose(a_arr, b_arr, rtol=rtol, atol=atol, msg=msg)

    def assertNotAllClose(self, a, b, rtol=1e-6, atol=1e-6, msg=None):  # noqa: N802
        """Fails if ``assertAllClose(a, b)`` would pass."""
        try:
            self.assertAllClose(a, b, rtol=rtol, atol=atol, msg=msg)
        except AssertionError:
            return
        raise AssertionError(f"The two values are close at all elements.{_fmt_msg(msg)}")

    # equality --------------------------------------------------------------------------
    def assertAllEqual(self, a, b, msg=None):  # noqa: N802
        """Equal shapes and equal elements (NaNs equal each other; text compares as
        text, bytes or str). Ragged values compare as nested lists."""
        a, b = _composite_value(a), _composite_value(b)
        if is_ragged(a) or is_ragged(b):
            a = a.to_list() if is_ragged(a) else a
            b = b.to_list() if is_ragged(b) else b
            self.assertEqual(a, b, msg)
            return
        a, b = _to_numpy(a), _to_numpy(b)
        if a.shape != b.shape:
            raise AssertionError(
                f"Shape mismatch: expected {a.shape}, got {b.shape} with contents {b!r}."
                f"{_fmt_msg(msg)}"
            )
        if _is_text(a) or _is_text(b):
            a, b = _text(a), _text(b)
        same = np.asarray(a == b)
        if same.shape != a.shape:  # elementwise comparison fell back to one bool
            same = np.full(a.shape, bool(same))
        for x in (a, b):
            if x.dtype.kind in "fc":
                nan_a = np.isnan(a) if a.dtype.kind in "fc" else False
                nan_b = np.isnan(b) if b.dtype.kind in "fc" else False
                same = same | (nan_a & nan_b)
                break
        if not np.all(same):
            raise AssertionError(
                f"Arrays are not equal, shape {a.shape}: "
                f"{_describe_mismatch(a, b, ~same.astype(bool))}{_fmt_msg(msg)}"
            )

    def assertNotAllEqual(self, a, b, msg=None):  # noqa: N802
        """Fails if ``assertAllEqual(a, b)`` would pass."""
        try:
            self.assertAllEqual(a, b, msg)
        except AssertionError:
            return
        raise AssertionError(f"The two values are equal at all elements.{_fmt_msg(msg)}")

    def assertDictEqual(self, a, b, msg=None):  # noqa: N802
        """Dicts with the same keys whose values are equal: floating-point values by
        ``assertAllClose``, others by ``assertAllEqual``."""
        try:
            super().assertDictEqual(a, b, msg)
            return
        except (AssertionError, ValueError, TypeError):
            pass
        self.assertIsInstance(a, collections.abc.Mapping, msg)
        self.assertIsInstance(b, collections.abc.Mapping, msg)
        missing, extra = [k for k in a if k not in b], [k for k in b if k not in a]
        if missing or extra:
            raise AssertionError(
                f"Dict keys differ: missing from b {missing}, unexpected in b {extra}."
                f"{_fmt_msg(msg)}"
            )
        for k in a:
            x, y = _to_numpy(a[k]), _to_numpy(b[k])
            if x.dtype.kind in "fc" and y.dtype.kind in "fc":
                self.assertAllClose(x, y, msg=f"key {k!r}" + _fmt_msg(msg))
            else:
                self.assertAllEqual(x, y, msg=f"key {k!r}" + _fmt_msg(msg))

    # ranges and sets -------------------------------------------------------------------
    def assertAllGreater(self, a, comparison_target):  # noqa: N802
        """Every element of ``a`` > ``comparison_target`` (a scalar)."""
        self.assertGreater(np.min(_to_numpy(a)), comparison_target)

    def assertAllGreaterEqual(self, a, comparison_target):  # noqa: N802
        self.assertGreaterEqual(np.min(_to_numpy(a)), comparison_target)

    def assertAllLess(self, a, comparison_target):  # noqa: N802
        self.assertLess(np.max(_to_numpy(a)), comparison_target)

    def assertAllLessEqual(self, a, comparison_target):  # noqa: N802
        self.assertLessEqual(np.max(_to_numpy(a)), comparison_target)

    def assertAllInRange(  # noqa: N802
        self, target, lower_bound, upper_bound, open_lower_bound=False, open_upper_bound=False
    ):
        """Every element of a real-valued ``target`` lies in the range (closed by
        default at both ends); NaNs fail."""
        t = _to_numpy(target)
        if not (np.issubdtype(t.dtype, np.floating) or np.issubdtype(t.dtype, np.integer)):
            raise AssertionError(
                f"The value of {target!r} does not have an ordered numeric type: {t.dtype}."
            )
        nans = np.isnan(t) if t.dtype.kind == "f" else np.zeros(t.shape, bool)
        if np.any(nans):
            raise AssertionError(
                f"{int(nans.sum())} of the {t.size} element(s) are NaN, at "
                f"{np.argwhere(nans).tolist()[:10]}."
            )
        below = t <= lower_bound if open_lower_bound else t < lower_bound
        above = t >= upper_bound if open_upper_bound else t > upper_bound
        bad = below | above
        if np.any(bad):
            lo = "(" if open_lower_bound else "["
            hi = ")" if open_upper_bound else "]"
            idx = np.argwhere(bad)[:10]
            shown = ", ".join(f"{list(map(int, i))}: {t[tuple(i)]!r}" for i in idx)
            raise AssertionError(
                f"{int(bad.sum())} of the {t.size} element(s) are outside the range "
                f"{lo}{lower_bound}, {upper_bound}{hi}: {shown}"
            )

    def assertAllInSet(self, target, expected_set):  # noqa: N802
        """Every element of ``target`` is in ``expected_set``."""
        t = _to_numpy(target)
        allowed = set(expected_set)
        missing = [v for v in np.unique(t).tolist() if v not in allowed]
        if missing:
            raise AssertionError(
                f"{len(missing)} unique element(s) are not in the set {allowed}: {missing}"
            )

    # nearness --------------------------------------------------------------------------
    def assertNear(self, f1, f2, err, msg=None):  # noqa: N802
        """``|f1 - f2| <= err`` (or ``f1 == f2``, so infinities compare)."""
        ok = f1 == f2 or math.fabs(f1 - f2) <= err
        if not ok:
            raise AssertionError(
                f"{f1!r} != {f2!r} +/- {err!r} (difference {math.fabs(f1 - f2)!r}){_fmt_msg(msg)}"
            )

    def assertArrayNear(self, farray1, farray2, err, msg=None):  # noqa: N802
        """Two equally long lists of floats, ``assertNear`` element by element."""
        self.assertEqual(len(farray1), len(farray2), msg=msg)
        for f1, f2 in zip(farray1, farray2):
            self.assertNear(float(f1), float(f2), err, msg=msg)

    def assertNDArrayNear(self, ndarray1, ndarray2, err, msg=None):  # noqa: N802
        """The Euclidean norm of ``ndarray1 - ndarray2`` (broadcast) is below ``err``."""
        try:
            diff = np.linalg.norm(_to_numpy(ndarray1) - _to_numpy(ndarray2))
        except ValueError as e:
            raise AssertionError(f"Cannot subtract the arrays: {e}{_fmt_msg(msg)}") from None
        if not diff < err:
            raise AssertionError(f"||a - b|| = {diff!r} is not below {err!r}{_fmt_msg(msg)}")

    # shapes, dtypes, devices -----------------------------------------------------------
    def assertShapeEqual(self, input_a, input_b, msg=None):  # noqa: N802
        """``input_a`` (an array or tensor) and ``input_b`` (a tensor or array) have the
        same shape."""
        for name, x in (("input_a", input_a), ("input_b", input_b)):
            if not (isinstance(x, (np.ndarray, np.generic)) or _is_tensorlike(x)):
                raise TypeError(f"{name} must be a NumPy ndarray, a NumPy scalar or a Tensor.")
        self.assertAllEqual(list(np.shape(input_a)), list(input_b.shape), msg=msg)

    def assertDTypeEqual(self, target, expected_dtype):  # noqa: N802
        """``target``'s NumPy dtype is ``expected_dtype`` (a NumPy dtype, a name or a
        rill DType)."""
        from rill.core.dtypes import DType

        if isinstance(expected_dtype, DType):
            expected_dtype = expected_dtype.as_numpy_dtype
        actual = _to_numpy(target).dtype
        if actual != np.dtype(expected_dtype):
            raise AssertionError(f"dtype {actual!r} != {expected_dtype!r}")

    def assertDeviceEqual(self, device1, device2, msg=None):  # noqa: N802
        """The two device names are the same device in canonical form ("/cpu:0" equals
        "/device:CPU:0"; parts one name leaves out are not filled in)."""
        from rill.core.runtime import canonical_device

        d1, d2 = canonical_device(device1), canonical_device(device2)
        if d1 != d2:
            raise AssertionError(f"Devices {d1} and {d2} are not equal.{_fmt_msg(msg)}")

    # exceptions ------------------------------------------------------------------------
    @contextlib.contextmanager
    def assertRaisesWithPredicateMatch(self, exception_type, expected_err_re_or_predicate):  # noqa: N802
        """The block raises ``exception_type`` and the exception satisfies the predicate
        (a callable) or its message matches the regex (``re.search``)."""
        pred = expected_err_re_or_predicate
        if callable(pred):
            predicate, wanted = pred, "the predicate"
        else:
            pattern = re.compile(pred)
            predicate, wanted = (lambda e: pattern.search(str(e)) is not None), repr(pred)
        names = (
            exception_type.__name__
            if isinstance(exception_type, type)
            else " or ".join(t.__name__ for t in exception_type)
        )
        try:
            yield
        except Exception as e:  # noqa: BLE001 - any other exception fails the test
            if isinstance(e, exception_type) and predicate(e):
                return
            raise AssertionError(
                f"Expected {names} matching {wanted}; got {type(e).__name__}: {e}"
            ) from e
        raise AssertionError(f"{names} not raised")

    def assertRaisesOpError(self, expected_err_re_or_predicate):  # noqa: N802
        """The block raises an ``OpError`` (e.g. ``InvalidArgumentError``) matching."""
        from rill.core.errors import OpError

        return self.assertRaisesWithPredicateMatch(OpError, expected_err_re_or_predicate)

    def assertRaisesIncompatibleShapesError(self, exception_type=None):  # noqa: N802
        """The block raises an error about shapes that do not broadcast."""
        if exception_type is None:
            from rill.core.errors import InvalidArgumentError as exception_type
        return self.assertRaisesWithPredicateMatch(
            exception_type,
            r"Incompatible shapes|Dimensions must be equal|required broadcastable shapes",
        )

    def assertRaisesRegexp(self, expected_exception, expected_regex, *args, **kwargs):  # noqa: N802
        """Deprecated alias of ``assertRaisesRegex``."""
        return self.assertRaisesRegex(expected_exception, expected_regex, *args, **kwargs)

    def assertRaisesWithLiteralMatch(  # noqa: N802
        self, expected_exception, expected_exception_message, callable_obj=None, *args, **kwargs
    ):
        """The exception's message equals ``expected_exception_message`` exactly."""
        ctx = self.assertRaises(expected_exception)

        @contextlib.contextmanager
        def check():
            with ctx:
                yield
            actual = str(ctx.exception)
            if actual != expected_exception_message:
                raise AssertionError(
                    f"Exception message does not match.\nExpected: "
                    f"{expected_exception_message!r}\nActual: {actual!r}"
                )

        if callable_obj is None:
            return check()
        with check():
            callable_obj(*args, **kwargs)
        return None

    # protocol buffers ------------------------------------------------------------------
    def assertProtoEquals(  # noqa: N802
        self, expected_message_maybe_ascii, validate_message, msg=None, relative_tolerance=None
    ):
        """``validate_message`` equals the expected protocol buffer, given as a message
        of the same type or in text format. With ``relative_tolerance``, floating-point
        fields compare within it. Needs the ``protobuf`` package."""
        from google.protobuf import text_format

        expected = expected_message_maybe_ascii
        if isinstance(expected, (str, bytes)):
            text = expected.decode() if isinstance(expected, bytes) else expected
            expected = type(validate_message)()
            text_format.Merge(text, expected)
        elif type(expected) is not type(validate_message):
            raise TypeError(
                f"Can't compare a {type(expected).__name__} to a {type(validate_message).__name__}."
            )
        if relative_tolerance is None:
            same = expected == validate_message
        else:
            same = _proto_close(expected, validate_message, relative_tolerance)
        if not same:
            raise AssertionError(
                f"Protocol buffers differ.\nExpected:\n{text_format.MessageToString(expected)}"
                f"Actual:\n{text_format.MessageToString(validate_message)}{_fmt_msg(msg)}"
            )

    # strings, containers (absltest's helpers) ------------------------------------------
    def assertStartsWith(self, actual, expected_start, msg=None):  # noqa: N802
        if not actual.startswith(expected_start):
            self.fail(f"{actual!r} does not start with {expected_start!r}{_fmt_msg(msg)}")

    def assertNotStartsWith(self, actual, unexpected_start, msg=None):  # noqa: N802
        if actual.startswith(unexpected_start):
            self.fail(f"{actual!r} does start with {unexpected_start!r}{_fmt_msg(msg)}")

    def assertEndsWith(self, actual, expected_end, msg=None):  # noqa: N802
        if not actual.endswith(expected_end):
            self.fail(f"{actual!r} does not end with {expected_end!r}{_fmt_msg(msg)}")

    def assertNotEndsWith(self, actual, unexpected_end, msg=None):  # noqa: N802
        if actual.endswith(unexpected_end):
            self.fail(f"{actual!r} does end with {unexpected_end!r}{_fmt_msg(msg)}")

    def assertLen(self, container, expected_len, msg=None):  # noqa: N802
        try:
            n = len(container)
        except TypeError:
            self.fail(f"{container!r} has no length{_fmt_msg(msg)}")
        if n != expected_len:
            self.fail(f"{container!r} has length of {n}, expected {expected_len}.{_fmt_msg(msg)}")

    def assertEmpty(self, container, msg=None):  # noqa: N802
        if len(container):
            self.fail(f"{container!r} has length of {len(container)}.{_fmt_msg(msg)}")

    def assertNotEmpty(self, container, msg=None):  # noqa: N802
        if not len(container):
            self.fail(f"{container!r} has length of 0.{_fmt_msg(msg)}")

    def assertBetween(self, value, minv, maxv, msg=None):  # noqa: N802
        if not minv <= value <= maxv:
            self.fail(f"{value!r} is not between {minv!r} and {maxv!r}{_fmt_msg(msg)}")

    def assertItemsEqual(self, first, second, msg=None):  # noqa: N802
        """Same elements, in any order (``assertCountEqual``)."""
        self.assertCountEqual(first, second, msg)

    def assertSameElements(self, expected_seq, actual_seq, msg=None):  # noqa: N802
        """The same set of elements, ignoring order and repetitions."""
        missing = [x for x in expected_seq if x not in actual_seq]
        extra = [x for x in actual_seq if x not in expected_seq]
        if missing or extra:
            self.fail(f"Expected, but missing: {missing}; unexpected: {extra}{_fmt_msg(msg)}")

    def assertContainsSubset(self, expected_subset, actual_set, msg=None):  # noqa: N802
        missing = [x for x in expected_subset if x not in actual_set]
        if missing:
            self.fail(f"Missing elements {missing}{_fmt_msg(msg)}")

    def assertNoCommonElements(self, expected_seq, actual_seq, msg=None):  # noqa: N802
        common = [x for x in expected_seq if x in actual_seq]
        if common:
            self.fail(f"Common elements {common}{_fmt_msg(msg)}")

    def assertSequenceStartsWith(self, prefix, whole, msg=None):  # noqa: N802
        if list(whole[: len(prefix)]) != list(prefix):
            self.fail(f"{whole!r} does not start with {prefix!r}{_fmt_msg(msg)}")

    def assertContainsInOrder(self, strings, target, msg=None):  # noqa: N802
        """Each string occurs in ``target`` after the previous one."""
        if isinstance(strings, (str, bytes)):
            strings = (strings,)
        pos = 0
        for s in strings:
            i = target.find(s, pos)
            if i == -1:
                self.fail(f"Did not find {s!r} in order in {target!r}{_fmt_msg(msg)}")
            pos = i + len(s)

    def assertContainsSubsequence(self, container, subsequence, msg=None):  # noqa: N802
        """The elements of ``subsequence`` occur in ``container`` in order, with gaps."""
        it = iter(container)
        for x in subsequence:
            if not any(x == y for y in it):
                self.fail(f"{subsequence!r} is not a subsequence of {container!r}{_fmt_msg(msg)}")

    def assertContainsExactSubsequence(self, container, subsequence, msg=None):  # noqa: N802
        """``subsequence`` occurs in ``container`` contiguously."""
        c, s = list(container), list(subsequence)
        if not any(c[i : i + len(s)] == s for i in range(len(c) - len(s) + 1)):
            self.fail(f"{s!r} is not a contiguous part of {c!r}{_fmt_msg(msg)}")

    def assertRegexMatch(self, actual_str, regexes, message=None):  # noqa: N802
        """``actual_str`` matches at least one of ``regexes`` (``re.search``)."""
        if isinstance(regexes, (str, bytes)):
            raise AssertionError("regexes is a string; it must be a list of strings.")
        if not regexes:
            raise AssertionError("No regexes specified.")
        if not any(re.search(r, actual_str) for r in regexes):
            self.fail(message or f"{actual_str!r} does not match any of {list(regexes)!r}")

    def assertIsSubclass(self, cls, superclass, msg=None):  # noqa: N802
        if not issubclass(cls, superclass):
            self.fail(f"{cls!r} is not a subclass of {superclass!r}{_fmt_msg(msg)}")

    def assertNotIsSubclass(self, cls, superclass, msg=None):  # noqa: N802
        if issubclass(cls, superclass):
            self.fail(f"{cls!r} is a subclass of {superclass!r}{_fmt_msg(msg)}")

    def assertSameStructure(self, a, b, aname="a", bname="b", msg=None):  # noqa: N802
        """Nested dicts and lists with the same structure and equal leaves."""
        problems = []
        _structure_diff(a, b, aname, bname, problems)
        if problems:
            self.fail("; ".join(problems) + _fmt_msg(msg))

    def assertJsonEqual(self, first, second, msg=None):  # noqa: N802
        """Two JSON strings that decode to equal values."""
        try:
            a, b = json.loads(first), json.loads(second)
        except ValueError as e:
            self.fail(f"Could not decode JSON: {e}{_fmt_msg(msg)}")
        self.assertEqual(a, b, msg)

    def assertDictContainsSubset(self, subset, dictionary, msg=None):  # noqa: N802
        missing = [k for k in subset if k not in dictionary]
        wrong = [k for k in subset if k in dictionary and dictionary[k] != subset[k]]
        if missing or wrong:
            self.fail(f"Missing keys {missing}, mismatched values for {wrong}{_fmt_msg(msg)}")

    def assertSequenceAlmostEqual(
        self, expected_seq, actual_seq, places=None, msg=None, delta=None
    ):  # noqa: N802
        self.assertEqual(len(expected_seq), len(actual_seq), msg)
        for e, a in zip(expected_seq, actual_seq):
            self.assertAlmostEqual(e, a, places=places, msg=msg, delta=delta)

    def assertDictAlmostEqual(self, a, b, places=None, msg=None, delta=None):  # noqa: N802
        self.assertEqual(set(a), set(b), msg)
        for k in a:
            self.assertAlmostEqual(a[k], b[k], places=places, msg=msg, delta=delta)


def _structure_diff(a, b, aname, bname, problems):
    if isinstance(a, collections.abc.Mapping) and isinstance(b, collections.abc.Mapping):
        for k in a:
            if k in b:
                _structure_diff(a[k], b[k], f"{aname}[{k!r}]", f"{bname}[{k!r}]", problems)
            else:
                problems.append(f"{aname} has [{k!r}] with value {a[k]!r} but {bname} does not")
        for k in b:
            if k not in a:
                problems.append(f"{aname} lacks [{k!r}] but {bname} has it with value {b[k]!r}")
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        for i in range(max(len(a), len(b))):
            if i < len(a) and i < len(b):
                _structure_diff(a[i], b[i], f"{aname}[{i}]", f"{bname}[{i}]", problems)
            elif i < len(a):
                problems.append(f"{aname} has [{i}] with value {a[i]!r} but {bname} does not")
            else:
                problems.append(f"{aname} lacks [{i}] but {bname} has it with value {b[i]!r}")
    elif type(a) is not type(b) and not (
        isinstance(a, (int, float)) and isinstance(b, (int, float))
    ):
        problems.append(f"{aname} is a {type(a).__name__} but {bname} is a {type(b).__name__}")
    elif a != b:
        problems.append(f"{aname} is {a!r} but {bname} is {b!r}")


def _proto_close(a, b, rtol) -> bool:
    """Messages equal, floating-point fields within a relative tolerance."""
    from google.protobuf.descriptor import FieldDescriptor

    if type(a) is not type(b):
        return False
    fa = {f.name: (f, v) for f, v in a.ListFields()}
    fb = {f.name: (f, v) for f, v in b.ListFields()}
    if set(fa) != set(fb):
        return False
    for name, (field, va) in fa.items():
        vb = fb[name][1]
        repeated = getattr(field, "is_repeated", None)
        if repeated is None:  # protobuf before 5.28
            repeated = field.label == FieldDescriptor.LABEL_REPEATED
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.message_type.GetOptions().map_entry:
                if set(va) != set(vb):
                    return False
                pairs = [(va[k], vb[k]) for k in va]
            elif repeated:
                if len(va) != len(vb):
                    return False
                pairs = list(zip(va, vb))
            else:
                pairs = [(va, vb)]
            for x, y in pairs:
                if hasattr(x, "ListFields"):
                    if not _proto_close(x, y, rtol):
                        return False
                elif not _value_close(x, y, rtol):
                    return False
        else:
            xs, ys = (list(va), list(vb)) if repeated else ([va], [vb])
            if len(xs) != len(ys) or not all(_value_close(x, y, rtol) for x, y in zip(xs, ys)):
                return False
    return True


def _value_close(x, y, rtol) -> bool:
    if isinstance(x, float) or isinstance(y, float):
        return math.isclose(x, y, rel_tol=rtol) or (math.isnan(x) and math.isnan(y))
    return x == y
