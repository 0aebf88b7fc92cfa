"""What the connected_cluster tests look at: the sites, the cluster's Arc objects, the request log, helm's argv.

The cluster is read through the testbed's own Kubernetes client (not the product's), and ARM through plain
requests, so a test does not trust the code it tests to tell it what happened.
"""

import base64
import gzip
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

WRITES = ("POST", "PUT", "PATCH", "DELETE")
ARM_API = "2024-01-01"
RELEASE = "azure-arc"
ARC_CRDS_SUFFIXES = (".arc.azure.com", ".clusterconfig.azure.com")


@dataclass(frozen=True)
class Site:
    name: str
    resource_group: str
    location: str


ONE = Site("cc-one", "rg-cc-one", "eastus")
AKSARC = Site("cc-aksarc", "rg-cc-aksarc", "eastus")


def writes(entries):
    """'METHOD /path' of every write in request-log entries (the token request is not a write to Azure)."""
    return [f"{e['method']} {e['path']}" for e in entries if e["method"] in WRITES and "/oauth2/" not in e["path"]]


def by_task(entries):
    """Request-log entries grouped per module run, in order: each run sends one x-ms-correlation-request-id.

    Requests without one (the token endpoint, the tests' own ARM calls) belong to no task.
    """
    groups = {}
    for entry in entries:
        headers = {name.lower(): value for name, value in (entry.get("headers") or {}).items()}
        correlation = headers.get("x-ms-correlation-request-id")
        if correlation:
            groups.setdefault(correlation, []).append(entry)
    return list(groups.values())


def pem_fragments(pem):
    """Pieces of a PEM private key that must never show up anywhere: each base64 line of its body."""
    return [line for line in pem.splitlines() if line and "-----" not in line]


class ClusterView:
    """A site's cluster as the tests see it, through the testbed's Kubernetes client."""

    def __init__(self, api):
        self.api = api

    def _release_secrets(self):
        return self.api.get(f"/api/v1/secrets?labelSelector=owner%3Dhelm%2Cname%3D{RELEASE}")["items"]

    def release(self):
        """The latest record of helm release azure-arc: {'namespace', 'status', 'version'}, or None."""
        records = self._release_secrets()
        if not records:
            return None
        newest = max(records, key=lambda s: int(s["metadata"]["labels"]["version"]))
        decoded = _decode_release(newest["data"]["release"])
        return {"namespace": decoded["namespace"], "status": decoded["info"]["status"], "version": decoded["version"]}

    def release_values(self):
        """The values helm stored with the latest revision (what `helm get values` prints)."""
        newest = max(self._release_secrets(), key=lambda s: int(s["metadata"]["labels"]["version"]))
        return _decode_release(newest["data"]["release"]).get("config") or {}

    def set_release_status(self, status):
        """Rewrite the latest release record's status, as an interrupted or failed helm operation leaves it."""
        newest = max(self._release_secrets(), key=lambda s: int(s["metadata"]["labels"]["version"]))
        decoded = _decode_release(newest["data"]["release"])
        decoded["info"]["status"] = status
        raw = base64.b64encode(gzip.compress(json.dumps(decoded).encode())).decode()
        path = f"/api/v1/namespaces/{newest['metadata']['namespace']}/secrets/{newest['metadata']['name']}"
        self.api.patch(path, {"metadata": {"labels": {"status": status}}, "data": {"release": _b64(raw)}})

    def move_release(self, namespace):
        """Move helm's records of release azure-arc into `namespace`, as if it had been installed there."""
        for secret in self._release_secrets():
            metadata = secret["metadata"]
            decoded = _decode_release(secret["data"]["release"])
            decoded["namespace"] = namespace
            raw = base64.b64encode(gzip.compress(json.dumps(decoded).encode())).decode()
            body = {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": secret.get("type"),
                "metadata": {"name": metadata["name"], "labels": metadata.get("labels") or {}},
                "data": {"release": _b64(raw)},
            }
            self.api.post(f"/api/v1/namespaces/{namespace}/secrets", body)
            self.api.delete(f"/api/v1/namespaces/{metadata['namespace']}/secrets/{metadata['name']}")

    def config(self):
        path = "/api/v1/namespaces/azure-arc/configmaps/azure-clusterconfig"
        return self.api.get(path)["data"] if self.api.exists(path) else None

    def delete_config(self):
        self.api.delete("/api/v1/namespaces/azure-arc/configmaps/azure-clusterconfig")

    def private_key(self):
        path = "/api/v1/namespaces/azure-arc/secrets/azure-arc-connect-privatekey"
        if not self.api.exists(path):
            return None
        return base64.b64decode(self.api.get(path)["data"]["privateKey"]).decode()

    def namespaces(self):
        return {item["metadata"]["name"] for item in self.api.get("/api/v1/namespaces")["items"]}

    def arc_crds(self):
        items = self.api.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")["items"]
        return sorted(i["metadata"]["name"] for i in items if i["metadata"]["name"].endswith(ARC_CRDS_SUFFIXES))


def _decode_release(data):
    raw = base64.b64decode(base64.b64decode(data))
    return json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)


def _b64(text):
    return base64.b64encode(text.encode()).decode()


HELM_SHIM = """#!/bin/sh
# Records every helm command line, and the mode of each values file while helm runs.
log={log}
printf 'argv:' >> "$log"
for arg in "$@"; do printf ' %s' "$arg" >> "$log"; done
printf '\\n' >> "$log"
previous=
for arg in "$@"; do
  if [ "$previous" = "--values" ] || [ "$previous" = "-f" ]; then
    printf 'values-file: %s %s\\n' "$(stat -c %a "$arg")" "$arg" >> "$log"
  fi
  previous=$arg
done
exec {helm} "$@"
"""


class HelmRecorder:
    """A `helm` first on PATH that logs its argv (and values-file modes) before running the real one."""

    def __init__(self, directory: Path, real_helm: str):
        self.directory = directory
        self.log = directory / "helm-argv.log"
        directory.mkdir(parents=True, exist_ok=True)
        shim = directory / "helm"
        shim.write_text(HELM_SHIM.format(log=self.log, helm=real_helm))
        shim.chmod(shim.stat().st_mode | stat.S_IXUSR)

    def path_env(self, base_path):
        return f"{self.directory}{os.pathsep}{base_path}"

    def lines(self):
        return self.log.read_text().splitlines() if self.log.exists() else []

    def commands(self):
        """The helm subcommands run, in order (e.g. 'list', 'pull', 'upgrade')."""
        return [line.split()[1] for line in self.lines() if line.startswith("argv:") and len(line.split()) > 1]

    def clear(self):
        self.log.unlink(missing_ok=True)
