"""The Arc config data plane: which agent chart to install, with which values.

As az connectedk8s calls it (health_check_dp, get_helm_values): https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/_utils.py

Served under `dataplaneEndpoints.arcConfigEndpoint` of the cloud metadata.
The repositoryPath names this emulator's OCI registry, under a ring and the release train as the live
service answers (`mcr.microsoft.com/azurearck8s/batch1/stable/azure-arc-k8sagents:1.8.14` from
GetLatestHelmPackagePath, `.../azurearck8s/canary/stable/...` from GetHelmSettings in the CLI's recording
https://github.com/Azure/azure-cli-extensions/blob/main/src/vme/azext_vme/tests/latest/recordings/test_vme_live.yaml);
clients insert `/v2/` before the chart name, as `az connectedk8s` does for MCR:
  repositoryPath  127.0.0.1:PORT/azurearck8s/batch1/stable/azure-arc-k8sagents:1.26.0
  helm pull       oci://127.0.0.1:PORT/azurearck8s/batch1/stable/v2/azure-arc-k8sagents --version 1.26.0
The chart is also published at azurearck8s/stable/v2/azure-arc-k8sagents, a mirror for chart_ref tests.
"""

from __future__ import annotations

from aiohttp import web

from . import charts, resources
from .arm import ArmError, ArmRequest, Router, json_response
from .connected_clusters import TYPE_PATH as CLUSTER_TYPE_PATH
from .metadata import ARC_CONFIG_PATH
from .providers import normalize_location

AGENT_CHART = "azure-arc-k8sagents"
RELEASE_TRAIN = "stable"
RING = "batch1"
MIRROR = f"azurearck8s/{RELEASE_TRAIN}/v2/{AGENT_CHART}"


def repository(train: str = RELEASE_TRAIN) -> str:
    """The registry repository the agent chart is pulled from (with the /v2/ the client inserts)."""
    return f"azurearck8s/{RING}/{train}/v2/{AGENT_CHART}"


def repository_path(registry_host: str, version: str, train: str = RELEASE_TRAIN) -> str:
    """The repositoryPath the data plane answers: <registry>/azurearck8s/<ring>/<train>/<chart>:<version>."""
    return f"{registry_host}/azurearck8s/{RING}/{train}/{AGENT_CHART}:{version}"


def publish_agent_chart(ctx) -> charts.ChartPackage:
    chart = charts.package(charts.ARC_AGENT_CHART_DIR)
    ctx.registry.publish_chart(repository(), chart)
    ctx.registry.publish_chart(MIRROR, chart)
    ctx.agent_chart = chart
    return chart


def _repository_path(ctx, train: str) -> str:
    if train.lower() != RELEASE_TRAIN:
        raise ArmError(400, "InvalidReleaseTrain", f"Release train '{train}' is not available; use '{RELEASE_TRAIN}'.")
    return repository_path(ctx.registry_host, ctx.agent_chart.version)


async def health_check(req: ArmRequest) -> web.Response:
    return web.Response(text="Health check passed.")


def _feature_setting(properties: dict, feature: str, setting: str):
    for configuration in properties.get("arcAgentryConfigurations") or []:
        if configuration.get("feature") == feature:
            return (configuration.get("settings") or {}).get(setting)
    return None


def _bad(message: str) -> ArmError:
    return ArmError(400, "BadRequest", message)


def check_helm_settings_body(body: dict, cluster: dict) -> None:
    """Refuse a GetHelmSettings body without what az connectedk8s always puts in it.

    The CLI (`_utils.get_helm_values`) serialises the connected cluster as a request, which drops the
    read-only `id`, `identity.principalId` and `identity.tenantId`, and then puts exactly those back: the
    service needs them. `location` and `properties.agentPublicKeyCertificate` are required by the model.
    https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/_utils.py
    """
    if not isinstance(body.get("location"), str) or not body["location"]:
        raise _bad("The request body must be the connected cluster resource, including its 'location'.")
    properties = body.get("properties")
    if not isinstance(properties, dict) or not properties.get("agentPublicKeyCertificate"):
        raise _bad("The connected cluster in the request body has no 'properties.agentPublicKeyCertificate'.")
    identity = body.get("identity")
    if not isinstance(identity, dict):
        raise _bad("The request body must carry the connected cluster's 'identity'.")
    stored = cluster.get("identity") or {}
    for key in ("principalId", "tenantId"):
        if stored.get(key) is None:
            continue
        if not identity.get(key):
            raise _bad(f"The request body has no 'identity.{key}' of the connected cluster.")
        if str(identity[key]).lower() != str(stored[key]).lower():
            raise _bad(f"The request body's 'identity.{key}' is not the connected cluster's.")


async def get_helm_settings(req: ArmRequest) -> web.Response:
    body = await req.json_object()
    cluster_id = body.get("id")
    if not isinstance(cluster_id, str):
        raise ArmError(
            400, "BadRequest", "The request body must be the connected cluster resource, including its 'id'."
        )
    cluster = resources.body(req.ctx, cluster_id)
    if cluster is None or cluster["type"].lower() != CLUSTER_TYPE_PATH.lower():
        raise ArmError(404, "ResourceNotFound", f"The connected cluster '{cluster_id}' was not found.")
    check_helm_settings_body(body, cluster)
    properties = body.get("properties") or {}
    auto_upgrade = (properties.get("arcAgentProfile") or {}).get("agentAutoUpgrade", "Enabled")
    bundle = _feature_setting(properties, "extensionSets", "versionManagedExtensions")
    parts = cluster["id"].split("/")
    values = {
        "global.subscriptionId": parts[2],
        "global.resourceGroupName": parts[4],
        "global.resourceName": cluster["name"],
        "global.extensionBundleFeatureFlag": "Disabled" if bundle == "Disabled" else "Enabled",
        "global.location": normalize_location(body.get("location") or cluster["location"]),
        "global.tenantId": req.ctx.store.tenant_id,
        "systemDefaultValues.azureArcAgents.autoUpdate": "False" if auto_upgrade == "Disabled" else "True",
    }
    return json_response(
        {
            "repositoryPath": _repository_path(req.ctx, req.query("releaseTrain") or RELEASE_TRAIN),
            "helmValuesContent": values,
            "apiServerFlags": None,
        }
    )


async def get_latest_helm_package_path(req: ArmRequest) -> web.Response:
    return json_response({"repositoryPath": _repository_path(req.ctx, req.query("releaseTrain") or RELEASE_TRAIN)})


def register(router: Router) -> None:
    base = ARC_CONFIG_PATH + "/azure-arc-k8sagents"
    options = {"auth": "token"}
    router.add("POST", base + "/healthCheck", health_check, **options)
    router.add("POST", base + "/GetHelmSettings", get_helm_settings, **options)
    router.add("POST", base + "/GetLatestHelmPackagePath", get_latest_helm_package_path, **options)
