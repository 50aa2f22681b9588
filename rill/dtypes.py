"""``tf.dtypes``: the DType objects, ``as_dtype``, ``cast`` and friends."""

import rill.dtypes_experimental as experimental  # noqa: F401
from rill.core.dtypes import (  # noqa: F401
    QUANTIZED_DTYPES,
    DType,
    as_dtype,
    bfloat16,
    bool,
    complex64,
    complex128,
    double,
    float16,
    float32,
    float64,
    half,
    int8,
    int16,
    int32,
    int64,
    qint8,
    qint16,
    qint32,
    quint8,
    quint16,
    resource,
    string,
    uint8,
    uint16,
    uint32,
    uint64,
    variant,
)  # fmt: skip
from rill.ops._op import populate as _populate

# cast, complex, saturate_cast: the exported objects (with ragged dispatch where it applies)
_populate(globals(), "dtypes")
del _populate
