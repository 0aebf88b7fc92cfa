"""Render kubeconfig files for a testbed cluster."""

import base64

import yaml


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def render(cluster_name: str, server: str, ca_pem: bytes, user: str, cert_pem: bytes, key_pem: bytes) -> str:
    context = f"{user}@{cluster_name}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)}}],
        "users": [
            {"name": user, "user": {"client-certificate-data": _b64(cert_pem), "client-key-data": _b64(key_pem)}}
        ],
        "contexts": [{"name": context, "context": {"cluster": cluster_name, "user": user}}],
        "current-context": context,
    }
    return yaml.safe_dump(config, sort_keys=False)
