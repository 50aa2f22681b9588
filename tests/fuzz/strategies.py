"""Hypothesis strategies for fuzzing ops: arrays with adversarial values, axes, sizes.

Every strategy yields plain Python or NumPy values (never a library's tensor), so that one
drawn call can be replayed on rill and on TensorFlow alike.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

FLOATS = ("float32", "float64")
INTS = ("int32", "int64")
NUMERIC = FLOATS + INTS
ALL = NUMERIC + ("bool",)

# (no subnormals: TF's CPU kernels flush them to zero, so 0 / 1e-45 is NaN there)
# values at the edges: signed zeros, non-finite, large (but not at float32's edge, where the
# order of a sum decides between a finite result and inf), tiny
_SPECIAL_FLOATS = (0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, np.nan, np.inf, -np.inf, 1e30, -1e-30)
_SPECIAL_INTS = (0, 1, -1, 2, 3, -7, 100)

# sizes a caller may pass for a dimension, a count or a depth: valid small ones, negative
# ones, and ones no machine can hold (2**40 elements) or that overflow int64 together
# (never between 2**20 and 2**40: such sizes would really be allocated, gigabytes per call)
ADVERSARIAL_SIZES = (-(2**62), -2, -1, 2**40, 2**62, 2**63 - 1)


def sizes(max_size: int = 4) -> st.SearchStrategy:
    """A dimension, count or depth: mostly small and valid, sometimes adversarial."""
    return st.one_of(
        st.integers(0, max_size), st.integers(0, max_size), st.sampled_from(ADVERSARIAL_SIZES)
    )


def shapes(min_rank=0, max_rank=3, max_dim=4) -> st.SearchStrategy:
    """A tensor shape; dims of 0 (empty tensors) are as likely as any other."""
    return st.lists(st.integers(0, max_dim), min_size=min_rank, max_size=max_rank).map(tuple)


def _elements(dtype: str) -> st.SearchStrategy:
    if dtype in FLOATS:
        return st.one_of(
            st.sampled_from(_SPECIAL_FLOATS), st.floats(-10, 10, width=32, allow_subnormal=False)
        )
    if dtype in INTS:
        return st.one_of(st.sampled_from(_SPECIAL_INTS), st.integers(-10, 10))
    if dtype == "bool":
        return st.booleans()
    return st.sampled_from((b"", b"a", b"bc", "\u00e9".encode()))  # strings


@st.composite
def arrays(draw, dtypes=NUMERIC, shape=None, min_rank=0, max_rank=3, max_dim=4):
    """A NumPy array of one of ``dtypes`` (``"string"``: an object array of bytes)."""
    dtype = draw(st.sampled_from(dtypes))
    shp = draw(shapes(min_rank, max_rank, max_dim)) if shape is None else tuple(shape)
    n = int(np.prod(shp))
    vals = draw(st.lists(_elements(dtype), min_size=n, max_size=n))
    if dtype == "string":
        arr = np.empty(n, dtype=object)
        arr[:] = vals
        return arr.reshape(shp)
    return np.array(vals, dtype=dtype).reshape(shp)


def axes(rank_hint: int = 4) -> st.SearchStrategy:
    """An axis argument: in range, out of range, None, a list, or of the wrong type."""
    return st.one_of(
        st.integers(-rank_hint - 1, rank_hint),
        st.integers(-rank_hint - 1, rank_hint),
        st.none(),
        st.lists(st.integers(-rank_hint - 1, rank_hint), max_size=3),
        st.sampled_from((1.5, 0.5, "a", [0, 0])),
    )


def int_axis(rank_hint: int = 4) -> st.SearchStrategy:
    """A scalar axis: mostly ints (some out of range), sometimes a float or a string."""
    return st.one_of(
        st.integers(-rank_hint - 1, rank_hint),
        st.integers(-rank_hint - 1, rank_hint),
        st.sampled_from((1.5, "a")),
    )


def index_arrays(max_index: int = 5, max_rank: int = 2) -> st.SearchStrategy:
    """Integer index arrays with negative and out-of-range entries."""
    return st.builds(
        lambda vals, dt: np.array(vals, dtype=dt),
        st.lists(st.integers(-3, max_index), max_size=5),
        st.sampled_from(INTS),
    ) | arrays(dtypes=INTS, max_rank=max_rank)
