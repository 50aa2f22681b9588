"""Image and signal benchmarks (issue 16): rill vs TensorFlow in one process, one run.

- ``tf.image.resize`` (bilinear) of a batch of 32 images of 224x224x3 float32, down to
  112x112 and up to 256x256 and 299x299;
- ``tf.signal.stft`` of 16 one-second 16 kHz float32 signals, frame 512, step 128
  (fft_length 512, Hann window).

Each workload's results are checked against TensorFlow's first; then rill and TensorFlow
run alternately ``--repeats`` times (so background load hits both alike) and the best time
of each is reported with the ratio rill / TF (the target: within 2x).

    PYTHONPATH=. /work/peers/bin/python benchmarks/image_signal.py [--repeats N]

Without TensorFlow only rill's times are printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import rill  # noqa: E402

TARGET = 2.0


def workloads(rng):
    images = rng.random((32, 224, 224, 3), dtype=np.float32)
    signals = rng.standard_normal((16, 16000)).astype(np.float32)
    out = []
    for size in ((112, 112), (256, 256), (299, 299)):
        out.append((
            f"resize bilinear 32x224x224x3 -> {size[0]}x{size[1]}",
            lambda lib, s=size: lib.image.resize(images, s),
        ))  # fmt: skip
    out.append(
        (
            "stft 16 x 16000 samples, frame 512, step 128",
            lambda lib: lib.signal.stft(signals, 512, 128),
        )
    )
    return out


def best_times(fns, repeats):
    """The best wall time of each callable, run alternately ``repeats`` times."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, f in enumerate(fns):
            t0 = time.perf_counter()
            f()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    try:
        import tensorflow as tf
    except ImportError:
        tf = None
    rng = np.random.default_rng(0)
    print(
        f"rill {rill.__version__}, NumPy {np.__version__}"
        + (f", TensorFlow {tf.__version__}" if tf else "")
    )
    header = (
        f"{'workload':50s} {'rill ms':>9s} {'TF ms':>9s} {'rill/TF':>8s}  target <= {TARGET:g}x"
    )
    print(header)
    print("-" * len(header))
    all_met = True
    for name, run in workloads(rng):
        r = run(rill)  # warm up (and the taps caches)
        if tf is None:
            (tr,) = best_times([lambda run=run: run(rill)], args.repeats)
            print(f"{name:50s} {tr * 1e3:9.2f} {'n/a':>9s}")
            continue
        t = run(tf)
        np.testing.assert_allclose(r.numpy(), t.numpy(), rtol=1e-4, atol=1e-4, err_msg=name)
        tr, tt = best_times([lambda run=run: run(rill), lambda run=run: run(tf)], args.repeats)
        ratio = tr / tt
        met = ratio <= TARGET
        all_met &= met
        print(
            f"{name:50s} {tr * 1e3:9.2f} {tt * 1e3:9.2f} {ratio:8.2f}  {'met' if met else 'NOT met'}"
        )
    if tf is not None:
        print("all targets met" if all_met else "some targets not met")


if __name__ == "__main__":
    main()
