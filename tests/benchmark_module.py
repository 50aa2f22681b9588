"""Loading a script of ``benchmarks/`` as a module, for the tests that keep it working."""

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_benchmark(filename: str):
    """``benchmarks/<filename>`` executed as a module (named ``rill_bench_<stem>``, in
    ``sys.modules`` while it runs, as dataclasses and pickling look it up there)."""
    name = f"rill_bench_{Path(filename).stem}"
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / filename)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.modules.pop(name, None)
    return mod


def run_benchmark(filename: str, *args: str, timeout: float = 300) -> str:
    """Run ``benchmarks/<filename>`` with ``args`` in a subprocess of this interpreter;
    its stdout (a failing exit status fails the test, with the script's stderr)."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / filename), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout
