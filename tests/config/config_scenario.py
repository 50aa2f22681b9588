"""One run through tf.config, printed line by line, for TensorFlow or rill:

    python tests/config/config_scenario.py tensorflow|rill

Each line is ``label: outcome`` (a repr, or the class name of the exception raised). The
steps never run an op before the devices are initialised (by ``list_logical_devices``):
running ops initialises TensorFlow but not rill (see rill.core.runtime)."""

import importlib
import sys


def main(name):
    tf = importlib.import_module(name)
    c = tf.config
    out = []

    def step(label, fn, *args, **kwargs):
        try:
            r = fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - the class is the outcome
            r = f"raises {type(e).__name__}"
        else:
            r = repr(r)
        out.append(f"{label}: {r}")
        if "-v" in sys.argv:
            print(out[-1], flush=True)

    pd = c.list_physical_devices()
    cpu = pd[0]
    fake_gpu = c.PhysicalDevice("/physical_device:GPU:0", "GPU")
    LDC = c.LogicalDeviceConfiguration
    step("physical", lambda: pd)
    step("fields", lambda: (type(cpu).__name__, cpu._fields, isinstance(cpu, tuple)))
    for t in ("CPU", "GPU", "cpu", "XYZ"):
        step(f"physical {t}", c.list_physical_devices, t)
    step("visible", c.get_visible_devices)
    step("visible GPU", c.get_visible_devices, "GPU")
    step("logical config", c.get_logical_device_configuration, cpu)
    step("logical config str", c.get_logical_device_configuration, "cpu")
    step("LDC", lambda: (LDC(memory_limit=3), LDC._fields))
    step("VDC alias", lambda: c.experimental.VirtualDeviceConfiguration is LDC)
    step("get growth cpu", c.experimental.get_memory_growth, cpu)
    step("get growth fake", c.experimental.get_memory_growth, fake_gpu)
    step("set growth cpu", c.experimental.set_memory_growth, cpu, True)
    step("set growth str", c.experimental.set_memory_growth, "/physical_device:CPU:0", True)
    step("set growth fake", c.experimental.set_memory_growth, fake_gpu, True)
    step("details", c.experimental.get_device_details, cpu)
    step("details str", c.experimental.get_device_details, "x")
    step("soft", c.get_soft_device_placement)
    step("policy", c.experimental.get_device_policy)
    step("sync", c.experimental.get_synchronous_execution)
    step(
        "threads",
        lambda: (
            c.threading.get_inter_op_parallelism_threads(),
            c.threading.get_intra_op_parallelism_threads(),
        ),
    )
    step("jit", c.optimizer.get_jit)
    step("options", c.optimizer.get_experimental_options)
    step("tf32", c.experimental.tensor_float_32_execution_enabled)
    step("eagerly", lambda: (c.functions_run_eagerly(), c.experimental_functions_run_eagerly()))
    step("set inter", c.threading.set_inter_op_parallelism_threads, 3)
    step("set intra", c.threading.set_intra_op_parallelism_threads, 0)
    step(
        "threads",
        lambda: (
            c.threading.get_inter_op_parallelism_threads(),
            c.threading.get_intra_op_parallelism_threads(),
        ),
    )
    step("vis gpu", c.set_visible_devices, [], "GPU")
    step("vis cpu as gpu", c.set_visible_devices, [cpu], "GPU")
    step("vis fake", c.set_visible_devices, [fake_gpu])
    step("vis cpu", c.set_visible_devices, cpu)
    step("vis cpu list", c.set_visible_devices, [cpu], "CPU")
    step("vis all", c.get_visible_devices)
    step("lcfg memory", c.set_logical_device_configuration, cpu, [LDC(memory_limit=10)])
    step("lcfg priority", c.set_logical_device_configuration, cpu, [LDC(experimental_priority=1)])
    step(
        "lcfg ordinal",
        c.set_logical_device_configuration,
        cpu,
        [LDC(experimental_device_ordinal=1)],
    )
    step("lcfg fake", c.set_logical_device_configuration, fake_gpu, [LDC()])
    step("lcfg two", c.set_logical_device_configuration, cpu, [LDC(), LDC()])
    step("lcfg get", c.get_logical_device_configuration, cpu)
    step("logical", c.list_logical_devices)  # initialises
    step("logical CPU", c.list_logical_devices, "CPU")
    step("logical GPU", c.list_logical_devices, "GPU")
    step("lcfg after init", c.set_logical_device_configuration, cpu, [LDC(), LDC()])
    step("vis same after init", c.set_visible_devices, cpu)
    step("vis gpu after init", c.set_visible_devices, [], "GPU")
    step("vis none after init", c.set_visible_devices, [])
    step("inter after init", c.threading.set_inter_op_parallelism_threads, 4)
    step("intra after init", c.threading.set_intra_op_parallelism_threads, 0)
    step(
        "soft after init",
        lambda: (c.set_soft_device_placement(True), c.get_soft_device_placement()),
    )
    for p in ("warn", "explicit", "silent_for_int32", "bogus", None):
        step(
            f"policy {p}",
            lambda p=p: (c.experimental.set_device_policy(p), c.experimental.get_device_policy()),
        )
    for e in (False, True):
        step(
            f"sync {e}",
            lambda e=e: (
                c.experimental.set_synchronous_execution(e),
                c.experimental.get_synchronous_execution(),
            ),
        )
        step(
            f"tf32 {e}",
            lambda e=e: (
                c.experimental.enable_tensor_float_32_execution(e),
                c.experimental.tensor_float_32_execution_enabled(),
            ),
        )
    step("determinism", c.experimental.enable_op_determinism)
    step(
        "mlir", lambda: (c.experimental.enable_mlir_bridge(), c.experimental.disable_mlir_bridge())
    )
    for j in (True, "autoclustering", False, None, 1, 1.0, 2, "on", "AUTOCLUSTERING"):
        step(f"jit {j!r}", lambda j=j: (c.optimizer.set_jit(j), c.optimizer.get_jit()))
    for opts in (
        {"constant_folding": True, "debug_stripper": False, "min_graph_nodes": 3},
        {"disable_meta_optimizer": True, "auto_mixed_precision": True},
        {},
        {"bogus": True, "auto_parallel": True, "constant_folding": None},
        {"layout_optimizer": 1, "min_graph_nodes": 0, "use_plugin_optimizers": True},
    ):
        step(
            f"options {sorted(opts)}",
            lambda o=opts: (
                c.optimizer.set_experimental_options(o),
                sorted(c.optimizer.get_experimental_options().items()),
            ),
        )
    step("options None", c.optimizer.set_experimental_options, None)
    step(
        "filters",
        lambda: c.experimental.ClusterDeviceFilters().set_device_filters("worker", 0, ["/job:ps"]),
    )
    for d in (
        "CPU:0",
        "/job:localhost/replica:0/task:0/device:CPU:0",
        "CPU:1",
        "CPU:2",
        "GPU:0",
        "CPU",
        "foo",
    ):
        step(f"meminfo {d}", c.experimental.get_memory_info, d)
    step("memusage", c.experimental.get_memory_usage, "CPU:0")
    step("reset stats", c.experimental.reset_memory_stats, "CPU:0")

    def place(spec):
        with tf.device(spec):
            return (tf.constant([1.0]) + 1).numpy().tolist()

    for d in (
        "cpu",
        "CPU:0",
        "/CPU:0",
        "/device:CPU:0",
        "CPU:1",
        "GPU:0",
        "gpu",
        "TPU:0",
        "/device:MYDEV:0",
        "CPU:5",
        None,
        "",
    ):
        step(f"place {d!r}", place, d)
    for d in (
        "foo",
        "/physical_device:CPU:0",
        "CPU:x",
        "/device:CPU:0/device:GPU:0",
        "/job:worker/task:1/device:CPU:0",
        "/replica:1",
        "MYDEV:0",
        3,
    ):
        step(f"place {d!r}", place, d)
    c.set_soft_device_placement(False)
    for d in ("CPU:0", "CPU:1", "CPU:2", "GPU:0", "TPU:0", "/job:localhost/device:CPU:0"):
        step(f"hard place {d!r}", place, d)
    c.set_soft_device_placement(True)

    calls = []

    @tf.function
    def f(x):
        calls.append(tf.executing_eagerly())
        return x * 2

    c.run_functions_eagerly(True)
    step(
        "eager f",
        lambda: (
            f(tf.constant(1.0)).numpy(),
            f(tf.constant(2.0)).numpy(),
            calls,
            f.experimental_get_tracing_count(),
        ),
    )
    step("eagerly", c.functions_run_eagerly)
    c.run_functions_eagerly(0)
    step(
        "graph f",
        lambda: (f(tf.constant(1.0)).numpy(), calls[-1], f.experimental_get_tracing_count()),
    )
    c.experimental_run_functions_eagerly(True)
    step("eagerly exp", c.functions_run_eagerly)
    c.run_functions_eagerly(False)
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
