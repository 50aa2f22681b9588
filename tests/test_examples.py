"""The example scripts (the README's main job) run and print the right answers."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SEEDS = sorted(EXAMPLES.glob("seed*.py"))


def run_script(path: Path, timeout: float = 120) -> str:
    """Run a script as a user would (fresh interpreter); return stdout, fail on error."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    res = subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=timeout,
    )
    assert res.returncode == 0, f"{path.name} exited {res.returncode}:\n{res.stdout}\n{res.stderr}"
    return res.stdout


@pytest.fixture(scope="module")
def outputs():
    cache = {}

    def get(name: str) -> str:
        if name not in cache:
            cache[name] = run_script(next(EXAMPLES.glob(name + "*.py")))
        return cache[name]

    return get


@pytest.mark.parametrize(
    "script",
    SEEDS,
    ids=[p.stem for p in SEEDS],
)
def test_every_example_runs(script, outputs):
    assert outputs(script.stem).strip()


def test_seed01_autodiff(outputs):
    out = outputs("seed01")
    # f(w) = w^3 + 2w at w = 3: f = 33, f' = 3*9 + 2 = 29, f'' = 6*3 = 18
    assert "f(3) = 33.0" in out and "f'(3) = 29.0" in out and "f''(3) = 18.0" in out
    assert "PyTorch" in out and "JAX" in out
    assert "[[7.0, 10.0], [15.0, 22.0]]" in out  # [[1,2],[3,4]] squared


def test_seed02_numpy_differences(outputs):
    out = outputs("seed02")
    assert "t[0] = 10.0 -> TypeError" in out  # immutability
    assert "int32 + float32 -> InvalidArgumentError" in out
    assert "tf.constant(1.5) -> float32" in out and "np.array(1.5) -> float64" in out
    assert "tf.constant(np.array(1.5)) -> float64" in out
    assert "np.exp(tensor) -> ndarray float32" in out
    assert "tf.exp(ndarray) -> EagerTensor float64" in out
    assert "d/dt sum(t*t) = [2. 4. 6.]" in out


def test_seed03_range_dtypes(outputs):
    out = outputs("seed03")
    assert "tf.range(10).dtype = int32" in out
    assert "tf.constant(np.arange(10)).dtype = int64" in out
    assert "same values: True | same dtype: False" in out
    assert "r + c raises InvalidArgumentError" in out


def test_seed04_data_structures(outputs):
    out = outputs("seed04")
    for name in ["tf.Variable", "tf.SparseTensor", "tf.RaggedTensor", "tf.TensorArray",
                 "tf.queue", "tf.data.Dataset"]:  # fmt: skip
        assert name in out
    assert re.search(r"tf\.Variable\s+\[in rill", out)
    assert "trainable: True / False" in out and "[3.5 4.5] | step = 1" in out
    assert "raises ValueError" in out
    assert "d/dw sum(w*w) = [7. 9.]" in out  # 2 * [3.5, 4.5]
    assert "dtype string" in out and "'héllo'" in out
    assert "flatten -> [(2,), (2, 2), ()]" in out
    # issue 5 / 6 structures: each one listed as "in rill" is demonstrated with real output
    status = dict(
        re.findall(r"^  (tf\.[\w.]+|string tensors)\s+\[(in rill|later issue)", out, re.M)
    )
    expected = {
        "tf.SparseTensor": ["indices [[0, 1], [1, 2]] values [3.0, 4.0] dense_shape [2, 3]",
                            "sparse_dense_matmul(st, ones([3, 2])) -> [[3.0, 3.0], [4.0, 4.0]]"],
        "tf.RaggedTensor": ["row_lengths [3, 0, 2]",
                            "reduce_sum(axis=1) -> [6, 0, 9] | rt * 10 -> [[10, 20, 30], [], [40, 50]]"],
        "tf.TensorArray": ["stack() -> [0.0, 1.0, 4.0, 9.0]"],
        "tf.strings": ["split -> [[b'hello', b'rill', b'world'], [b'tf', b'on', b'numpy']]",
                       "length('héllo', UTF8_CHAR) -> 5"],
        "tf.sets": ["intersection -> [[1, 3], [4]]", "union        -> [[1, 2, 3, 7], [4, 5, 6]]",
                    "difference   -> [[2], [5]]", "size(union) -> [4, 3]"],
        "tf.queue": ["dequeue_up_to(3) -> [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]",
                     "PriorityQueue dequeue_many(3) -> ['urgent', 'normal', 'low']"],
        "tf.data.Dataset": ["batch(2) -> [[2, 4], [6, 8], [10]]"],
    }  # fmt: skip
    for name in ["tf.SparseTensor", "tf.RaggedTensor", "tf.TensorArray", "tf.strings"]:
        assert status[name] == "in rill", name
    for name, lines in expected.items():
        if status[name] == "in rill":
            for line in lines:
                assert line in out, (name, line)


def test_seed08_custom_training_loop(outputs):
    out = outputs("seed08")
    assert "train: 456 examples, test: 113, features: 30" in out
    losses = [float(x) for x in re.findall(r"^epoch\s+\d+\s.*train loss ([0-9.]+)", out, re.M)]
    assert len(losses) >= 10 and losses[-1] < 0.5 * losses[0]  # training made progress
    train_acc = float(re.search(r"final train accuracy: ([0-9.]+)", out).group(1))
    test_acc = float(re.search(r"final test accuracy: ([0-9.]+)", out).group(1))
    assert train_acc >= 0.9 and test_acc >= 0.9, out
    keras_acc, auc = map(
        float, re.search(r"keras loop: test accuracy ([0-9.]+), test AUC ([0-9.]+)", out).groups()
    )
    assert keras_acc >= 0.9 and auc >= 0.9, out


def test_seed09_custom_components(outputs):
    out = outputs("seed09")
    # print() runs while tracing (once), tf.print on every call (3 times)
    assert len(re.findall(r"print\(\): tracing scaled_sum", out)) == 1
    sums = re.findall(r"tf\.print\(\): running, sum = ([0-9.]+)", out)
    assert [float(v) for v in sums] == [3.0, 7.0, 11.0]
    assert "traced 1 time(s) for 3 calls" in out
    # a tensor `if` converted by AutoGraph: both branches from one trace
    assert "soft_clip([0.5, -0.25]) = [0.5, -0.25]" in out
    assert "soft_clip([4.0, -2.0]) = [1.0, -0.5]" in out
    assert "both branches ran from 1 trace" in out
    # NumPy on a symbolic tensor fails; py_function runs it at call time
    assert "direct call inside tf.function fails while tracing" in out
    assert "median([3, 1, 2]) = 2.0 | median([10, 40, 20, 30]) = 25.0" in out
    # the layer: weights created once per layer, training progresses, a retrace adds none
    assert out.count("creating weights for 3 -> 8") == 1
    assert out.count("creating weights for 8 -> 1") == 1
    first, last = map(
        float, re.search(r"loss: step 0 ([0-9.]+) -> step 29 ([0-9.]+)", out).groups()
    )
    assert last < 0.5 * first
    assert "retraces: 1; variables: still 4" in out


def test_seed10_function_rules(outputs):
    out = outputs("seed10")
    assert "square(2.0), square(3.0) as float32 tensors -> traced 1 time(s)" in out
    assert "+ a [2] tensor and an int32 tensor -> traced 3 time(s)" in out
    assert "scale(x, 1.0 / 2.0 / 3.0) with Python floats -> traced 3 time(s)" in out
    assert "then with float32 tensors 4.0 / 5.0 / 6.0 -> traced 4 time(s)" in out
    assert "lengths 1, 2, 5, 50 = [1.0, 2.0, 5.0, 50.0] -> traced 1 time(s)" in out
    assert re.search(r"does not match TensorSpec\(shape=\[None\]\) -> (TypeError|ValueError)", out)
    assert "creating a tf.Variable on every call -> ValueError" in out
    assert "incremented 3 times -> 3.0" in out
    assert "the Python list was appended 1 time(s)" in out
    assert "results [11.0, 11.0, 11.0]" in out
    assert "same value twice: True; tf.random: False" in out
    py10, py100, tf10, tf100 = map(
        int, re.search(r"Python range (\d+) / (\d+); tf.range (\d+) / (\d+)", out).groups()
    )
    assert py100 - py10 >= 90 * 2  # unrolled: at least a mul and an add per iteration
    assert tf10 == tf100 < py10  # one loop op, whatever n is
    assert "both compute sum(i for i < 10) = 45: True" in out
    speedup = float(re.search(r"graph mode ([0-9.]+)x faster \(same result: True\)", out).group(1))
    assert speedup > 1.5, out


def test_dataset_file():
    path = EXAMPLES / "data" / "breast_cancer.csv"
    assert path.stat().st_size < 150_000
    header = path.read_text().splitlines()[0].split(",")
    assert len(header) == 31 and header[0] == "mean_radius" and header[-1] == "target"
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    assert data.shape == (569, 31) and not np.isnan(data).any()
    assert np.bincount(data[:, -1].astype(int)).tolist() == [212, 357]  # malignant, benign
    assert (EXAMPLES / "data" / "README.md").exists()


def test_run_seed_examples_runs_every_example():
    out = run_script(EXAMPLES / "run_seed_examples.py", timeout=300)
    for script in SEEDS:
        assert f"===== {script.name} =====" in out
    assert "final test accuracy" in out


def test_digits_file():
    data = np.loadtxt(EXAMPLES / "data" / "digits.csv.gz", delimiter=",")
    assert data.shape == (1797, 65) and data[:, :64].min() == 0 and data[:, :64].max() == 16
    assert sorted(np.unique(data[:, -1]).astype(int).tolist()) == list(range(10))


def test_demo_trains_saves_reloads(tmp_path):
    pytest.importorskip("h5py")
    out = run_script(EXAMPLES / "demo.py", timeout=300)
    assert "Epoch 1/15" in out and "━" in out  # Keras' progress bar
    acc = float(re.search(r"test accuracy ([0-9.]+)", out).group(1))
    assert acc >= 0.95
    assert "reloaded model predicts identically: True" in out
    if importlib.util.find_spec("google.protobuf") is not None:  # TensorBoard logs written
        assert re.search(r"TensorBoard logs \(test, train, validation\) in \S+", out)
        assert "  tensorboard --logdir " in out


def _accuracies(text):
    return [float(v) for v in re.findall(r"test accuracy ([0-9.]+)", text)]


def test_seed05_custom_loss_both_ways(outputs):
    out = outputs("seed05")
    accs = _accuracies(out)
    assert len(accs) == 2 and min(accs) >= 0.9
    assert "config kept by the subclass: 3.0" in out and "same value both ways: True" in out


def test_seed06_streaming_metric_matches_numpy(outputs):
    out = outputs("seed06")
    assert "'mean_confidence'" in out and "'streaming_precision'" in out
    got, ref = re.search(r"test set: ([0-9.]+) \(NumPy: ([0-9.]+)\)", out).groups()
    assert got == ref


def test_seed07_custom_layer_and_model(outputs):
    assert _accuracies(outputs("seed07"))[0] >= 0.9


def test_seed11_dynamic_model(outputs):
    out = outputs("seed11")
    assert "dynamic=True  runs eagerly: True" in out and "dynamic=False runs eagerly: False" in out
    assert min(_accuracies(out)) >= 0.9


def test_pipeline_feeding_fit():
    out = run_script(EXAMPLES / "pipeline_fit.py")
    assert "569 rows streamed from CSV" in out and "val_accuracy" in out
    assert _accuracies(out)[-1] >= 0.9
