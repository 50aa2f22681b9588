"""Cases for rill/ops/raw_top_ops.py's primitive (integer outputs: shape rule only)."""

import numpy as np

import rill.ops.raw_top_ops  # noqa: F401 - registers RaggedFillEmptyRows
from tests.ops.cases import case

case("RaggedFillEmptyRows", np.array([1, 1, 3], np.int64), np.array(5, np.int64), grad=False)
case("RaggedFillEmptyRows", np.array([2, 0], np.int64), np.array(3, np.int64), grad=False)
