"""Reading event files back with TensorBoard's own code (the ``tensorboard`` package,
a test extra), for the summary tests."""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

tb = pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing import plugin_event_accumulator  # noqa: E402
from tensorboard.backend.event_processing.event_file_loader import (  # noqa: E402
    EventFileLoader,
    RawEventFileLoader,
)
from tensorboard.compat.proto import event_pb2  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402


def event_files(logdir) -> list:
    return sorted(
        glob.glob(os.path.join(str(logdir), "**", "events.out.tfevents.*"), recursive=True)
    )


def raw_events(path) -> list:
    """Every Event of one file, parsed by TensorBoard's proto classes, as stored."""
    return [event_pb2.Event.FromString(r) for r in RawEventFileLoader(str(path)).Load()]


def loaded_events(path) -> list:
    """Every Event of one file as TensorBoard's loader gives them to its dashboards."""
    return list(EventFileLoader(str(path)).Load())


def only_file(logdir) -> str:
    files = event_files(logdir)
    assert len(files) == 1, files
    return files[0]


def summaries(path) -> list:
    """(step, wall_time, tag, plugin name, value as ndarray) of each summary value."""
    out = []
    for e in raw_events(path):
        if e.WhichOneof("what") != "summary":
            continue
        for v in e.summary.value:
            out.append(
                (e.step, e.wall_time, v.tag, v.metadata.plugin_data.plugin_name,
                 tensor_util.make_ndarray(v.tensor))
            )  # fmt: skip
    return out


def by_tag(path) -> dict:
    """tag -> [(step, value)] in file order."""
    out: dict = {}
    for step, _, tag, _, value in summaries(path):
        out.setdefault(tag, []).append((step, value))
    return out


def accumulator(run_dir):
    """TensorBoard's EventAccumulator over a run directory, fully loaded."""
    acc = plugin_event_accumulator.EventAccumulator(
        str(run_dir), size_guidance={"tensors": 0, "graph": 0}
    )
    acc.Reload()
    return acc


def tensor_values(acc, tag) -> list:
    return [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]


def as_array(x):
    return np.asarray(x)
