"""Register Node objects through the API so a testbed cluster looks like a real one.

There are no kubelets: each Node is created with the labels a kubelet sets
(os, arch, hostname), the requested capacity/allocatable and a Ready
condition. The API server keeps a Node's status on create, as it does when a
kubelet registers itself.
"""

from dataclasses import dataclass, field

from .api import KubeApi, KubeApiError

VALID_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
DEFAULT_PODS = "110"


@dataclass
class NodeSpec:
    name: str
    os: str = "linux"
    arch: str = "amd64"
    cpu: str = "4"
    memory: str = "16Gi"
    labels: dict = field(default_factory=dict)
    taints: list = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict) -> "NodeSpec":
        known = {"name", "os", "arch", "cpu", "memory", "labels", "taints"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"node {data.get('name')!r}: unknown keys {sorted(unknown)}")
        if "name" not in data:
            raise ValueError(f"node without a name: {data!r}")
        spec = cls(**{k: (str(v) if k in ("cpu", "memory") else v) for k, v in data.items()})
        for taint in spec.taints:
            if taint.get("effect") not in VALID_EFFECTS:
                raise ValueError(f"node {spec.name}: taint {taint!r} needs an effect in {VALID_EFFECTS}")
        return spec


def node_object(spec: NodeSpec, kubernetes_version: str) -> dict:
    labels = {
        "kubernetes.io/os": spec.os,
        "kubernetes.io/arch": spec.arch,
        "kubernetes.io/hostname": spec.name,
        "beta.kubernetes.io/os": spec.os,
        "beta.kubernetes.io/arch": spec.arch,
        **{str(k): str(v) for k, v in spec.labels.items()},
    }
    resources = {"cpu": spec.cpu, "memory": spec.memory, "pods": DEFAULT_PODS, "ephemeral-storage": "100Gi"}
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": spec.name, "labels": labels},
        "spec": {},
        "status": {
            "capacity": resources,
            "allocatable": dict(resources),
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status (testbed)",
                }
            ],
            "nodeInfo": {
                "operatingSystem": spec.os,
                "architecture": spec.arch,
                "kubeletVersion": kubernetes_version,
                "kubeProxyVersion": kubernetes_version,
                "osImage": "Windows Server 2022 Datacenter" if spec.os == "windows" else "CBL-Mariner/Linux",
                "containerRuntimeVersion": "containerd://1.7.0",
                "kernelVersion": "10.0.20348" if spec.os == "windows" else "5.15.0",
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
            },
        },
    }
    if spec.taints:
        node["spec"]["taints"] = [
            {k: v for k, v in (("key", t["key"]), ("value", t.get("value")), ("effect", t["effect"])) if v is not None}
            for t in spec.taints
        ]
    return node


def register_nodes(api: KubeApi, specs) -> list:
    """Create the nodes that do not exist yet; return the names created."""
    version = api.get("/version")["gitVersion"]
    created = []
    for item in specs:
        spec = item if isinstance(item, NodeSpec) else NodeSpec.from_dict(item)
        try:
            api.post("/api/v1/nodes", node_object(spec, version))
        except KubeApiError as err:
            if err.status != 409:
                raise
            continue
        created.append(spec.name)
    return created
