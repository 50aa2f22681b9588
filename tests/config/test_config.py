"""tf.config: devices, visibility, logical devices, memory, execution settings,
run_functions_eagerly and tf.device placement, as TensorFlow 2.21 behaves.

``config_scenario.py`` walks through the namespace; ``config_scenario_tf.txt`` is what
TensorFlow 2.21 printed for it (re-checked against TensorFlow when it is installed)."""

import importlib.util
import os
import subprocess
import sys

import pytest

import rill
from rill.core import runtime

HAS_TF = importlib.util.find_spec("tensorflow") is not None
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CPU = rill.config.PhysicalDevice("/physical_device:CPU:0", "CPU")

# dir() of TF 2.21's namespaces, public names
NAMES = {
    "config": """LogicalDevice LogicalDeviceConfiguration PhysicalDevice experimental
        experimental_connect_to_cluster experimental_connect_to_host
        experimental_functions_run_eagerly experimental_run_functions_eagerly
        functions_run_eagerly get_logical_device_configuration get_soft_device_placement
        get_visible_devices list_logical_devices list_physical_devices optimizer
        run_functions_eagerly set_logical_device_configuration set_soft_device_placement
        set_visible_devices threading""",
    "config.experimental": """ClusterDeviceFilters VirtualDeviceConfiguration
        disable_mlir_bridge enable_mlir_bridge enable_op_determinism
        enable_tensor_float_32_execution get_device_details get_device_policy
        get_memory_growth get_memory_info get_memory_usage get_synchronous_execution
        get_virtual_device_configuration get_visible_devices list_logical_devices
        list_physical_devices reset_memory_stats set_device_policy set_memory_growth
        set_synchronous_execution set_virtual_device_configuration set_visible_devices
        tensor_float_32_execution_enabled""",
    "config.threading": """get_inter_op_parallelism_threads get_intra_op_parallelism_threads
        set_inter_op_parallelism_threads set_intra_op_parallelism_threads""",
    "config.optimizer": "get_experimental_options get_jit set_experimental_options set_jit",
}


def _ns(root, dotted):
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


@pytest.mark.parametrize("ns", sorted(NAMES))
def test_every_name(ns):
    module = _ns(rill, ns)
    for name in NAMES[ns].split():
        assert hasattr(module, name), f"tf.{ns}.{name}"


@pytest.mark.skipif(not HAS_TF, reason="TensorFlow not installed")
@pytest.mark.parametrize("ns", sorted(NAMES))
def test_names_are_tensorflows(ns):
    import tensorflow as tf

    assert {n for n in dir(_ns(tf, ns)) if not n.startswith("_")} == set(NAMES[ns].split())


def _scenario(module, python=sys.executable):
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [python, os.path.join(HERE, "config_scenario.py"), module],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.splitlines()


def _recorded():
    with open(os.path.join(HERE, "config_scenario_tf.txt")) as f:
        return f.read().splitlines()


def test_scenario_matches_tensorflow_record():
    """Values, dtypes, reprs and the exception class of every step, in a fresh process."""
    assert _scenario("rill") == _recorded()


@pytest.mark.skipif(not HAS_TF, reason="TensorFlow not installed")
def test_record_is_tensorflows():
    assert _scenario("tensorflow") == _recorded()


# ------------------------------------------------------------------------ devices
def test_physical_and_logical_devices():
    c = rill.config
    (cpu,) = c.list_physical_devices()
    assert cpu == CPU and cpu.name == "/physical_device:CPU:0" and cpu.device_type == "CPU"
    assert repr(cpu) == "PhysicalDevice(name='/physical_device:CPU:0', device_type='CPU')"
    assert (
        c.list_physical_devices("GPU") == [] and c.experimental.list_physical_devices("cpu") == []
    )
    assert not runtime.settings.initialized
    assert c.list_logical_devices() == [c.LogicalDevice("/device:CPU:0", "CPU")]
    assert runtime.settings.initialized  # listing logical devices initialises, as in TF


def test_initialisation_by_device_scope_fixes_devices():
    with rill.device("CPU:0"):
        pass
    assert runtime.settings.initialized
    with pytest.raises(RuntimeError, match="Visible devices cannot be modified"):
        rill.config.set_visible_devices([])
    with pytest.raises(RuntimeError, match="Inter op parallelism"):
        rill.config.threading.set_inter_op_parallelism_threads(2)
    rill.config.threading.set_inter_op_parallelism_threads(0)  # unchanged: allowed


def test_running_ops_does_not_initialise():
    rill.constant([1.0]) + 1
    assert not runtime.settings.initialized
    rill.config.threading.set_inter_op_parallelism_threads(2)
    assert rill.config.threading.get_inter_op_parallelism_threads() == 2


def test_hidden_cpu():
    rill.config.set_visible_devices([])
    assert rill.config.get_visible_devices() == []
    with pytest.raises(rill.errors.NotFoundError, match="No CPU devices"):
        rill.config.list_logical_devices()
    with pytest.raises(rill.errors.NotFoundError):
        with rill.device("CPU:0"):
            pass


def test_logical_cpus_and_placement():
    c = rill.config
    c.set_logical_device_configuration(CPU, [c.LogicalDeviceConfiguration()] * 3)
    assert [d.name for d in c.list_logical_devices("CPU")] == [f"/device:CPU:{i}" for i in range(3)]
    c.set_soft_device_placement(False)
    with rill.device("/device:CPU:2"):
        assert (rill.constant(1) + 1).numpy() == 2
    for spec in ("CPU:3", "GPU:0"):
        with pytest.raises(rill.errors.InvalidArgumentError, match="soft device placement"):
            with rill.device(spec):
                pass
    c.set_soft_device_placement(True)
    with rill.device("GPU:0"):  # soft placement: runs on the CPU
        assert (rill.constant(1) + 1).numpy() == 2
    c.set_logical_device_configuration(CPU, [c.LogicalDeviceConfiguration()] * 3)  # same
    with pytest.raises(RuntimeError):  # initialised by the scopes above
        c.set_logical_device_configuration(CPU, [])
    with pytest.raises(TypeError):
        c.set_logical_device_configuration(CPU, c.LogicalDeviceConfiguration())


@pytest.mark.parametrize(
    "spec",
    ["cpu", "CPU", "CPU:0", "cpu:0", "/cpu:0", "/CPU:0", "/device:CPU:0", "/device:cpu:0",
     "/job:localhost/replica:0/task:0/device:CPU:0", "/job:localhost", "/task:0", "CPU:*", None, ""],
)  # fmt: skip
def test_cpu_spellings(spec):
    with rill.device(spec):
        assert (rill.constant([1.0]) * 2).numpy().tolist() == [2.0]


def test_canonical_device_names():
    canon = runtime.canonical_device
    assert canon("/cpu:0") == canon("CPU:0") == canon("/device:CPU:0") == "/device:CPU:0"
    assert (
        canon("/job:localhost/replica:0/task:0/cpu:0")
        == "/job:localhost/replica:0/task:0/device:CPU:0"
    )
    assert canon("gpu") == "/device:GPU:*" and canon(None) == canon("") == ""


def test_device_scope_while_tracing():
    @rill.function
    def f(x):
        with rill.device("/device:GPU:0"):  # soft placement: CPU
            return x + 1

    assert f(rill.constant(1.0)).numpy() == 2.0


# ------------------------------------------------------------------------ run_functions_eagerly
def test_run_functions_eagerly():
    trace_calls = []

    @rill.function(input_signature=[rill.TensorSpec([2], rill.float32)])
    def f(x):
        trace_calls.append(rill.executing_eagerly())
        return x * 2

    rill.config.run_functions_eagerly(True)
    try:
        assert f(rill.constant([1.0, 2.0])).numpy().tolist() == [2.0, 4.0]
        # as in TF, the input signature is not enforced: the Python just runs
        assert f(rill.constant([1.0, 2.0, 3.0])).numpy().tolist() == [2.0, 4.0, 6.0]
        assert trace_calls == [True, True] and f.experimental_get_tracing_count() == 0
        f.get_concrete_function()  # concrete functions are still traced
        assert trace_calls[-1] is False
        # tf.data functions are still traced once, not run per element
        seen = []
        ds = rill.data.Dataset.range(3).map(lambda x: (seen.append(1), x + 1)[1])
        assert [int(v) for v in ds] == [1, 2, 3] and len(seen) == 1
    finally:
        rill.config.run_functions_eagerly(False)
    assert not rill.config.functions_run_eagerly()
    f(rill.constant([1.0, 2.0]))
    assert trace_calls[-1] is False


def test_connect_is_out_of_scope():
    with pytest.raises(NotImplementedError, match="remote"):
        rill.config.experimental_connect_to_host("localhost:1234")
    with pytest.raises(rill.errors.UnimplementedError):
        rill.config.experimental_connect_to_cluster(None)


def test_memory_and_settings_errors():
    e = rill.config.experimental
    with pytest.raises(ValueError, match="non-GPU"):
        e.set_memory_growth(CPU, True)
    for gpu in rill.config.list_physical_devices("GPU"):  # the usual idiom: a no-op here
        e.set_memory_growth(gpu, True)
    with pytest.raises(KeyError):
        e.get_memory_growth(CPU)
    with pytest.raises(TypeError):
        e.get_memory_info(3)
    with pytest.raises(ValueError, match="Allocator stats"):
        e.get_memory_info("CPU:0")
    with pytest.raises(TypeError):
        rill.config.threading.set_intra_op_parallelism_threads("3")
    with pytest.raises(TypeError):
        rill.config.threading.set_inter_op_parallelism_threads(2.0)
    f = e.ClusterDeviceFilters()
    f.set_device_filters("worker", 1, ["/job:ps"])
    assert f._device_filters == {"worker": {1: ["/job:ps"]}}
