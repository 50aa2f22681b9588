"""Cluster resolvers that ask a cloud's API for the cluster: Kubernetes pods (by label
selector) and Google Compute Engine instance groups.

The API clients (``kubernetes``, ``googleapiclient``) are optional and imported only when
no client object is passed in; ``override_client`` / ``service`` are the injection points
(TF's own testing hooks), so a fake object with the same methods stands in for the API.
"""

from __future__ import annotations

import enum

from rill.distribute.resolvers import ClusterResolver
from rill.ops._op import tf_export
from rill.train.cluster import ClusterSpec

__all__ = ["GCEClusterResolver", "KubernetesClusterResolver", "KubernetesExecutableLocation"]


def _url(address: str, rpc_layer) -> str:
    return f"{rpc_layer}://{address}" if rpc_layer else address


def _task_master(resolver, task_type, task_id, rpc_layer) -> str:
    """``resolver.master(...)``: the task's address in its cluster spec, with the RPC layer
    as the URL scheme; ``""`` when no task is named and the resolver has none."""
    task_type = task_type if task_type is not None else resolver.task_type
    task_id = task_id if task_id is not None else resolver.task_id
    if task_type is None or task_id is None:
        return ""
    address = resolver.cluster_spec().task_address(task_type, task_id)
    return _url(address, rpc_layer or resolver.rpc_layer)


@tf_export("distribute.cluster_resolver.KubernetesExecutableLocation")
class KubernetesExecutableLocation(enum.Enum):
    """Where the program runs: in a pod of the cluster, or outside it (which decides how
    the Kubernetes client finds its configuration)."""

    WITHIN_CLUSTER = 0
    OFF_CLUSTER = 1


_NO_KUBERNETES = (
    "KubernetesClusterResolver needs the Kubernetes Python client, or a client passed as "
    "`override_client`. To install it, run `pip install 'rill[kubernetes]'`."
)


@tf_export("distribute.cluster_resolver.KubernetesClusterResolver")
class KubernetesClusterResolver(ClusterResolver):
    """The cluster of the running Kubernetes pods that match label selectors, one job
    per entry of ``job_to_label_mapping``; ``task_type``/``task_id`` are set by the user."""

    def __init__(
        self,
        job_to_label_mapping=None,
        tf_server_port=8470,
        rpc_layer="grpc",
        override_client=None,
        executable_location=KubernetesExecutableLocation.WITHIN_CLUSTER,
    ):
        if not override_client:
            try:
                from kubernetes import config as k8sconfig
            except ImportError:
                raise ImportError(_NO_KUBERNETES) from None
            if executable_location == KubernetesExecutableLocation.OFF_CLUSTER:
                k8sconfig.load_kube_config()
            elif executable_location == KubernetesExecutableLocation.WITHIN_CLUSTER:
                k8sconfig.load_incluster_config()
            else:
                raise ValueError(
                    f"The executable location provided is invalid: {executable_location!r}; "
                    "expected a KubernetesExecutableLocation (WITHIN_CLUSTER or OFF_CLUSTER)."
                )
        self._job_to_label_mapping = job_to_label_mapping or {"worker": ["job-name=tensorflow"]}
        self._tf_server_port = tf_server_port
        self._override_client = override_client
        self.task_type = None
        self.task_id = None
        self.rpc_layer = rpc_layer

    def _client(self):
        if self._override_client:
            return self._override_client
        try:
            from kubernetes import client as k8sclient
            from kubernetes import config as k8sconfig
        except ImportError:
            raise ImportError(_NO_KUBERNETES) from None
        # TF reloads the kubeconfig on every query (so rotated credentials are picked up)
        k8sconfig.load_kube_config()
        return k8sclient.CoreV1Api()

    def cluster_spec(self) -> ClusterSpec:
        """The jobs' pods as ``host_ip:port``, asked of the API server on every call.

        Raises ``RuntimeError`` when a selected pod is not in the ``Running`` phase."""
        client = self._client()
        jobs = {}
        for job, selectors in self._job_to_label_mapping.items():
            tasks = []
            for selector in selectors:
                pods = client.list_pod_for_all_namespaces(label_selector=selector).items
                # by pod name, so the task order is the same on every call and every task
                for pod in sorted(pods, key=lambda p: p.metadata.name):
                    if pod.status.phase != "Running":
                        raise RuntimeError(
                            f'Pod "{pod.metadata.name}" is not running; phase: "{pod.status.phase}"'
                        )
                    tasks.append(f"{pod.status.host_ip}:{self._tf_server_port}")
            jobs[job] = tasks
        return ClusterSpec(jobs)

    def master(self, task_type=None, task_id=None, rpc_layer=None) -> str:
        """The address of task ``task_type:task_id`` (this task's by default), or ``""``."""
        return _task_master(self, task_type, task_id, rpc_layer)


@tf_export("distribute.cluster_resolver.GCEClusterResolver")
class GCEClusterResolver(ClusterResolver):
    """The cluster of a Compute Engine instance group's running instances (one job,
    ``task_type``), by their internal IPs."""

    def __init__(
        self,
        project,
        zone,
        instance_group,
        port,
        task_type="worker",
        task_id=0,
        rpc_layer="grpc",
        credentials="default",
        service=None,
    ):
        self._project = project
        self._zone = zone
        self._instance_group = instance_group
        self._port = port
        self._task_type = task_type
        self._task_id = task_id
        self._rpc_layer = rpc_layer
        self._credentials = credentials
        if service is None:
            try:
                from googleapiclient import discovery
            except ImportError:
                raise ImportError(
                    "GCEClusterResolver needs googleapiclient (or a Compute API object passed "
                    "as `service`). To install it, run `pip install 'rill[gce]'`."
                ) from None
            # None lets the client find the application-default credentials itself
            creds = None if credentials == "default" else credentials
            service = discovery.build("compute", "v1", credentials=creds)
        self._service = service

    def cluster_spec(self) -> ClusterSpec:
        """``{task_type: sorted "ip:port" of the group's RUNNING instances}``, asked of
        the Compute API on every call (following its pages)."""
        groups = self._service.instanceGroups()
        request = groups.listInstances(
            project=self._project,
            zone=self._zone,
            instanceGroup=self._instance_group,
            body={"instanceState": "RUNNING"},
            orderBy="name",
        )
        workers = []
        while request is not None:
            response = request.execute()
            for item in response.get("items", []):
                name = item["instance"].split("/")[-1]
                get = self._service.instances().get(
                    project=self._project, zone=self._zone, instance=name
                )
                if get is not None:
                    details = get.execute()
                    workers.append(f"{details['networkInterfaces'][0]['networkIP']}:{self._port}")
            request = groups.listInstances_next(
                previous_request=request, previous_response=response
            )
        workers.sort()
        return ClusterSpec({self._task_type: workers})

    def master(self, task_type=None, task_id=None, rpc_layer=None) -> str:
        """The address of task ``task_type:task_id`` (this task's by default), or ``""``."""
        return _task_master(self, task_type, task_id, rpc_layer)

    @property
    def task_type(self):
        return self._task_type

    @task_type.setter
    def task_type(self, task_type):
        raise RuntimeError(
            "You cannot reset the task_type of the GCEClusterResolver after it has been created."
        )

    @property
    def task_id(self):
        return self._task_id

    @task_id.setter
    def task_id(self, task_id):
        self._task_id = task_id

    @property
    def rpc_layer(self):
        return self._rpc_layer

    @rpc_layer.setter
    def rpc_layer(self, rpc_layer):
        self._rpc_layer = rpc_layer
