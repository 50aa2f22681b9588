"""``tf.sparse.sampled_addmm``: a dense product read only at a sparse pattern."""

from __future__ import annotations

import numpy as np

from rill.core import dtypes as _d
from rill.ops._op import InvalidArgumentError, convert_to_tensor, op_error, static_value, tf_export
from rill.ops.array_ops import cast
from rill.ops.indexing_ops import gather_nd
from rill.ops.linalg_ops import matmul


@tf_export("sparse.sampled_addmm")
def sampled_addmm(indices, values, dense_shape, mat1, mat2, beta=1.0, alpha=1.0,
                  output_type=_d.float32):  # fmt: skip
    """``alpha * (mat1 @ mat2)`` at ``indices`` plus ``beta * values``: returns the
    ``(indices, values, dense_shape)`` of the result. Leading dimensions of ``indices``,
    ``values`` and the matrices are batch dimensions; ``dense_shape`` is the matrices'
    ``[rows, cols]``."""
    indices = convert_to_tensor(indices)
    values = convert_to_tensor(values)
    dense_shape = convert_to_tensor(dense_shape)
    product = matmul(mat1, mat2)
    want = static_value(dense_shape)
    got = product.shape.as_list()[-2:] if product.shape.rank else None
    if want is not None and got is not None and None not in got:
        if np.asarray(want).tolist() != got:
            raise op_error(
                InvalidArgumentError,
                "sampled_addmm",
                f"dense_shape {np.asarray(want).tolist()} must equal the shape of mat1 @ mat2's "
                f"last two dimensions, {got}",
            )
    batch_dims = max((indices.shape.rank or 2) - 2, 0)
    sampled = gather_nd(product, indices, batch_dims=batch_dims)
    out = convert_to_tensor(alpha, dtype=sampled.dtype) * sampled + convert_to_tensor(
        beta, dtype=sampled.dtype
    ) * cast(values, sampled.dtype)
    return indices, cast(out, output_type), dense_shape
