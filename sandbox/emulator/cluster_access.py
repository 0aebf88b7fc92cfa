"""What the emulator knows about each site's Kubernetes API server, and the kubeconfigs it hands out for them.

`sandbox up` starts the emulator before the clusters, so the supervisor writes `cluster-access.json` into the
emulator's directory once every cluster is up: per site (resource group and name, case-insensitive as in ARM),
the API server URL and the paths of its CA and admin client certificate and key. The file holds paths, not
key material; the emulator reads it on each request, so it also picks up a restarted sandbox.

The admin credential serves three things: the admin kubeconfig of a provisioned site, the cluster connect
proxy's requests to the site, and the check that the site runs the cluster connect agent.
"""

from __future__ import annotations

import base64
import json
import ssl
from dataclasses import dataclass
from pathlib import Path

import yaml

ACCESS_FILE = "cluster-access.json"
# Where the cluster connect proxy (cluster_proxy.py) serves each connected cluster.
PROXY_PREFIX = "/_clusterconnect"
# The Azure Arc Kubernetes server application ("AAD Server App": "the access token needs to be issued for this
# app to access a 1P Arc-enabled cluster"), whose id is the audience of the tokens the cluster connect service
# accepts; az connectedk8s proxy asks for its scope (consts.KAP_1P_Server_App_Scope in fetch_and_post_at_to_csp):
# https://github.com/Azure/kubelogin/blob/main/docs/book/src/concepts/azure-arc.md
# https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/clientproxyhelper/_utils.py
CLUSTER_CONNECT_AUDIENCE = "6256c85f-0aad-4d50-b960-e6e9b21efe35"


class SiteUnknown(LookupError):
    """No running site answers to this connected cluster."""


@dataclass(frozen=True)
class SiteAccess:
    resource_group: str
    name: str
    server: str
    ca_cert: Path
    admin_cert: Path
    admin_key: Path

    def ca_pem(self) -> bytes:
        return self.ca_cert.read_bytes()

    def ssl_context(self) -> ssl.SSLContext:
        """TLS to the site's API server: its CA, and the admin client certificate."""
        context = ssl.create_default_context(cadata=self.ca_pem().decode())
        context.load_cert_chain(str(self.admin_cert), str(self.admin_key))
        return context


def write(emulator_dir, sites: list) -> Path:
    """Write the access file: `sites` are dicts {resource_group, name, server, ca_cert, admin_cert, admin_key}."""
    path = Path(emulator_dir) / ACCESS_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"sites": [{k: str(v) for k, v in site.items()} for site in sites]}, indent=2))
    tmp.chmod(0o600)
    tmp.replace(path)
    return path


def find(ctx, resource_group: str, name: str) -> SiteAccess:
    """The running site behind the connected cluster `resource_group/name`, or SiteUnknown."""
    try:
        data = json.loads((ctx.paths.root / ACCESS_FILE).read_text())
    except (OSError, ValueError):
        data = {}
    for site in data.get("sites") or []:
        if site["resource_group"].lower() == resource_group.lower() and site["name"].lower() == name.lower():
            return SiteAccess(
                site["resource_group"],
                site["name"],
                site["server"].rstrip("/"),
                Path(site["ca_cert"]),
                Path(site["admin_cert"]),
                Path(site["admin_key"]),
            )
    raise SiteUnknown(f"{resource_group}/{name}")


def proxy_url(ctx, resource_group: str, name: str) -> str:
    """The cluster connect server URL of a connected cluster."""
    return f"{ctx.base_url}{PROXY_PREFIX}/{ctx.store.subscription_id}/{resource_group}/{name}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def render(*, cluster: str, server: str, ca_pem: bytes, user_name: str, user: dict) -> str:
    """A kubeconfig with one cluster, one user and one context named after the cluster."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)}}],
        "users": [{"name": user_name, "user": user}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": user_name}}],
        "current-context": cluster,
    }
    return yaml.safe_dump(config, sort_keys=False)


def admin_user(site: SiteAccess) -> dict:
    return {
        "client-certificate-data": _b64(site.admin_cert.read_bytes()),
        "client-key-data": _b64(site.admin_key.read_bytes()),
    }


def record_secret(ctx, value: str, origin: str) -> None:
    """Note a credential the emulator hands out in its secret registry (the reliability suite scans logs for it)."""
    record = getattr(ctx.store, "record_secret", None)
    if record is not None:
        record(value, origin)


def credential_results(name: str, kubeconfig: str) -> list:
    """The `kubeconfigs` list of a credentials answer: the kubeconfig base64-encoded (`format: byte`)."""
    return [{"name": name, "value": _b64(kubeconfig.encode())}]
