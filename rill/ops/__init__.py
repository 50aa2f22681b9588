"""Primitive declarations and the public op functions, by area.

Importing this package registers every primitive and installs Tensor operators.
"""

from rill.ops import (  # noqa: F401 - imported for registration
    array_ops,
    cast_ops,
    clip_ops,
    control_flow,
    conv_ops,
    creation_ops,
    debugging_ops,
    fft_ops,
    graph_ops,
    image_box_ops,
    image_codec_ops,
    image_ops,
    image_resize_ops,
    indexing_ops,
    linalg_decomposition_ops,
    linalg_ops,
    logging_ops,
    math_ops,
    nn_extra_ops,
    nn_more_ops,
    nn_ops,
    operators,
    partition_ops,
    patch_ops,
    py_func,
    quantization_ops,
    random_ops,
    raw_top_ops,
    reduction_ops,
    shape_ops,
    sequence_ops,
    signal_ops,
    space_batch_ops,
    sort_ops,
    special_ops,
    tensor_array,
    unary_ops,
)

operators.install()
