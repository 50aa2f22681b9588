"""``tf.sysconfig``: how rill was built, for build scripts that ask.

rill is pure Python on NumPy: it has no C++ headers, no shared library and no custom-op
ABI, so there is nothing to compile or link against. The paths point at the installed
package (they exist, so ``-I``/``-L`` flags built from them stay harmless), the flag
lists are empty, and the C++ build constants are 0 ("none"). ``tf.load_op_library``
style custom kernels cannot be used with rill whatever these say.
"""

import os as _os

# TensorFlow's C++ build constants; rill has no C++ build
CXX11_ABI_FLAG = 0
CXX_VERSION = 0
MONOLITHIC_BUILD = 0


def get_lib() -> str:
    """The directory of the installed rill package (rill has no shared library)."""
    return _os.path.dirname(_os.path.abspath(__file__))


def get_include() -> str:
    """The rill package directory: rill ships no C++ headers."""
    return get_lib()


def get_compile_flags() -> list:
    """Flags for compiling against rill: none, it has no C++ API."""
    return []


def get_link_flags() -> list:
    """Flags for linking against rill: none, it has no shared library."""
    return []


def get_build_info() -> dict:
    """Build facts in TensorFlow's keys: rill uses no CUDA, ROCm or TensorRT."""
    return {"is_cuda_build": False, "is_rocm_build": False, "is_tensorrt_build": False}


__all__ = [
    "CXX11_ABI_FLAG", "CXX_VERSION", "MONOLITHIC_BUILD", "get_build_info",
    "get_compile_flags", "get_include", "get_link_flags", "get_lib",
]  # fmt: skip
