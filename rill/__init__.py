"""rill: TensorFlow 2's programming model on NumPy. ``import rill as tf``."""

from rill.core import dtypes as _dt
from rill.core.host_memory import tune_malloc as _tune_malloc
from rill.core.context import device, init_scope, name_scope
from rill.core.convert import constant, convert_to_tensor, register_tensor_conversion_function
from rill.core.dtypes import (  # noqa: F401
    DType, as_dtype, bfloat16, bool, complex64, complex128, double, float16, float32, float64,
    half, int8, int16, int32, int64, qint8, qint16, qint32, quint8, quint16, resource, string,
    uint8, uint16, uint32, uint64, variant,
)  # fmt: skip
from rill.core.tape import GradientTape, UnconnectedGradients, custom_gradient, recompute_grad
from rill.core.tensor import Tensor, TensorSpec
from rill.core.tensor_shape import Dimension, TensorShape
from rill.core.variables import Variable, VariableAggregation, VariableSynchronization
from rill.core.module import Module

from rill import ops as _ops  # noqa: F401 - registers every primitive
import rill.structures  # noqa: F401 - before the namespaces: it installs op dispatch
from rill import bitwise, debugging, dtypes, errors, linalg, math, nest, nn, random  # noqa: F401
from rill import image, queue, ragged, sets, signal, sparse, strings  # noqa: F401
from rill.ops._op import populate as _populate
from rill.tracing import ConcreteFunction, function
from rill import autograph  # noqa: F401 - tf.autograph.to_code works before any trace

newaxis = None
_tune_malloc()  # tensor-sized buffers stay mapped between ops (see rill.core.host_memory)
_populate(globals(), "")
del _populate


def executing_eagerly() -> bool:
    """True unless called while a ``rill.function`` is being traced."""
    from rill.core.dispatch import state

    return state.graph is None


def is_tensor(x) -> bool:
    return isinstance(x, Tensor) or getattr(x, "_rill_variable", False)


def get_static_value(tensor, partial=False):
    """The NumPy value of ``tensor`` if it is known without running a graph, else None."""
    from rill.ops._op import static_value

    if not is_tensor(tensor):
        return tensor
    return static_value(tensor)


_ = _dt


_LAZY = (
    "keras", "data", "io", "train", "lookup", "experimental", "version", "sysconfig", "summary",
    "config", "test", "audio", "autodiff", "distribute", "types", "saved_model",
    "quantization", "profiler", "feature_column", "graph_util",
)  # fmt: skip
# top-level names whose modules load on first use: {name: module that tf_exports it}
_LAZY_NAMES = {
    "DeviceSpec": "rill.device_spec",
    "AggregationMethod": "rill.framework_misc",
    "CriticalSection": "rill.framework_misc",
    "get_logger": "rill.framework_misc",
    "nondifferentiable_batch_function": "rill.framework_misc",
    "make_ndarray": "rill.tensor_util",
    "make_tensor_proto": "rill.tensor_util",
    "zeros_initializer": "rill.init_ops",
    "ones_initializer": "rill.init_ops",
    "constant_initializer": "rill.init_ops",
    "random_uniform_initializer": "rill.init_ops",
    "random_normal_initializer": "rill.init_ops",
    "TypeSpec": "rill.types.specs",
    "NoneTensorSpec": "rill.types.specs",
    "TensorArraySpec": "rill.types.specs",
    "OptionalSpec": "rill.types.specs",
    "type_spec_from_value": "rill.types.specs",
    "import_graph_def": "rill.saved_model.import_graph",
    "read_file": "rill.io",
    "write_file": "rill.io",
    "matching_files": "rill.io",
}
_KERAS_ALIASES = ("losses", "metrics", "optimizers", "initializers")
# __version__ is TF's API version with rill's as a local label ("2.21.0+rill.0.1.0"),
# __rill_version__ rill's own; both come from rill.version, which reads the package
# metadata on first use (importlib.metadata costs ~60 ms, so not at import)
_VERSION_ATTRS = {
    "__version__": "VERSION",
    "__rill_version__": "_RILL_VERSION",
    "__git_version__": "GIT_VERSION",
    "__compiler_version__": "COMPILER_VERSION",
}


def __getattr__(name):
    # these namespaces load on first use: importing rill stays fast
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"rill.{name}")
    if name in _LAZY_NAMES:
        import importlib

        from rill.ops._op import EXPORTS

        importlib.import_module(_LAZY_NAMES[name])
        return EXPORTS[("", name)]
    if name in _KERAS_ALIASES:  # tf.losses is tf.keras.losses, as in TF 2.16+
        import importlib

        return importlib.import_module(f"rill.keras.{name}")
    if name in _VERSION_ATTRS:
        from rill import version

        return getattr(version, _VERSION_ATTRS[name])
    raise AttributeError(f"module 'rill' has no attribute {name!r}")
