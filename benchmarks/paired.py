"""The speed targets of issues 11 and 19 as paired ratios: rill against its peer on the
same workload, in alternating short rounds.

    PYTHONPATH=. peers/bin/python benchmarks/paired.py [--rounds 31] [--only add matmul ...]

Each target names a rill workload, the peer it is held against (PyTorch or ``jax.jit``)
and the ratio the issue asks for. The two sides run in turns (rill then the peer, then
the other way round), and each pair of turns gives one ratio rill/peer. The median and
quartiles of those ratios are printed with the share of pairs within the target, beside
the ratio of the two best turns (how ``run.py`` and ``xla.py`` compare). A burst of load on
the shared machine then spoils a pair or two, not one side's whole measurement, and the
spread says how far one run's ratio can be trusted.

Each side runs in a worker process of its own, as its users run it, and the parent only
says when each runs: a framework's process-wide settings then act on its side alone
(rill sets glibc's malloc thresholds on import, which speeds up PyTorch's eager step in
the same process too). ``--same-process`` builds both sides in one process instead.

rill's compiler runs JAX's CPU computations on the calling thread (``rill/backend/jax_runtime.py``);
the ``jax.jit`` peer keeps JAX's default, a worker thread, unless ``--peer-inline`` gives it
rill's setting too (the like-for-like figure). With ``--same-process`` both sides share
one client, which rill's setting then configures.

The workloads are the ones ``run.py``, ``eager_steps.py`` and ``xla.py`` time; a target
whose peer is not installed is skipped with the reason.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import run  # noqa: E402 - run.limit_threads must act before NumPy is imported

TARGETS = {  # name: (issue, peer, ratio at most)
    "add": (11, "torch", 1.0),
    "matmul": (11, "torch", 1.0),
    "mlp_adam": (11, "torch", 1.0),
    "fit": (11, "torch", 0.9),
    "W2": (19, "jax", 1.5),
    "W3b": (19, "jax", 1.2),
    "W4": (19, "jax", 1.2),
}


def _statement(row, fw):
    """A zero-argument callable running ``run.py``'s statement for ``row`` on ``fw``."""
    w = run.WORKLOADS[row]
    ns = w["setup"](fw) if "setup" in w else run._setup(fw, w["shape"])
    return timeit.Timer(w["stmt"][fw], globals=ns).timeit


RUN_ROWS = {"add": "add f32[4]", "matmul": "matmul f32[4,4]", "mlp_adam": run.ADAM_ROW + ", eager"}


def _side(name, side):
    """(timer, calls per unit) for one side of target ``name``: ``side`` is "rill" or
    "peer"; a timer runs its workload ``n`` times and returns the seconds taken."""
    if name in RUN_ROWS:
        return _statement(RUN_ROWS[name], "rill" if side == "rill" else "torch"), 1
    if name == "fit":
        import eager_steps

        fn, per = eager_steps.fit() if side == "rill" else eager_steps.torch_fit()
        return _repeat(fn), per
    if side == "rill":
        import xla

        import rill
        from rill.backend import jax_runtime as backend

        backend.load()  # configures JAX before its client exists (with --same-process too)
        return _repeat(getattr(xla, name.lower())(rill, True)), 1
    import jax
    import xla

    if _PEER_INLINE:
        jax.config.update("jax_cpu_enable_async_dispatch", False)
    return _repeat(getattr(xla, f"jax_{name.lower()}")(jax)), 1


_PEER_INLINE = False  # --peer-inline


def _pair_in_process(name):
    """(rill timer, peer timer, calls per unit), both sides built in this process."""
    (ours, per), (theirs, _) = _side(name, "rill"), _side(name, "peer")
    return ours, theirs, per


def _pair_in_workers(name):
    """(rill timer, peer timer, calls per unit), each side in a worker process of its own,
    as its users run it: a framework's process-wide settings (rill's malloc policy, a
    thread pool) then do not act on the other side. The parent only says when each runs."""
    workers = [_Worker(name, side) for side in ("rill", "peer")]
    pers = [w.start() for w in workers]
    return workers[0].time, workers[1].time, pers[0]


class _Worker:
    def __init__(self, name, side):
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, side]
        cmd += ["--threads", str(run.OPTIONS["threads"] or 1)]
        cmd += ["--peer-inline"] if _PEER_INLINE else []
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        _WORKERS.append(self)

    def start(self) -> int:
        """Wait until the workload is built; its calls per unit."""
        kind, _, rest = self.proc.stdout.readline().strip().partition(" ")
        if kind != "ready":
            self.stop()
            raise ImportError(rest or "the worker process failed")
        return int(rest)

    def time(self, n) -> float:
        self.proc.stdin.write(f"{n}\n")
        return float(self.proc.stdout.readline())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


_WORKERS: list = []
_pair = _pair_in_workers


def _serve(name, side) -> int:
    """A worker's loop: build one side, then time ``n`` calls per line read. The replies
    go to the real stdout; anything the workload prints goes to stderr."""
    reply, sys.stdout = sys.stdout, sys.stderr
    try:
        timer, per = _side(name, side)
    except ImportError as e:
        print(f"error {e}", file=reply, flush=True)
        return 0
    print(f"ready {per}", file=reply, flush=True)
    for line in sys.stdin:
        print(repr(timer(int(line))), file=reply, flush=True)
    return 0


def _repeat(fn):
    def timer(n):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        return time.perf_counter() - t

    return timer


def measure(name, rounds: int, turn_s: float) -> dict:
    """Alternate the two sides ``rounds`` times; per-pair ratios and the best turns."""
    ours, theirs, per = _pair(name)
    for timer in (ours, theirs):  # warm up: traces, compiles, caches
        timer(2)
    n = 1
    while ours(n) < turn_s / 4:
        n *= 4
    n = max(1, int(n * turn_s / max(ours(n), 1e-9)))
    ratios, best = [], [float("inf"), float("inf")]
    for r in range(rounds):
        if r % 2:  # peer first in every other pair: no side always runs second
            b, a = theirs(n), ours(n)
        else:
            a, b = ours(n), theirs(n)
        ratios.append(a / b)
        best = [min(best[0], a), min(best[1], b)]
    unit = n * per
    return {"ratios": ratios, "rill": best[0] / unit, "peer": best[1] / unit}


def _fmt_time(s: float) -> str:
    return f"{s * 1e3:.3f} ms" if s >= 1e-3 else f"{s * 1e6:.2f} us"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=31, help="pairs of turns per target")
    ap.add_argument("--turn", type=float, default=0.05, help="seconds per turn (about)")
    ap.add_argument("--only", nargs="+", choices=list(TARGETS), help="these targets only")
    ap.add_argument("--threads", type=int, default=1, help="threads for every framework")
    ap.add_argument(
        "--same-process",
        action="store_true",
        help="both sides in this process (each framework's process-wide settings act on both)",
    )
    ap.add_argument(
        "--peer-inline",
        action="store_true",
        help="JAX peers run CPU computations on the calling thread, as rill's compiler does",
    )
    ap.add_argument("--worker", nargs=2, metavar=("TARGET", "SIDE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    run.limit_threads(args.threads)
    global _PEER_INLINE
    _PEER_INLINE = args.peer_inline
    if args.worker:
        return _serve(*args.worker)
    global _pair
    _pair = _pair_in_process if args.same_process else _pair_in_workers
    print(
        f"{'target':9} {'issue':>5} {'peer':>6} {'rill best':>11} {'peer best':>11} "
        f"{'best/best':>9} {'median':>7} {'quartiles':>13} {'within':>7}"
    )
    for name in args.only or TARGETS:
        issue, peer, goal = TARGETS[name]
        try:
            m = measure(name, args.rounds, args.turn if name != "W4" else 4 * args.turn)
        except ImportError as e:
            print(f"{name:9} {issue:>5} {peer:>6}   skipped: {e}")
            continue
        finally:
            while _WORKERS:
                _WORKERS.pop().stop()
        ratios = sorted(m["ratios"])
        q1, med, q3 = statistics.quantiles(ratios, n=4)
        within = sum(r <= goal for r in ratios) / len(ratios)
        print(
            f"{name:9} {issue:>5} {peer:>6} {_fmt_time(m['rill']):>11} "
            f"{_fmt_time(m['peer']):>11} {m['rill'] / m['peer']:>8.2f}x {med:>6.2f}x "
            f"{q1:>5.2f}-{q3:.2f}x {within:>6.0%}   (target <= {goal}x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
