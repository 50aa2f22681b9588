"""Top-level ops and objects: complex/saturate_cast/bitcast, sequence ops, partition and
stitch, space<->batch, grouping ops, fingerprint, edit_distance, TensorProtos,
DeviceSpec, CriticalSection, TF's initializers, tf.audio, ForwardAccumulator and the
dtypes. References: NumPy formulas, Python's wave module, closed forms, finite
differences."""

import io
import itertools
import threading
import wave

import numpy as np
import pytest

import rill as tf
from tests.gradcheck import assert_grad_matches_finite_differences


def _np(x):
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


# --------------------------------------------------------------------------------------
# complex, saturate_cast, bitcast
# --------------------------------------------------------------------------------------


def test_complex_values_broadcast_and_gradient():
    re, im = np.array([[1.0], [2.0]], np.float32), np.array([3.0, 4.0], np.float32)
    z = tf.complex(re, im)
    assert z.dtype == tf.complex64
    np.testing.assert_array_equal(_np(z), re + 1j * im)
    assert tf.complex(re.astype(np.float64), im.astype(np.float64)).dtype == tf.complex128
    x, y = tf.Variable([1.0, 2.0]), tf.Variable([3.0, -1.0])
    with tf.GradientTape() as t:
        w = tf.complex(x, y)
        loss = tf.math.real(w * tf.math.conj(w))  # |w|^2 = x^2 + y^2
    gx, gy = t.gradient(loss, [x, y])
    np.testing.assert_allclose(_np(gx), 2 * np.array([1.0, 2.0]))
    np.testing.assert_allclose(_np(gy), 2 * np.array([3.0, -1.0]))


@pytest.mark.parametrize("re,im", [([1], [2]), (np.float64([1.0]), np.float32([2.0]))])
def test_complex_rejects_mixed_or_integer_parts(re, im):
    with pytest.raises(TypeError, match="real.*imag"):
        tf.complex(re, im)


def test_saturate_cast_clamps_to_the_target_range():
    x = np.array([-300.0, -0.5, 1.7, 254.9, 300.0, np.inf], np.float32)
    got = _np(tf.dtypes.saturate_cast(x, tf.uint8))
    want = np.trunc(np.clip(x, 0, 255)).astype(np.uint8)
    np.testing.assert_array_equal(got, want)
    big = np.array([2**40, -(2**40), 5], np.int64)
    np.testing.assert_array_equal(
        _np(tf.saturate_cast(big, tf.int32)), np.clip(big, -(2**31), 2**31 - 1)
    )
    # float32 cannot hold int32.max exactly: the clamp must not round past it and wrap
    f = _np(tf.saturate_cast(np.array([3e9, -3e9], np.float32), tf.int32))
    assert f[0] > 2**31 - 200 and f[1] == -(2**31)
    np.testing.assert_array_equal(
        _np(tf.saturate_cast(np.array([1e300]), tf.float32)), [np.finfo(np.float32).max]
    )
    np.testing.assert_array_equal(
        _np(tf.saturate_cast(np.array([1 + 2j], np.complex64), tf.float32)), [1.0]
    )


def test_bitcast_matches_numpy_views():
    x = np.array([1.0, -2.5], np.float32)
    np.testing.assert_array_equal(_np(tf.bitcast(x, tf.int32)), x.view(np.int32))
    pairs = np.array([[1, 2], [3, 4]], np.int32)
    np.testing.assert_array_equal(_np(tf.bitcast(pairs, tf.int64)), pairs.view(np.int64).reshape(2))
    wide = np.array([7, -1], np.int64)
    np.testing.assert_array_equal(
        _np(tf.bitcast(wide, tf.int16)), wide.view(np.int16).reshape(2, 4)
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="Bitcast"):
        tf.bitcast(np.array([1, 2, 3], np.int32), tf.int64)


# --------------------------------------------------------------------------------------
# sequence ops
# --------------------------------------------------------------------------------------


def test_sequence_mask_against_numpy():
    lengths = np.array([[1, 3], [2, 0]])
    got = _np(tf.sequence_mask(lengths))
    np.testing.assert_array_equal(got, np.arange(3) < lengths[..., None])
    got = _np(tf.sequence_mask([1, 3], 4, dtype=tf.float32))
    np.testing.assert_array_equal(
        got, (np.arange(4) < np.array([1, 3])[:, None]).astype(np.float32)
    )


def _reverse_sequence_ref(x, lengths, seq_axis, batch_axis):
    out = np.array(x)
    for b, n in enumerate(lengths):
        src = np.take(x, b, axis=batch_axis)
        dst_ax = seq_axis - (seq_axis > batch_axis)
        rev = np.flip(np.take(src, np.arange(n), axis=dst_ax), axis=dst_ax)
        idx = [slice(None)] * x.ndim
        idx[batch_axis] = b
        idx[seq_axis] = slice(0, n)
        out[tuple(idx)] = rev
    return out


@pytest.mark.parametrize("seq_axis,batch_axis", [(1, 0), (0, 1), (2, 0)])
def test_reverse_sequence_against_numpy(seq_axis, batch_axis):
    rng = np.random.default_rng(0)
    shape = [3, 4, 5]
    x = rng.normal(size=shape)
    lengths = rng.integers(0, shape[seq_axis] + 1, size=shape[batch_axis])
    got = tf.reverse_sequence(x, lengths, seq_axis=seq_axis, batch_axis=batch_axis)
    np.testing.assert_array_equal(_np(got), _reverse_sequence_ref(x, lengths, seq_axis, batch_axis))


def test_searchsorted_against_numpy():
    seq = np.sort(np.random.default_rng(1).integers(0, 10, (3, 6)), axis=1)
    vals = np.random.default_rng(2).integers(-1, 12, (3, 4))
    for side in ("left", "right"):
        got = _np(tf.searchsorted(seq, vals, side=side))
        want = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(seq, vals)])
        np.testing.assert_array_equal(got, want)
    assert tf.searchsorted(seq, vals, out_type=tf.int64).dtype == tf.int64


def test_unravel_index_against_numpy():
    idx = np.array([2, 5, 7])
    np.testing.assert_array_equal(
        _np(tf.unravel_index(idx, [3, 3])), np.stack(np.unravel_index(idx, (3, 3)))
    )
    np.testing.assert_array_equal(_np(tf.unravel_index(5, [3, 3])), np.unravel_index(5, (3, 3)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of bound"):
        tf.unravel_index(9, [3, 3])


def test_histograms_against_numpy():
    x = np.random.default_rng(3).normal(2.0, 3.0, 200)
    lo, hi, n = 0.0, 5.0, 7
    # NumPy's histogram over the clipped values puts outliers in the edge bins, as TF does
    want = np.histogram(np.clip(x, lo, np.nextafter(hi, lo)), bins=n, range=(lo, hi))[0]
    np.testing.assert_array_equal(_np(tf.histogram_fixed_width(x, [lo, hi], nbins=n)), want)
    bins = _np(tf.histogram_fixed_width_bins(x, [lo, hi], nbins=n))
    np.testing.assert_array_equal(np.bincount(bins, minlength=n), want)


# --------------------------------------------------------------------------------------
# partition / stitch, space <-> batch
# --------------------------------------------------------------------------------------


def test_dynamic_partition_and_stitch_invert_each_other():
    data = np.arange(12.0).reshape(6, 2)
    parts = np.array([1, 0, 2, 1, 0, 1], np.int32)
    out = tf.dynamic_partition(data, parts, 3)
    for i in range(3):
        np.testing.assert_array_equal(_np(out[i]), data[parts == i])
    positions = tf.dynamic_partition(np.arange(6, dtype=np.int32), parts, 3)
    np.testing.assert_array_equal(_np(tf.dynamic_stitch(positions, out)), data)
    # a repeated index: the later write wins
    np.testing.assert_array_equal(
        _np(tf.dynamic_stitch([[0, 1], [1, 2]], [[1.0, 2.0], [3.0, 4.0]])), [1.0, 3.0, 4.0]
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="partitions"):
        tf.dynamic_partition(data, np.array([0, 0, 3, 0, 0, 0], np.int32), 3)


def test_dynamic_partition_gradient_matches_finite_differences():
    parts = np.array([1, 0, 1, 0], np.int32)
    w = np.array([[1.0, -2.0], [0.5, 3.0]])

    def f(x):
        a, b = tf.dynamic_partition(x, parts, 2)
        return tf.reduce_sum(a * w) + tf.reduce_sum(b**2)

    assert_grad_matches_finite_differences(f, np.random.default_rng(4).normal(size=(4, 2)))


def _space_to_batch_ref(x, block, pads):
    x = np.pad(x, [(0, 0)] + [tuple(p) for p in pads] + [(0, 0)] * (x.ndim - 1 - len(block)))
    b = x.shape[0]
    out = []
    for offs in itertools.product(*[range(k) for k in block]):
        idx = (slice(None),) + tuple(slice(o, None, k) for o, k in zip(offs, block))
        out.append(x[idx])
    return np.stack(out).reshape((len(out) * b,) + out[0].shape[1:])


@pytest.mark.parametrize(
    "block,pads", [([2, 2], [[0, 0], [0, 0]]), ([2, 3], [[1, 1], [0, 2]]), ([3], [[2, 1]])]
)
def test_space_to_batch_against_strided_slices_and_roundtrip(block, pads):
    shape = [2, 4, 4, 3] if len(block) == 2 else [2, 6, 3]
    x = np.random.default_rng(5).normal(size=shape)
    y = tf.space_to_batch_nd(x, block, pads)
    np.testing.assert_array_equal(_np(y), _space_to_batch_ref(x, block, pads))
    np.testing.assert_array_equal(_np(tf.batch_to_space(y, block, pads)), x)


def test_space_to_batch_gradient_and_errors():
    assert_grad_matches_finite_differences(
        lambda x: tf.reduce_sum(tf.space_to_batch(x, [2, 2], [[1, 1], [0, 2]]) ** 2),
        np.random.default_rng(6).normal(size=(1, 4, 2, 1)),
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="divisible"):
        tf.space_to_batch_nd(np.zeros((1, 3, 3, 1)), [2, 2], [[0, 0], [0, 0]])


def test_required_space_to_batch_paddings_make_shapes_divisible():
    for shape, block, base in [
        ([5, 7], [2, 3], None),
        ([5, 7], [2, 3], [[1, 0], [0, 2]]),
        ([4], [4], None),
    ]:
        pads, crops = tf.required_space_to_batch_paddings(shape, block, base)
        pads, crops = _np(pads), _np(crops)
        base = np.zeros((len(block), 2), int) if base is None else np.array(base)
        np.testing.assert_array_equal(pads[:, 0], base[:, 0])
        assert ((np.array(shape) + pads.sum(1)) % block == 0).all()
        assert (pads[:, 1] - base[:, 1] < block).all()  # the least padding that works
        np.testing.assert_array_equal(crops[:, 1], pads[:, 1] - base[:, 1])


# --------------------------------------------------------------------------------------
# grouping and structure
# --------------------------------------------------------------------------------------


def test_grouping_ops_and_predicates():
    a, b = tf.identity_n([1, [2.0, 3.0]])
    assert _np(a) == 1 and _np(b).tolist() == [2.0, 3.0]
    assert [int(t) for t in tf.tuple([tf.constant(1), tf.constant(2)])] == [1, 2]
    assert tf.group(tf.constant(1)) is None and tf.no_op() is None
    with tf.control_dependencies([tf.constant(1)]):
        pass
    np.testing.assert_array_equal(_np(tf.scalar_mul(2.0, [1.0, 2.0])), [2.0, 4.0])
    with pytest.raises(ValueError, match="0-D"):
        tf.scalar_mul([2.0, 3.0], [1.0, 2.0])
    with pytest.raises(RuntimeError, match="eager"):
        tf.parallel_stack([[1, 2]])
    assert not tf.inside_function() and tf.get_current_name_scope() == ""
    seen = {}

    @tf.function
    def f(x):
        seen["inside"] = tf.inside_function()
        seen["symbolic"] = tf.is_symbolic_tensor(x)
        with tf.name_scope("outer"), tf.name_scope("inner"):
            seen["scope"] = tf.get_current_name_scope()
        return tf.parallel_stack([x, x])

    np.testing.assert_array_equal(_np(f(tf.constant([1.0]))), [[1.0], [1.0]])
    assert seen == {"inside": True, "symbolic": True, "scope": "outer/inner"}
    assert not tf.is_symbolic_tensor(tf.constant(1.0))


def test_timestamp_is_the_current_time_and_not_folded_in_functions():
    import time

    before = time.time()
    t = float(tf.timestamp())
    assert before <= t <= time.time()
    f = tf.function(lambda: tf.timestamp())
    t1 = float(f())
    time.sleep(0.01)
    assert float(f()) > t1


def test_approx_top_k_is_exact():
    x = np.random.default_rng(7).normal(size=(3, 8))
    v, i = tf.approx_top_k(x, 3)
    np.testing.assert_array_equal(_np(v), -np.sort(-x, axis=1)[:, :3])
    np.testing.assert_array_equal(np.take_along_axis(x, _np(i), 1), _np(v))
    v, i = tf.approx_top_k(x, 2, reduction_dimension=0, is_max_k=False)
    np.testing.assert_array_equal(_np(v), np.sort(x, axis=0)[:2])


def test_vectorized_map_and_grad_pass_through():
    x = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(_np(tf.vectorized_map(lambda r: r * r + 1, x)), x * x + 1)
    v = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as t:
        y = tf.grad_pass_through(tf.round)(v * 3.3)
        loss = tf.reduce_sum(y * y)
    # d/dv sum(y^2) with dy/d(3.3 v) taken as 1: 2 * round(3.3 v) * 3.3
    np.testing.assert_allclose(_np(t.gradient(loss, v)), 2 * np.round([3.3, 6.6]) * 3.3, rtol=1e-6)


# --------------------------------------------------------------------------------------
# fingerprint, edit_distance
# --------------------------------------------------------------------------------------


def test_fingerprint_is_invariant_under_reshape_and_bitcast():
    x = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    fp = _np(tf.fingerprint(x))
    assert fp.shape == (2, 8) and fp.dtype == np.uint8
    np.testing.assert_array_equal(_np(tf.fingerprint(x.reshape(2, 12))), fp)
    np.testing.assert_array_equal(_np(tf.fingerprint(tf.bitcast(x, tf.uint8))), fp)
    assert not np.array_equal(fp[0], fp[1])
    # a 1-D string tensor: each row is one string, fingerprinted like to_hash_bucket_fast
    s = tf.constant(["ab", "c"])
    h = _np(tf.strings.to_hash_bucket_fast(s, 2**62))
    words = _np(tf.fingerprint(s)).view("<u8").reshape(2)
    np.testing.assert_array_equal(words % (2**62), h)


def _levenshtein(a, b):
    d = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, y in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (x != y))
    return d[-1]


def test_edit_distance_against_a_python_levenshtein():
    rng = np.random.default_rng(8)
    hyps = [list(rng.integers(0, 3, rng.integers(0, 6))) for _ in range(6)]
    truths = [list(rng.integers(0, 3, rng.integers(0, 6))) for _ in range(6)]

    def sparse(seqs):
        idx = [[r, j] for r, s in enumerate(seqs) for j in range(len(s))]
        vals = [v for s in seqs for v in s]
        width = max(1, max(len(s) for s in seqs))
        return tf.sparse.SparseTensor(
            np.array(idx, np.int64).reshape(-1, 2), np.array(vals, np.int32), [len(seqs), width]
        )

    raw = _np(tf.edit_distance(sparse(hyps), sparse(truths), normalize=False))
    want = [_levenshtein(h, t) for h, t in zip(hyps, truths)]
    np.testing.assert_array_equal(raw, want)
    norm = _np(tf.edit_distance(sparse(hyps), sparse(truths)))
    for r, (h, t) in enumerate(zip(hyps, truths)):
        expect = want[r] / len(t) if t else (np.inf if h else 0.0)
        assert norm[r] == pytest.approx(expect)


# --------------------------------------------------------------------------------------
# TensorProtos, DeviceSpec, CriticalSection, logger, initializers
# --------------------------------------------------------------------------------------


def test_tensor_proto_roundtrip():
    pytest.importorskip("google.protobuf")
    for v in ([1, 2, 3], np.arange(6.0).reshape(2, 3), [b"a", b"bc"], np.array(True)):
        arr = np.asarray(v)
        back = tf.make_ndarray(tf.make_tensor_proto(v))
        np.testing.assert_array_equal(back, arr.astype(back.dtype))
    p = tf.make_tensor_proto(3, dtype=tf.float32, shape=[2, 2])
    assert list(p.float_val) == [3.0] and not p.tensor_content
    np.testing.assert_array_equal(tf.make_ndarray(p), np.full((2, 2), 3.0, np.float32))
    assert tf.make_ndarray(tf.make_tensor_proto([1.0, 2.0])).dtype == np.float32
    with pytest.raises(ValueError, match="elements"):
        tf.make_tensor_proto([1, 2, 3], shape=[2])


def test_device_spec():
    d = tf.DeviceSpec.from_string("/job:worker/replica:0/task:1/device:GPU:2")
    assert (d.job, d.replica, d.task, d.device_type, d.device_index) == ("worker", 0, 1, "GPU", 2)
    assert d.to_string() == "/job:worker/replica:0/task:1/device:GPU:2"
    assert tf.DeviceSpec(job="a", device_type="cpu").to_string() == "/job:a/device:CPU:*"
    assert tf.DeviceSpec.from_string("/cpu:0").to_string() == "/device:CPU:0"
    assert d.make_merged_spec(tf.DeviceSpec(task=7)).task == 7 and d.replace(job="x").job == "x"
    assert (
        tf.DeviceSpec(job="a") == tf.DeviceSpec(job="a")
        and len({tf.DeviceSpec(job="a"), tf.DeviceSpec(job="a")}) == 1
    )
    with pytest.raises(ValueError):
        tf.DeviceSpec.from_string("/foo:bar")
    with tf.device(tf.DeviceSpec(device_type="CPU", device_index=0)):
        assert int(tf.constant(1)) == 1


def test_critical_section_serialises_and_refuses_nesting():
    cs = tf.CriticalSection()
    inside, overlaps = [0], []

    def body():
        inside[0] += 1
        overlaps.append(inside[0])
        import time

        time.sleep(0.002)
        inside[0] -= 1
        return 1

    threads = [threading.Thread(target=cs.execute, args=(body,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == [1] * 6
    with pytest.raises(ValueError, match="already inside"):
        cs.execute(lambda: cs.execute(lambda: 1))
    assert tf.get_logger().name == "tensorflow"
    assert tf.AggregationMethod.DEFAULT == tf.AggregationMethod.ADD_N == 0


def test_tf_initializers():
    np.testing.assert_array_equal(_np(tf.zeros_initializer()((2, 3))), np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(_np(tf.ones_initializer()((2,), tf.int32)), [1, 1])
    np.testing.assert_array_equal(
        _np(tf.constant_initializer([1, 2, 3, 4])((2, 2))), [[1, 2], [3, 4]]
    )
    np.testing.assert_array_equal(_np(tf.constant_initializer(2.5)((3,))), [2.5] * 3)
    with pytest.raises(TypeError, match="requires 4"):
        tf.constant_initializer([1, 2, 3])((2, 2))
    u = _np(tf.random_uniform_initializer(-1.0, 1.0, seed=3)((2000,)))
    assert -1 <= u.min() and u.max() < 1 and abs(u.mean()) < 0.1
    a = _np(tf.random_normal_initializer(1.0, 2.0, seed=4)((4000,)))
    assert abs(a.mean() - 1.0) < 0.15 and abs(a.std() - 2.0) < 0.15
    np.testing.assert_array_equal(a, _np(tf.random_normal_initializer(1.0, 2.0, seed=4)((4000,))))
    cfg = tf.random_normal_initializer(0.5, 0.1, seed=1).get_config()
    assert cfg == {"mean": 0.5, "stddev": 0.1, "seed": 1}


# --------------------------------------------------------------------------------------
# tf.audio against Python's wave module
# --------------------------------------------------------------------------------------


def test_wav_roundtrip_against_the_wave_module():
    rng = np.random.default_rng(9)
    pcm = rng.integers(-32768, 32767, (50, 2)).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(pcm.tobytes())
    audio, rate = tf.audio.decode_wav(buf.getvalue())
    assert int(rate) == 22050
    np.testing.assert_array_equal(_np(audio), pcm / 32768.0)
    one = _np(tf.audio.decode_wav(buf.getvalue(), desired_channels=1, desired_samples=60).audio)
    np.testing.assert_array_equal(one[:50, 0], pcm[:, 0] / 32768.0)
    assert (one[50:] == 0).all()
    three = _np(tf.audio.decode_wav(buf.getvalue(), desired_channels=3).audio)
    np.testing.assert_array_equal(three[:, 2], three[:, 1])
    # encode -> the wave module reads it back
    data = tf.audio.encode_wav(pcm / 32768.0, 8000).numpy()
    with wave.open(io.BytesIO(data), "rb") as r:
        assert (r.getnchannels(), r.getsampwidth(), r.getframerate()) == (2, 2, 8000)
        back = np.frombuffer(r.readframes(50), "<i2").reshape(50, 2)
    np.testing.assert_array_equal(back, pcm)
    sat = tf.audio.encode_wav(np.array([[2.0], [-3.0]], np.float32), 8000).numpy()
    assert np.frombuffer(sat[-4:], "<i2").tolist() == [32767, -32768]
    with pytest.raises(tf.errors.InvalidArgumentError, match="RIFF"):
        tf.audio.decode_wav(b"RIFFxx")


# --------------------------------------------------------------------------------------
# ForwardAccumulator, dtypes
# --------------------------------------------------------------------------------------


def test_forward_accumulator_jvps_match_closed_forms():
    x = tf.Variable([1.0, 2.0, -0.5])
    v = np.array([1.0, 0.5, -2.0], np.float32)
    c = tf.constant([0.3, -0.7, 1.1])
    with tf.autodiff.ForwardAccumulator(x, v) as acc:
        y = tf.reduce_sum(x**3)
        z = tf.sin(x) * c
        w = c * 2.0  # does not depend on x
    np.testing.assert_allclose(
        _np(acc.jvp(y)), np.sum(3 * np.array([1.0, 2.0, -0.5]) ** 2 * v), rtol=1e-6
    )
    np.testing.assert_allclose(_np(acc.jvp(z)), np.cos([1.0, 2.0, -0.5]) * _np(c) * v, rtol=1e-6)
    assert acc.jvp(w) is None
    np.testing.assert_array_equal(_np(acc.jvp(w, unconnected_gradients="zero")), np.zeros(3))
    assert tf.autodiff.GradientTape is tf.GradientTape


def test_dtypes_namespace():
    for name in (
        "float32",
        "int64",
        "bool",
        "string",
        "bfloat16",
        "complex128",
        "qint8",
        "resource",
        "variant",
    ):
        assert getattr(tf.dtypes, name) is tf.as_dtype(name)
    assert tf.qint8.is_quantized and tf.qint8.as_datatype_enum == 11 and tf.qint8.size == 1
    assert tf.dtypes.QUANTIZED_DTYPES == {tf.qint8, tf.quint8, tf.qint16, tf.quint16, tf.qint32}
    assert not tf.resource.is_numpy_compatible
    ml_dtypes = pytest.importorskip("ml_dtypes")
    f8 = tf.dtypes.experimental.float8_e4m3fn
    assert f8.as_numpy_dtype is ml_dtypes.float8_e4m3fn and f8.max == float(
        ml_dtypes.finfo(ml_dtypes.float8_e4m3fn).max
    )
    assert (
        tf.dtypes.experimental.int4.min == -8
        and tf.as_dtype(24) is tf.dtypes.experimental.float8_e5m2
    )
    x = np.array([1.3, 2.7, -0.1], np.float32)
    np.testing.assert_array_equal(_np(tf.cast(x, f8)), x.astype(ml_dtypes.float8_e4m3fn))


def test_nondifferentiable_batch_function_batches_concurrent_calls():
    sizes = []

    @tf.nondifferentiable_batch_function(1, 4, 300_000, allowed_batch_sizes=[2, 4])
    def f(x):
        sizes.append(int(x.shape[0]))
        return x * 2.0, tf.reduce_sum(x, axis=1)

    out, barrier = {}, threading.Barrier(3)

    def call(i):
        barrier.wait()
        out[i] = f(tf.constant([[float(i), 1.0]]))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # each caller gets its own rows back, computed in fewer calls than callers
    for i, (doubled, total) in out.items():
        np.testing.assert_array_equal(doubled.numpy(), [[2.0 * i, 2.0]])
        np.testing.assert_array_equal(total.numpy(), [i + 1.0])
    assert sum(sizes) >= 3 and len(sizes) < 3 and all(s in (2, 4) for s in sizes)
    # a lone call runs on its own rows (padded to an allowed size inside)
    single = f(tf.constant([[5.0, 6.0], [7.0, 8.0]]))
    assert isinstance(single, tuple) and single[1].numpy().tolist() == [11.0, 15.0]
    with pytest.raises(ValueError, match="max_batch_size"):
        tf.nondifferentiable_batch_function(1, 4, 10, allowed_batch_sizes=[2, 3])
