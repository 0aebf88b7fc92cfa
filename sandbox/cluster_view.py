"""What the stand-in agents read from a site's cluster.

The real Arc agents run inside the cluster and learn their identity from what
the chart installed; this reads the same objects through the API: the helm
release record, ConfigMap azure-arc/azure-clusterconfig and the onboarding
private key Secret.
"""

import base64
import gzip
import json
from dataclasses import dataclass
from typing import Optional

from .k8s.api import KubeApi, KubeApiError

ARC_RELEASE = "azure-arc"
ARC_NAMESPACE = "azure-arc"
CLUSTER_CONFIG = "azure-clusterconfig"
PRIVATE_KEY_SECRET = "azure-arc-connect-privatekey"


@dataclass
class ArcInstall:
    release_namespace: str
    release_status: str
    config: dict
    private_key_pem: Optional[bytes]

    @property
    def resource(self) -> tuple:
        """(subscription, resource group, name) the agents were onboarded to, lower-cased."""
        c = self.config
        return (
            c.get("AZURE_SUBSCRIPTION_ID", "").lower(),
            c.get("AZURE_RESOURCE_GROUP", "").lower(),
            c.get("AZURE_RESOURCE_NAME", "").lower(),
        )


def public_key_certificate(private_key_pem: bytes) -> str:
    """The agentPublicKeyCertificate ARM holds for a private key: base64 of the PKCS#1 DER public key."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_key_pem, password=None)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return base64.b64encode(der).decode("ascii")


def _helm_release(api: KubeApi, name: str):
    """The newest helm release record named `name` in any namespace, decoded, or None."""
    listed = api.get(f"/api/v1/secrets?labelSelector=owner%3Dhelm%2Cname%3D{name}")["items"]
    if not listed:
        return None
    newest = max(listed, key=lambda s: int(s["metadata"]["labels"].get("version", "0")))
    raw = base64.b64decode(base64.b64decode(newest["data"]["release"]))
    return json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)


def arc_install(api: KubeApi) -> Optional[ArcInstall]:
    release = _helm_release(api, ARC_RELEASE)
    if release is None:
        return None
    try:
        config = api.get(f"/api/v1/namespaces/{ARC_NAMESPACE}/configmaps/{CLUSTER_CONFIG}").get("data") or {}
    except KubeApiError as err:
        if err.status != 404:
            raise
        config = {}
    key = None
    try:
        secret = api.get(f"/api/v1/namespaces/{ARC_NAMESPACE}/secrets/{PRIVATE_KEY_SECRET}")
        encoded = (secret.get("data") or {}).get("privateKey")
        key = base64.b64decode(encoded) if encoded else None
    except KubeApiError as err:
        if err.status != 404:
            raise
    return ArcInstall(release["namespace"], release["info"]["status"], config, key)


def cluster_facts(api: KubeApi) -> dict:
    """Kubernetes version, node count and core count, as the agents report them to ARM."""
    nodes = api.get("/api/v1/nodes")["items"]
    cores = 0
    for node in nodes:
        cpu = str(node.get("status", {}).get("capacity", {}).get("cpu", "0"))
        cores += int(cpu[:-1]) // 1000 if cpu.endswith("m") else int(cpu)
    version = api.get("/version")["gitVersion"].lstrip("v")
    return {"kubernetesVersion": version, "totalNodeCount": len(nodes), "totalCoreCount": cores}


def helm_release_status(api: KubeApi, name: str) -> Optional[str]:
    release = _helm_release(api, name)
    return release["info"]["status"] if release else None
