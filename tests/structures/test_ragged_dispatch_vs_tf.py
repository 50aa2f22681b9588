"""Every op TensorFlow dispatches for RaggedTensor arguments, called on ragged tensors in
rill and in TF 2.21: the same values (or, for random ops, the same row partition).

The op list is TF's own (``ragged_dispatch.ragged_op_list()``), so the test follows TF;
it is skipped without TensorFlow. Ops rill does not dispatch yet are listed in MISSING,
xfailed strictly: one that starts working fails the test until it is removed from there.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import rill as tf

TF = pytest.importorskip("tensorflow")
from tensorflow.python.ops.ragged import ragged_dispatch  # noqa: E402

DATA = {
    "float": [[0.5, 0.25], [0.75], []],
    "int": [[1, 2], [3], []],
    "bool": [[True, False], [True], []],
    "str": [[b"ab", b"Cd"], [b" e "], []],
}
# ops whose arguments are not just "the ragged tensor(s), defaults for the rest":
# name -> (data kind, fn(lib, rt) -> result)
SPECIAL = {
    "bitcast": ("float", lambda lib, r: lib.bitcast(r, lib.int32)),
    "cast": ("float", lambda lib, r: lib.cast(r, lib.int32)),
    "dtypes.saturate_cast": ("float", lambda lib, r: lib.dtypes.saturate_cast(r, lib.int32)),
    "clip_by_value": ("float", lambda lib, r: lib.clip_by_value(r, 0.3, 0.6)),
    "concat": ("float", lambda lib, r: lib.concat([r, r], axis=0)),
    "stack": ("float", lambda lib, r: lib.stack([r, r])),
    "debugging.check_numerics": ("float", lambda lib, r: lib.debugging.check_numerics(r, "m")),
    "dynamic_partition": (
        "float",
        lambda lib, r: lib.dynamic_partition(r, lib.constant([0, 1, 0]), 2),
    ),
    "expand_dims": ("float", lambda lib, r: lib.expand_dims(r, 0)),
    "gather": ("float", lambda lib, r: lib.gather(r, [2, 0, 0])),
    "gather_nd": ("float", lambda lib, r: lib.gather_nd(r, [[0, 1], [1, 0]])),
    "one_hot": ("int", lambda lib, r: lib.one_hot(r, 4)),
    "reverse": ("float", lambda lib, r: lib.reverse(r, [0])),
    "reshape": ("float", lambda lib, r: lib.reshape(r, [-1])),
    "split": ("float", lambda lib, r: lib.split(r, 3)),
    "squeeze": ("float", lambda lib, r: lib.squeeze(lib.expand_dims(r, 0), [0])),
    "tile": ("float", lambda lib, r: lib.tile(r, [2, 1])),
    "where": ("float", lambda lib, r: lib.where(r > 0.4, r, r * 0.0)),
    "strings.format": ("str", lambda lib, r: lib.strings.format("{}", [r])),
    "strings.join": ("str", lambda lib, r: lib.strings.join([r, r], separator="-")),
    "strings.regex_full_match": ("str", lambda lib, r: lib.strings.regex_full_match(r, "a.")),
    "strings.regex_replace": ("str", lambda lib, r: lib.strings.regex_replace(r, "[aC]", "x")),
    "strings.substr": ("str", lambda lib, r: lib.strings.substr(r, 0, 1)),
    "strings.to_hash_bucket_fast": ("str", lambda lib, r: lib.strings.to_hash_bucket_fast(r, 7)),
    "strings.to_hash_bucket_strong": (
        "str",
        lambda lib, r: lib.strings.to_hash_bucket_strong(r, 7, [1, 2]),
    ),
    "strings.to_hash_bucket": ("str", lambda lib, r: lib.strings.to_hash_bucket(r, 7)),
    "strings.to_number": (
        "str",
        lambda lib, r: lib.strings.to_number(lib.ragged.constant([["1.5", "2"], []])),
    ),
    "strings.unicode_transcode": (
        "str",
        lambda lib, r: lib.strings.unicode_transcode(r, "UTF-8", "UTF-16-BE"),
    ),
    "io.decode_base64": ("str", lambda lib, r: lib.io.decode_base64(lib.io.encode_base64(r))),
    "io.decode_compressed": ("str", lambda lib, r: lib.io.decode_compressed(r)),
    "math.reduce_all": ("bool", lambda lib, r: lib.math.reduce_all(r, axis=1)),
    "math.reduce_any": ("bool", lambda lib, r: lib.math.reduce_any(r, axis=1)),
    "math.unsorted_segment_max": (
        "float",
        lambda lib, r: lib.math.unsorted_segment_max(r, lib.constant([1, 0, 1]), 3),
    ),
    "math.unsorted_segment_mean": (
        "float",
        lambda lib, r: lib.math.unsorted_segment_mean(r, lib.constant([1, 0, 1]), 2),
    ),
    "math.unsorted_segment_min": (
        "float",
        lambda lib, r: lib.math.unsorted_segment_min(r, lib.ragged.constant([[0, 1], [1], []]), 2),
    ),
    "math.unsorted_segment_prod": (
        "float",
        lambda lib, r: lib.math.unsorted_segment_prod(r, lib.constant([0, 0, 1]), 2),
    ),
    "math.unsorted_segment_sqrt_n": (
        "float",
        lambda lib, r: lib.math.unsorted_segment_sqrt_n(r, lib.constant([0, 0, 0]), 1),
    ),
    "debugging.assert_greater": (
        "float",
        lambda lib, r: lib.debugging.assert_greater(r + 1.0, r),
    ),
    "debugging.assert_less": ("float", lambda lib, r: lib.debugging.assert_less(r, r + 1.0)),
    "debugging.assert_none_equal": (
        "float",
        lambda lib, r: lib.debugging.assert_none_equal(r, r + 1.0),
    ),
    "math.scalar_mul": ("float", lambda lib, r: lib.math.scalar_mul(3.0, r)),
    "strings.reduce_join": ("str", lambda lib, r: lib.strings.reduce_join(r, separator="+")),
    "math.add_n": ("float", lambda lib, r: lib.math.add_n([r, r, r])),
    "math.bincount": ("int", lambda lib, r: lib.math.bincount(r, axis=-1)),
    "sparse.bincount": ("int", lambda lib, r: lib.sparse.bincount(r, axis=-1)),
    "math.unsorted_segment_sum": (
        "float",
        lambda lib, r: lib.math.unsorted_segment_sum(r, lib.ragged.constant([[0, 1], [1], []]), 2),
    ),
    "math.segment_sum": (
        "float",
        lambda lib, r: lib.math.unsorted_segment_sum(r, lib.ragged.constant([[0, 1], [1], []]), 2),
    ),
    "nn.sigmoid_cross_entropy_with_logits": (
        "float",
        lambda lib, r: lib.nn.sigmoid_cross_entropy_with_logits(labels=r, logits=r),
    ),
    "nn.dropout": ("float", lambda lib, r: lib.nn.dropout(r, 0.5)),
    "nn.experimental.stateless_dropout": (
        "float",
        lambda lib, r: lib.nn.experimental.stateless_dropout(r, 0.5, seed=[1, 2]),
    ),
    "math.cumsum": ("float", lambda lib, r: lib.math.cumsum(r, axis=1)),
    "math.softmax": ("float", lambda lib, r: lib.math.softmax(r, axis=1)),
    "nn.softmax": ("float", lambda lib, r: lib.nn.softmax(r, axis=1)),
    "math.log_softmax": ("float", lambda lib, r: lib.math.log_softmax(r, axis=1)),
    "nn.log_softmax": ("float", lambda lib, r: lib.nn.log_softmax(r, axis=1)),
    "linalg.matmul": (
        "float",
        lambda lib, r: lib.linalg.matmul(
            lib.ragged.constant([[[1.0, 2.0]], [[3.0, 4.0], [5.0, 6.0]]], ragged_rank=1),
            lib.ragged.constant([[[1.0], [2.0]], [[3.0], [4.0]]], ragged_rank=1),
        ),
    ),
    "print": ("float", lambda lib, r: lib.print(r, output_stream="file:///dev/null")),
}
RANDOM = {"nn.dropout", "nn.experimental.stateless_dropout"}
SKIP = {  # not ragged questions: images of rank >= 3; broadcast_to needs a DynamicRaggedShape;
    # TF 2.21's own ragged nextafter raises (TypeError: RaggedTensor has no len())
    "broadcast_to", "math.nextafter",
    "image.adjust_brightness", "image.adjust_gamma", "image.convert_image_dtype",
    "image.random_brightness", "image.resize", "image.stateless_random_brightness",
    "__operators__.eq", "__operators__.ne",
}  # fmt: skip


def _split_params(text: str) -> list:
    """Split at commas outside backquoted defaults."""
    parts, cur, quoted = [], "", False
    for ch in text:
        if ch == "`":
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return [*parts, cur.strip()] if cur.strip() else parts


def _ops() -> dict:
    """``{name: [(param, takes ragged, has default)]}`` from TF's list."""
    out = {}
    for line in ragged_dispatch.ragged_op_list().splitlines():
        m = re.match(r"\* `tf\.([\w.]+)`\((.*)\)$", line.strip())
        if not m:
            continue
        params = []
        for p in _split_params(m.group(2)):
            params.append(
                (re.sub(r"[*`]", "", p.split("=")[0]).strip(), p.startswith("**"), "=" in p)
            )
        out.setdefault(m.group(1), params)
    return out


OPS = _ops()
_LAZY_IO = "defined in the lazily loaded rill.io.codecs, which registers no ragged handler yet"
MISSING = {  # TF dispatches these for RaggedTensor; rill does not yet
    "io.decode_base64": _LAZY_IO,
    "io.decode_compressed": _LAZY_IO,
    "io.encode_base64": _LAZY_IO,
    "strings.format": "rill's strings.format does not format RaggedTensors yet",
}


def _resolve(lib, name):
    obj = lib
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _default_call(name, kind):
    params = OPS[name]
    ragged = [p for p, bold, default in params if bold and not default]
    required = [p for p, bold, default in params if not bold and not default]
    if required or not ragged or len(ragged) > 2:
        return None

    def call(lib, r):
        return _resolve(lib, name)(*([r] * len(ragged)))

    return kind, call


def _plain(x):
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if hasattr(x, "dense_shape") and hasattr(x, "indices"):  # a SparseTensor
        return [_plain(x.indices), _plain(x.values), _plain(x.dense_shape)]
    if hasattr(x, "to_list"):
        return x.to_list()
    if hasattr(x, "numpy"):
        v = x.numpy()
        return v.tolist() if hasattr(v, "tolist") else v
    return x


def _close(a, b):
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return bool(np.isclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True))
    return a == b


def _case(name):
    if name in SPECIAL:
        return SPECIAL[name]
    for kind in ("float", "int", "bool", "str"):
        got = _default_call(name, kind)
        if got is None:
            return None
        try:  # TF picks the kind: the first one its op accepts
            got[1](TF, TF.ragged.constant(DATA[kind]))
            return got
        except Exception:  # noqa: BLE001 - trying the next dtype
            continue
    return None


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=MISSING[n]))
        if n in MISSING
        else n
        for n in sorted(OPS)
        if n not in SKIP
    ],
)
def test_ragged_dispatch_matches_tensorflow(name):
    case = _case(name)
    if case is None:
        pytest.skip(f"tf.{name}: no automatic call (its required arguments are not ragged)")
    kind, call = case
    theirs = call(TF, TF.ragged.constant(DATA[kind]))
    if _resolve(tf, name) is None:
        pytest.skip(f"tf.{name} is not in rill at all (not a ragged-dispatch question)")
    mine = call(tf, tf.ragged.constant(DATA[kind]))
    if name in RANDOM:  # same partition, values random
        assert mine.row_splits.numpy().tolist() == theirs.row_splits.numpy().tolist()
        return
    assert _close(_plain(mine), _plain(theirs)), f"tf.{name}: {_plain(mine)} != {_plain(theirs)}"
