"""Each test here starts from rill's default runtime settings, uninitialised, and leaves
them as it found them (other tests may have initialised rill with a tf.device scope)."""

import pytest

from rill.config import _devices, experimental, optimizer
from rill.config import threading as config_threading
from rill.core import runtime


@pytest.fixture(autouse=True)
def fresh_runtime():
    s = runtime.settings
    saved = {k: getattr(s, k) for k in type(s).__slots__}
    saved_configs = dict(_devices._logical_configs)
    saved_flags = dict(vars(experimental._flags))
    saved_options, saved_jit = dict(optimizer._options), optimizer._jit[0]
    fresh = type(s)()
    for k in type(s).__slots__:
        setattr(s, k, getattr(fresh, k))
    _devices._logical_configs.clear()
    vars(experimental._flags).update(vars(type(experimental._flags)()))
    optimizer._options.clear()
    optimizer._jit[0] = ""
    yield
    limiter = config_threading._blas_limits[0]
    if limiter is not None:
        limiter.restore_original_limits()
        config_threading._blas_limits[0] = None
    for k, v in saved.items():
        setattr(s, k, v)
    _devices._logical_configs.clear()
    _devices._logical_configs.update(saved_configs)
    vars(experimental._flags).update(saved_flags)
    optimizer._options.clear()
    optimizer._options.update(saved_options)
    optimizer._jit[0] = saved_jit
