"""``tf.__version__``, ``tf.version`` and ``tf.sysconfig``: TF's names, types and formats."""

import importlib.util
import os
import re
import subprocess
import sys

import pytest
from packaging.version import Version

import rill as tf

VERSION_NAMES = {
    "VERSION": str,
    "GIT_VERSION": str,
    "COMPILER_VERSION": str,
    "GRAPH_DEF_VERSION": int,
    "GRAPH_DEF_VERSION_MIN_CONSUMER": int,
    "GRAPH_DEF_VERSION_MIN_PRODUCER": int,
}


def test_version_is_the_tf_api_version_with_rill_as_local_label():
    assert tf.__version__ == tf.version.VERSION
    v = Version(tf.__version__)
    assert v.public == "2.21.0"
    assert v.local == f"rill.{tf.__rill_version__}"
    assert v >= Version("2.8") and v < Version("2.22")
    assert str(v) == tf.__version__  # already in PEP 440's normal form


def test_idioms_that_read_the_version():
    major, minor = (int(p) for p in tf.__version__.split(".")[:2])
    assert (major, minor) == (2, 21)
    assert tf.__version__.startswith("2.")
    assert tuple(map(int, tf.__version__.split("+")[0].split("."))) == (2, 21, 0)


def test_rill_version_is_the_package_version():
    from importlib.metadata import version

    assert tf.__rill_version__ == version("rill")
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", tf.__rill_version__)
    from rill import __version__

    assert __version__ == tf.__version__


def test_local_label_is_pep440():
    from rill.version import _local_label

    assert _local_label("0.1.0") == "0.1.0"
    label = _local_label("0.2.0.dev3+g1a2b-dirty")
    assert Version(f"2.21.0+rill.{label}").local == f"rill.{label}"


def test_version_namespace():
    for name, typ in VERSION_NAMES.items():
        assert type(getattr(tf.version, name)) is typ, name
    assert tf.version.GRAPH_DEF_VERSION_MIN_CONSUMER <= tf.version.GRAPH_DEF_VERSION
    assert tf.__git_version__ == tf.version.GIT_VERSION
    assert tf.__compiler_version__ == tf.version.COMPILER_VERSION


def test_sysconfig():
    info = tf.sysconfig.get_build_info()
    assert isinstance(info, dict)
    assert info["is_cuda_build"] is False and info["is_rocm_build"] is False
    assert os.path.isdir(tf.sysconfig.get_lib()) and os.path.isdir(tf.sysconfig.get_include())
    assert os.path.samefile(tf.sysconfig.get_lib(), os.path.dirname(tf.__file__))
    for flags in (tf.sysconfig.get_compile_flags(), tf.sysconfig.get_link_flags()):
        assert isinstance(flags, list) and all(isinstance(f, str) for f in flags)
    for name in ("CXX11_ABI_FLAG", "CXX_VERSION", "MONOLITHIC_BUILD"):
        assert type(getattr(tf.sysconfig, name)) is int


def test_import_stays_light():
    # the version reads package metadata only when asked for
    code = (
        "import sys, rill; assert 'importlib.metadata' not in sys.modules; "
        "assert 'rill.version' not in sys.modules and 'rill.sysconfig' not in sys.modules; "
        "rill.__version__; assert 'rill.version' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="TensorFlow not installed"
)
def test_same_shape_as_tensorflow():
    import tensorflow as real

    assert Version(real.__version__).release[:2] == Version(tf.__version__).release[:2]
    for name in VERSION_NAMES:
        assert type(getattr(real.version, name)) is type(getattr(tf.version, name)), name
    assert set(real.sysconfig.get_build_info()) >= set(tf.sysconfig.get_build_info())
    for fn in ("get_include", "get_lib", "get_compile_flags", "get_link_flags"):
        assert type(getattr(real.sysconfig, fn)()) is type(getattr(tf.sysconfig, fn)()), fn
