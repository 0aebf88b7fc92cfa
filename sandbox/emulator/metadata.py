"""ARM cloud metadata: GET /metadata/endpoints?api-version=2022-09-01.

Same shape as the public cloud's answer (one object for the current cloud, as
api-version 2022-09-01 returns it; 2019-05-01 returned a list of clouds), plus
the `dataplaneEndpoints` block that sovereign and disconnected clouds add and
`az connectedk8s` reads for the Arc config data plane.
"""

from __future__ import annotations

from aiohttp import web

from .arm import ArmRequest, Router, json_response

ARC_CONFIG_PATH = "/arc-config"
RELAY_SUFFIX = "servicebus.arcml-sandbox.invalid"


def endpoints(ctx) -> dict:
    base = ctx.base_url
    return {
        "name": ctx.cloud_name,
        "portal": f"{base}/portal",
        "authentication": {
            "loginEndpoint": f"{ctx.login_url}/",
            "audiences": ctx.arm_audiences,
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": f"{base}/media/",
        "graphAudience": f"{base}/graph/",
        "graph": f"{base}/graph/",
        "batch": f"{base}/batch/",
        "resourceManager": f"{base}/",
        "vmImageAliasDoc": f"{base}/vm-image-aliases.json",
        "activeDirectoryDataLake": f"{base}/datalake/",
        "sqlManagement": f"{base}/sql/",
        "microsoftGraphResourceId": f"{base}/msgraph/",
        "appInsightsResourceId": f"{base}/appinsights",
        "appInsightsTelemetryChannelResourceId": f"{base}/appinsights/v2/track",
        "attestationResourceId": f"{base}/attestation",
        "synapseAnalyticsResourceId": f"{base}/synapse",
        "logAnalyticsResourceId": f"{base}/loganalytics",
        "ossrDbmsResourceId": f"{base}/ossrdbms",
        "suffixes": {
            "acrLoginServer": "azurecr.arcml-sandbox.invalid",
            "keyVaultDns": "vault.arcml-sandbox.invalid",
            "storage": "core.arcml-sandbox.invalid",
            "relayEndpointSuffix": RELAY_SUFFIX,
        },
        "dataplaneEndpoints": {
            "arcConfigEndpoint": base + ARC_CONFIG_PATH,
            "arcGlobalNotificationServiceEndpoint": f"{base}/arc-notification",
            "arcHybridIdentityServiceEndpoint": f"{base}/arc-identity",
        },
    }


async def get_endpoints(req: ArmRequest) -> web.Response:
    return json_response(endpoints(req.ctx))


def register(router: Router) -> None:
    router.add("GET", "/metadata/endpoints", get_endpoints, auth="none")
