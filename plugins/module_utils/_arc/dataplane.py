# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The Arc configuration data plane: which agent chart, with which values.

`https://<location>.dp.kubernetesconfiguration.azure.<suffix>` in the public clouds, or the metadata's
`dataplaneEndpoints.arcConfigEndpoint`; called with a token for the cloud's management audience, through
the same pipeline (retries, request ids) as ARM calls.
"""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._arc.resource import READ_ONLY
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError

API_VERSION = "2024-07-01-preview"
LEGACY_API_VERSION = "2019-11-01-preview"
RELEASE_TRAIN = "stable"
BASE = "/azure-arc-k8sagents"


class ChartLocation:
    """An agent chart in an OCI registry: repositoryPath `<registry>/<path>/<chart>:<version>`.

    helm pulls it from `oci://<registry>/<path>/v2/<chart>`, as az connectedk8s does for MCR.
    """

    def __init__(self, registry, path, chart, version):
        self.registry = registry
        self.path = path
        self.chart = chart
        self.version = version

    @classmethod
    def parse(cls, repository_path):
        text = (repository_path or "").strip()
        if text.startswith("oci://"):
            text = text[len("oci://") :]
        location, _colon, version = text.rpartition(":")
        if not location or "/" in version or not version:
            raise ArcMLError(
                f"The Arc configuration service named the agent chart {repository_path!r}, which is not "
                "<registry>/<repository>/<chart>:<version>; set chart_ref to the chart to install."
            )
        registry, _slash, rest = location.partition("/")
        path, _slash, chart = rest.rpartition("/")
        if not rest or not chart:
            raise ArcMLError(
                f"The Arc configuration service named the agent chart {repository_path!r}, which has no "
                "repository path; set chart_ref to the chart to install."
            )
        return cls(registry, path, chart, version)

    @property
    def oci_url(self):
        parts = [self.registry, *([self.path] if self.path else []), "v2", self.chart]
        return "oci://" + "/".join(parts)

    def __str__(self):
        return f"{self.oci_url}:{self.version}"


class HelmSettings:
    def __init__(self, chart, values):
        self.chart = chart
        self.values = values


def _serialize(value, where=""):
    """`value` without read-only fields and without nulls, as the SDK serialiser sends a model."""
    if isinstance(value, dict):
        dropped = READ_ONLY.get(where, ())
        serialized = {}
        for key, item in value.items():
            if key in dropped or item is None:
                continue
            serialized[key] = _serialize(item, f"{where}.{key}" if where else key)
        return serialized
    if isinstance(value, list):
        return [_serialize(item, where + "[]") for item in value]
    return value


def helm_settings_body(resource):
    """The GetHelmSettings body for `resource` (the connected cluster as ARM returned it).

    What az connectedk8s sends (`_utils.get_helm_values`): the PUT's result serialised like a request, so
    without read-only fields, then `identity.tenantId`, `identity.principalId` and `id` put back:
    https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/_utils.py
    (its recording of a live run: src/vme/azext_vme/tests/latest/recordings/test_vme_live.yaml).
    """
    body = _serialize(resource)
    identity = resource.get("identity")
    if isinstance(identity, dict):
        body["identity"] = {
            **body.get("identity", {}),
            "tenantId": identity.get("tenantId"),
            "principalId": identity.get("principalId"),
        }
    body["id"] = resource.get("id")
    return body


class ConfigDataPlane:
    """The config data plane of one region; `client` is an ArmClient for its endpoint."""

    def __init__(self, client, release_train=RELEASE_TRAIN):
        self.client = client
        self.release_train = release_train

    def health_check(self):
        self.client.request("POST", BASE + "/healthCheck", API_VERSION)

    def helm_settings(self, resource):
        """The chart and helm values for `resource` (the connected cluster as ARM returned it)."""
        body = helm_settings_body(resource)
        answer = self.client.request(
            "POST", BASE + "/GetHelmSettings", API_VERSION, body=body, params={"releaseTrain": self.release_train}
        ).body
        if not isinstance(answer, dict):
            raise ArcMLError("The Arc configuration service answered GetHelmSettings without a JSON object.")
        values = answer.get("helmValuesContent")
        values = {} if values is None else values
        if not isinstance(values, dict):
            raise ArcMLError(
                "The Arc configuration service answered GetHelmSettings with helmValuesContent that is not an object."
            )
        repository_path = answer.get("repositoryPath") or self.latest_package_path()
        return HelmSettings(ChartLocation.parse(repository_path), {str(k): v for k, v in values.items()})

    def latest_package_path(self):
        """The legacy lookup, used when GetHelmSettings names no chart."""
        answer = self.client.request(
            "POST", BASE + "/GetLatestHelmPackagePath", LEGACY_API_VERSION, params={"releaseTrain": self.release_train}
        ).body
        path = (answer or {}).get("repositoryPath") if isinstance(answer, dict) else None
        if not path:
            raise ArcMLError(
                "The Arc configuration service named no agent chart (GetHelmSettings and GetLatestHelmPackagePath); "
                "set chart_ref to the chart to install."
            )
        return path
