"""Cases for the summary primitives (WriteSummary, FlushSummaryWriter).

They run against a stand-in writer that keeps what it is given, so the registry run
writes no files; tests/summary checks the real writer and the files.
"""

import numpy as np

import rill.summary  # noqa: F401 - registers WriteSummary, FlushSummaryWriter
from rill.core import dtypes as d
from tests.ops.cases import case, rnd


class _Events:
    closed = False

    def __init__(self):
        self.items = []

    def add(self, item):
        self.items.append(item)
        return True

    def request_flush(self):
        pass


class _StandInWriter:
    logdir = "<stand-in>"

    def __init__(self):
        self._events = _Events()


_w = _StandInWriter()
_step = np.array(3, np.int64)


def _params(kind, options, tag="t"):
    return {"writer": _w, "tag": tag, "metadata": b"", "kind": kind, "options": options}


case(
    "WriteSummary", _step, np.array(0.5, np.float32), grad=False, **_params("tensor", (d.float32,))
)
case("WriteSummary", _step, rnd(4, 3), grad=False, **_params("histogram", (30,)))
case("WriteSummary", _step, rnd(2, 3, 4, 3), grad=False, **_params("image", (3,)))
case("WriteSummary", _step, rnd(1, 8, 2), grad=False, **_params("audio", (8000, 3)))
case(
    "WriteSummary",
    _step,
    np.array([b"a", b"b"], object),
    grad=False,
    **_params("tensor", (d.string,)),
)
case("FlushSummaryWriter", writer=_w, grad=False)
