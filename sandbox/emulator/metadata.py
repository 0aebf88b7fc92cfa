"""ARM cloud metadata: GET /metadata/endpoints?api-version=2022-09-01.

Same shape as the public cloud's answer (one object for the current cloud, as
api-version 2022-09-01 returns it; 2019-05-01 returned a list of clouds), plus
the `dataplaneEndpoints` block that sovereign and disconnected clouds add and
`az connectedk8s` reads for the Arc config data plane.

Hostile variants for tests, one per trick a metadata document could play on a
client: `GET /variants/{name}/metadata/endpoints` answers the same document for
the cloud whose ARM endpoint is `{base}/variants/{name}`, with one field
changed (VARIANTS). A client that is given that ARM endpoint must refuse the
document before it sends a secret or a token anywhere; the request log shows
what it sent.
"""

from __future__ import annotations

from aiohttp import web

from .arm import ArmError, ArmRequest, Router, json_response

ARC_CONFIG_PATH = "/arc-config"
RELAY_SUFFIX = "servicebus.arcml-sandbox.invalid"
VARIANTS_PATH = "/variants"
# name -> what it changes in the document's `authentication` block.
VARIANTS = {
    # The login endpoint (the host the client secret or password goes to) on a host nobody named.
    "foreign-login": lambda ctx: {"loginEndpoint": "https://login.arcml-hostile.invalid/"},
    # The login endpoint on the ARM host, but without TLS.
    "http-login": lambda ctx: {"loginEndpoint": ctx.login_url.replace("https://", "http://", 1) + "/"},
    # Entra ID's login with Microsoft Graph as the audience: a Graph token would be handed to the ARM host.
    "graph-audience": lambda ctx: {
        "loginEndpoint": "https://login.microsoftonline.com/",
        "audiences": ["https://graph.microsoft.com/"],
    },
}


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


async def get_variant_endpoints(req: ArmRequest) -> web.Response:
    name = req.params["variant"]
    change = VARIANTS.get(name)
    if change is None:
        raise ArmError(404, "NotFound", f"No metadata variant {name!r}; the variants are {', '.join(VARIANTS)}.")
    document = endpoints(req.ctx)
    document["resourceManager"] = f"{req.ctx.base_url}{VARIANTS_PATH}/{name}/"
    document["authentication"].update(change(req.ctx))
    return json_response(document)


def register(router: Router) -> None:
    router.add("GET", "/metadata/endpoints", get_endpoints, auth="none")
    router.add("GET", VARIANTS_PATH + "/{variant}/metadata/endpoints", get_variant_endpoints, auth="none")
