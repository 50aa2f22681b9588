"""``tf.io``: file, record and tensor-encoding I/O (``tf.io.gfile`` is the file API)."""

import rill.data as _data  # noqa: F401 - registers the io exports
from rill.io import gfile  # noqa: F401 - tf.io.gfile
from rill.io import codecs, files, proto_codec, sequence_example, sparse_serialization  # noqa: F401
from rill.ops._op import populate as _populate

_populate(globals(), "io")
del _populate
