"""A small client for the admin API (/_sandbox/), for tests, benchmarks and out-of-process stand-in agents."""

from __future__ import annotations

import requests

from .env import read_info

DEFAULT_TIMEOUT = 10


class AdminClient:
    def __init__(self, base_url: str, ca_bundle: str, timeout: float = DEFAULT_TIMEOUT):
        self.base_url = base_url.rstrip("/") + "/_sandbox"
        self.ca_bundle = ca_bundle
        self.session = requests.Session()
        self.timeout = timeout

    @classmethod
    def for_dir(cls, directory) -> AdminClient:
        info = read_info(directory)
        return cls(info["url"], info["ca_bundle"])

    def _call(self, method: str, path: str, **kwargs):
        # verify per request: a session's verify loses to REQUESTS_CA_BUNDLE from the environment.
        response = self.session.request(
            method, self.base_url + path, timeout=self.timeout, verify=self.ca_bundle, **kwargs
        )
        response.raise_for_status()
        return response.json() if response.content else None

    # request log

    def requests(self, since: int = 0) -> list:
        return self._call("GET", "/requests", params={"since": since})["requests"]

    def last_seq(self) -> int:
        return self._call("GET", "/requests", params={"since": 0})["last"]

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    # faults

    def add_faults(self, *rules: dict) -> list:
        return self._call("POST", "/faults", json={"rules": list(rules)})["rules"]

    def faults(self) -> list:
        return self._call("GET", "/faults")["rules"]

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    # settings

    def settings(self, **values) -> dict:
        return self._call("POST", "/settings", json=values) if values else self._call("GET", "/settings")

    def tenant_id(self) -> str:
        """The tenant of the emulated subscription (every principal and managed identity is in it)."""
        return self._call("GET", "/principals")["tenantId"]

    # agent hooks

    def clusters(self) -> list:
        return self._call("GET", "/clusters")["clusters"]

    def report_cluster(self, cluster_id: str, **fields) -> dict:
        """fields: connectivityStatus, kubernetesVersion, totalNodeCount, totalCoreCount, agentVersion."""
        return self._call("POST", "/clusters/status", json={"id": cluster_id, **fields})

    def report_extension(self, extension_id: str, state: str, error: dict | None = None, current_version=None):
        """state: Succeeded, Failed (with an ARM error {code, message}) or Deleted."""
        body = {"id": extension_id, "provisioningState": state, "error": error, "currentVersion": current_version}
        return self._call("POST", "/extensions/status", json=body)
