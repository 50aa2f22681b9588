"""``tf.experimental``: re-exports of what is registered under this namespace."""

import rill.data as _data  # noqa: F401 - registers tf.experimental.Optional
from rill.experimental import dispatch as _dispatch  # noqa: F401 - dispatch_for_*
from rill.experimental import extension_type  # noqa: F401 - ExtensionType, its Spec
from rill.experimental import runtime as _runtime  # noqa: F401 - async_scope, dtypes
from rill.experimental import dlpack  # noqa: F401 - tf.experimental.dlpack
from rill.structures import structured_tensor as _structured_tensor  # noqa: F401 - StructuredTensor
from rill.ops._op import populate as _populate

_populate(globals(), "experimental")
del _populate


def __getattr__(name):
    # tf.experimental.numpy loads on first use
    if name == "numpy":
        import importlib

        return importlib.import_module("rill.experimental.numpy")
    raise AttributeError(f"module 'rill.experimental' has no attribute {name!r}")
