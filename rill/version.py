"""``tf.version``: which TensorFlow API rill implements, and rill's own version.

``VERSION`` (and ``rill.__version__``) is the TensorFlow release whose API rill follows,
with rill's package version as a PEP 440 local label: ``"2.21.0+rill.0.1.0"``. Code that
compares ``tf.__version__`` against a TensorFlow release (``packaging.version.parse``,
``tuple(map(int, v.split("+")[0].split(".")))``) sees 2.21.0. rill's own version alone is
``rill.__rill_version__``.

rill runs no compiled code, so the build fields say so rather than borrow TensorFlow's: ``GIT_VERSION`` is ``"unknown"`` (what a TensorFlow build gives
when it has no git description), ``COMPILER_VERSION`` names the Python implementation rill
runs on, and the GraphDef versions are those of the TensorFlow release rill follows.
"""

import platform as _platform

# the TensorFlow release whose public API rill implements (tools/api/tf-2.21.json)
_TF_API_VERSION = "2.21.0"
# pyproject.toml's version, for a source tree that is not installed
_FALLBACK = "0.1.0"


def _package_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python without importlib.metadata
        return _FALLBACK
    try:
        return version("rill")
    except PackageNotFoundError:
        return _FALLBACK


def _local_label(v: str) -> str:
    # PEP 440 local labels are alphanumerics separated by dots
    return "".join(c if c.isalnum() else "." for c in v).strip(".")


_RILL_VERSION = _package_version()
VERSION = f"{_TF_API_VERSION}+rill.{_local_label(_RILL_VERSION)}"
GIT_VERSION = "unknown"
COMPILER_VERSION = (
    f"pure Python ({_platform.python_implementation()} {_platform.python_version()}), "
    "no compiled code"
)
# the GraphDef format versions of TensorFlow 2.21, the release rill follows
GRAPH_DEF_VERSION = 2474
GRAPH_DEF_VERSION_MIN_CONSUMER = 0
GRAPH_DEF_VERSION_MIN_PRODUCER = 0

__all__ = [
    "VERSION", "GIT_VERSION", "COMPILER_VERSION", "GRAPH_DEF_VERSION",
    "GRAPH_DEF_VERSION_MIN_CONSUMER", "GRAPH_DEF_VERSION_MIN_PRODUCER",
]  # fmt: skip
