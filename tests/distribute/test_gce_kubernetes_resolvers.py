"""KubernetesClusterResolver and GCEClusterResolver over fake API clients (the injection
hooks TF itself tests with), checked against the pods/instances fed in and against TF."""

from types import SimpleNamespace as NS

import pytest

import rill as tf

cr = tf.distribute.cluster_resolver


# -- Kubernetes ------------------------------------------------------------------------


def _pod(name, ip, phase="Running"):
    return NS(metadata=NS(name=name), status=NS(phase=phase, host_ip=ip))


class FakeKubeClient:
    """Answers ``list_pod_for_all_namespaces(label_selector=...)`` from a dict."""

    def __init__(self, pods_by_selector):
        self.pods = pods_by_selector
        self.calls = []

    def list_pod_for_all_namespaces(self, label_selector):
        self.calls.append(label_selector)
        return NS(items=list(self.pods.get(label_selector, [])))


PODS = {
    "job-name=worker-a": [_pod("w-b", "10.0.0.2"), _pod("w-a", "10.0.0.1")],
    "job-name=worker-b": [_pod("w-c", "10.0.0.9")],
    "job-name=ps": [_pod("ps-1", "10.0.1.2"), _pod("ps-0", "10.0.1.7")],
}
MAPPING = {"worker": ["job-name=worker-a", "job-name=worker-b"], "ps": ["job-name=ps"]}


def _expected(mapping, pods, port):
    """Each job: for each selector in order, its pods sorted by name, as host_ip:port."""
    return {
        job: [
            f"{p.status.host_ip}:{port}"
            for sel in sels
            for p in sorted(pods[sel], key=lambda p: p.metadata.name)
        ]
        for job, sels in mapping.items()
    }


def test_kubernetes_cluster_spec_from_pods():
    client = FakeKubeClient(PODS)
    r = cr.KubernetesClusterResolver(MAPPING, tf_server_port=1234, override_client=client)
    assert r.cluster_spec().as_dict() == _expected(MAPPING, PODS, 1234)
    assert client.calls == ["job-name=worker-a", "job-name=worker-b", "job-name=ps"]
    assert (r.task_type, r.task_id, r.rpc_layer) == (None, None, "grpc")
    assert r.master() == ""
    r.task_type, r.task_id = "worker", 1
    assert r.master() == "grpc://10.0.0.2:1234"
    assert r.master("ps", 0, rpc_layer="http") == "http://10.0.1.7:1234"  # ps-0 sorts first
    assert r.num_accelerators() == {}


def test_kubernetes_defaults_and_not_running():
    pods = {"job-name=tensorflow": [_pod("t0", "1.2.3.4")]}
    r = cr.KubernetesClusterResolver(override_client=FakeKubeClient(pods))
    assert r.cluster_spec().as_dict() == {"worker": ["1.2.3.4:8470"]}
    bad = {"job-name=tensorflow": [_pod("t0", "1.2.3.4"), _pod("t1", "x", phase="Pending")]}
    r = cr.KubernetesClusterResolver(override_client=FakeKubeClient(bad))
    with pytest.raises(RuntimeError, match='"t1" is not running; phase: "Pending"'):
        r.cluster_spec()


def test_kubernetes_needs_client():
    try:
        import kubernetes  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"pip install 'rill\[kubernetes\]'"):
            cr.KubernetesClusterResolver()
    else:
        pytest.skip("kubernetes is installed")


def test_executable_location_enum():
    loc = cr.KubernetesExecutableLocation
    assert [(m.name, m.value) for m in loc] == [("WITHIN_CLUSTER", 0), ("OFF_CLUSTER", 1)]
    sig = __import__("inspect").signature(cr.KubernetesClusterResolver)
    assert sig.parameters["executable_location"].default is loc.WITHIN_CLUSTER


# -- GCE -------------------------------------------------------------------------------


class _Req:
    def __init__(self, result):
        self.result = result

    def execute(self):
        return self.result


class FakeCompute:
    """googleapiclient's compute service: ``instanceGroups().listInstances(...)`` pages
    (``listInstances_next``) and ``instances().get(...)``."""

    def __init__(self, pages, ips):
        self.pages, self.ips, self.list_kwargs, self.gets = pages, ips, None, []

    def instanceGroups(self):
        return self

    def instances(self):
        return NS(get=self._get)

    def listInstances(self, **kwargs):
        self.list_kwargs = kwargs
        return _Req(self.pages[0]) if self.pages else None

    def listInstances_next(self, previous_request, previous_response):
        i = self.pages.index(previous_response) + 1
        return _Req(self.pages[i]) if i < len(self.pages) else None

    def _get(self, project, zone, instance):
        self.gets.append((project, zone, instance))
        return _Req({"networkInterfaces": [{"networkIP": self.ips[instance]}]})


def _url(name):
    return f"https://www.googleapis.com/compute/v1/projects/p/zones/z/instances/{name}"


PAGES = [
    {"items": [{"instance": _url("vm-b")}, {"instance": _url("vm-a")}]},
    {"items": [{"instance": _url("vm-c")}]},
]
IPS = {"vm-a": "10.1.0.30", "vm-b": "10.1.0.4", "vm-c": "10.1.0.100"}


def test_gce_cluster_spec_from_instances():
    svc = FakeCompute(PAGES, IPS)
    r = cr.GCEClusterResolver("proj", "us-west1-b", "grp", 8470, service=svc)
    want = sorted(f"{ip}:8470" for ip in IPS.values())  # string order, as TF sorts
    assert r.cluster_spec().as_dict() == {"worker": want}
    assert svc.list_kwargs["body"] == {"instanceState": "RUNNING"}
    assert (svc.list_kwargs["project"], svc.list_kwargs["zone"]) == ("proj", "us-west1-b")
    assert sorted(g[2] for g in svc.gets) == ["vm-a", "vm-b", "vm-c"]
    assert r.master() == f"grpc://{want[0]}"
    assert r.master(task_id=2, rpc_layer="http") == f"http://{want[2]}"
    r.task_id = 1
    r.rpc_layer = ""
    assert (r.task_id, r.master()) == (1, want[1])
    with pytest.raises(RuntimeError, match="cannot reset the task_type"):
        r.task_type = "ps"


def test_gce_custom_job_and_needs_client():
    r = cr.GCEClusterResolver("p", "z", "g", 2222, task_type="ps", service=FakeCompute([], {}))
    assert r.cluster_spec().as_dict() == {"ps": []}
    try:
        import googleapiclient  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="googleapiclient"):
            cr.GCEClusterResolver("p", "z", "g", 2222)


# -- against TF ------------------------------------------------------------------------


def test_against_tensorflow():
    real = pytest.importorskip("tensorflow")
    rcr = real.distribute.cluster_resolver
    ours = cr.KubernetesClusterResolver(MAPPING, 99, override_client=FakeKubeClient(PODS))
    theirs = rcr.KubernetesClusterResolver(MAPPING, 99, override_client=FakeKubeClient(PODS))
    assert ours.cluster_spec().as_dict() == theirs.cluster_spec().as_dict()
    assert ours.master("ps", 1) == theirs.master("ps", 1)
    assert [(m.name, m.value) for m in cr.KubernetesExecutableLocation] == [
        (m.name, m.value) for m in rcr.KubernetesExecutableLocation
    ]
    ours = cr.GCEClusterResolver("p", "z", "g", 7, service=FakeCompute(PAGES, IPS))
    theirs = rcr.GCEClusterResolver("p", "z", "g", 7, service=FakeCompute(PAGES, IPS))
    assert ours.cluster_spec().as_dict() == theirs.cluster_spec().as_dict()
    assert ours.master(task_id=2) == theirs.master(task_id=2)
