"""``tf.data``: Dataset and its sources, TFRecord and Example I/O, lookup tables."""

import rill.structures as _structures  # noqa: F401 - ragged/sparse elements
from rill.data import (  # noqa: F401 - register the exports
    dataset_ops,
    example,
    experimental_extra,
    experimental_more,
    experimental_ops,
    iterator_ops,
    lookup,
    mutable_lookup,
    options,
    readers,
    sampling,
    save_load,
    tfrecord,
)
from rill.ops._op import populate as _populate

_populate(globals(), "data")
del _populate

from rill.data import experimental  # noqa: E402,F401 - tf.data.experimental
