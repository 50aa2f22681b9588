"""The recurrent and attention examples run offline and print the right answers.

They run with one BLAS thread: their matmuls are small, and on a loaded machine a
multi-threaded BLAS pool waiting for busy cores makes them several times slower."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


def run_script(path: Path, timeout: float = 120) -> str:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    res = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, cwd=ROOT,
                         env=env, timeout=timeout)  # fmt: skip
    assert res.returncode == 0, f"{path.name} exited {res.returncode}:\n{res.stdout}\n{res.stderr}"
    return res.stdout


def test_lstm_text_classifier_learns_and_ignores_padding():
    out = run_script(EXAMPLES / "lstm_text_classifier.py")
    acc = float(re.search(r"test accuracy ([0-9.]+)", out).group(1))
    assert acc > 0.9, out
    assert "padding ignored: True" in out
    traces = int(re.search(r"traced (\d+) time", out).group(1))
    assert traces <= 3, out  # not once per padded length (there are 21 lengths)


def test_transformer_encoder_learns_and_reloads():
    out = run_script(EXAMPLES / "transformer_encoder.py")
    acc = float(re.search(r"accuracy on new sequences: ([0-9.]+)", out).group(1))
    assert acc > 0.9, out
    assert "same predictions True" in out
