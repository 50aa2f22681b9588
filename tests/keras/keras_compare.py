"""Comparing rill's Keras results with Keras 3's: dtype, shape and values, all three."""

from __future__ import annotations

import numpy as np


def dtype_name(x) -> str:
    """The dtype of a rill/TF tensor, a Keras variable (its dtype is a string), a NumPy
    array or a Python number, by name ("float32")."""
    d = getattr(x, "dtype", None)
    if d is None:
        return np.asarray(x).dtype.name
    if isinstance(d, str):
        return d
    return getattr(d, "name", None) or np.dtype(d).name


def assert_matches_keras(got, ref, rtol=1e-7, atol=0.0, err_msg="", exact=False):
    """rill's ``got`` and Keras's ``ref`` have the same dtype, the same shape and close (or,
    with ``exact``, equal) values."""
    dg, dr = dtype_name(got), dtype_name(ref)
    assert dg == dr, f"{err_msg}: dtype {dg} (rill) vs {dr} (Keras)"
    g, r = np.asarray(got), np.asarray(ref)
    assert g.shape == r.shape, f"{err_msg}: shape {g.shape} (rill) vs {r.shape} (Keras)"
    if exact:
        np.testing.assert_array_equal(g, r, err_msg=err_msg)
    else:
        np.testing.assert_allclose(g, r, rtol=rtol, atol=atol, err_msg=err_msg)
