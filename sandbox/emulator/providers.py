"""Subscriptions and resource providers: GET, list, register (with a delay), unregister."""

from __future__ import annotations

from aiohttp import web

from .arm import ArmError, ArmRequest, Router, json_response
from .clock import now

LOCATIONS = (
    "East US",
    "East US 2",
    "West US 2",
    "West US 3",
    "Central US",
    "North Central US",
    "South Central US",
    "West Central US",
    "Canada Central",
    "West Europe",
    "North Europe",
    "UK South",
    "France Central",
    "Germany West Central",
    "Sweden Central",
    "Switzerland North",
    "Australia East",
    "Japan East",
    "Korea Central",
    "Southeast Asia",
    "East Asia",
    "Central India",
    "East US 2 EUAP",
)

CONNECTED_CLUSTER_API_VERSIONS = (
    "2021-03-01",
    "2021-04-01-preview",
    "2021-10-01",
    "2022-05-01-preview",
    "2022-10-01-preview",
    "2023-11-01-preview",
    "2024-01-01",
    "2024-02-01-preview",
    "2024-06-01-preview",
    "2024-07-01-preview",
    "2024-07-15-preview",
    "2024-12-01-preview",
    "2025-08-01-preview",
    "2025-12-01-preview",
    "2026-02-01-preview",
    "2026-05-01",
)
EXTENSION_API_VERSIONS = (
    "2020-07-01-preview",
    "2021-05-01-preview",
    "2021-09-01",
    "2021-11-01-preview",
    "2022-01-01-preview",
    "2022-03-01",
    "2022-04-02-preview",
    "2022-07-01",
    "2022-11-01",
    "2023-05-01",
    "2024-10-01-preview",
    "2024-11-01",
    "2025-03-01",
    "2025-04-01",
)
RELAY_API_VERSIONS = ("2016-07-01", "2017-04-01", "2018-01-01-preview", "2021-11-01", "2024-01-01")

# namespace -> {resource type: api versions (None = the RP accepts any well-formed version)}
CATALOGUE = {
    "Microsoft.Kubernetes": {"connectedClusters": CONNECTED_CLUSTER_API_VERSIONS},
    "Microsoft.KubernetesConfiguration": {"extensions": EXTENSION_API_VERSIONS},
    "Microsoft.ExtendedLocation": {"customLocations": ("2021-08-15", "2021-08-31-preview")},
    "Microsoft.MachineLearningServices": {"workspaces": None, "workspaces/computes": None},
    "Microsoft.Relay": {
        "namespaces": RELAY_API_VERSIONS,
        "namespaces/hybridConnections": RELAY_API_VERSIONS,
        "namespaces/hybridConnections/authorizationRules": RELAY_API_VERSIONS,
    },
    "Microsoft.HybridContainerService": {"provisionedClusterInstances": ("2024-01-01",)},
    "Microsoft.HybridCompute": {"machines": ("2024-07-10",)},
}

REGISTERED = "Registered"
NOT_REGISTERED = "NotRegistered"


def canonical_namespace(namespace: str) -> str | None:
    for known in CATALOGUE:
        if known.lower() == namespace.lower():
            return known
    return None


def normalize_location(location: str) -> str:
    return location.replace(" ", "").lower()


def supported_locations() -> set:
    return {normalize_location(loc) for loc in LOCATIONS}


def registration_state(ctx, namespace: str) -> str:
    record = ctx.store.get("providers", namespace)
    if record is None:
        return NOT_REGISTERED
    if record["state"] in ("Registering", "Unregistering") and record["until"] <= now():
        record["state"] = REGISTERED if record["state"] == "Registering" else NOT_REGISTERED
        ctx.store.touch()
    return record["state"]


def set_registered(ctx, namespace: str) -> None:
    ctx.store.put("providers", namespace, {"namespace": namespace, "state": REGISTERED, "until": 0})


def require_registered(ctx, namespace: str) -> None:
    if registration_state(ctx, namespace) != REGISTERED:
        message = (
            f"The subscription is not registered to use namespace '{namespace}'. "
            "See https://aka.ms/rps-not-found for how to register subscriptions."
        )
        raise ArmError(
            409,
            "MissingSubscriptionRegistration",
            message,
            details=[{"code": "MissingSubscriptionRegistration", "target": namespace, "message": message}],
        )


def _provider_body(ctx, namespace: str) -> dict:
    return {
        "id": f"/subscriptions/{ctx.store.subscription_id}/providers/{namespace}",
        "namespace": namespace,
        "registrationState": registration_state(ctx, namespace),
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": [
            {
                "resourceType": resource_type,
                "locations": list(LOCATIONS),
                "apiVersions": sorted(versions or ("2025-12-01",), reverse=True),
                "defaultApiVersion": max(versions or ("2025-12-01",)),
                "capabilities": "SystemAssignedResourceIdentity, SupportsTags, SupportsLocation",
            }
            for resource_type, versions in CATALOGUE[namespace].items()
        ],
    }


def _namespace_or_404(namespace: str) -> str:
    known = canonical_namespace(namespace)
    if known is None:
        raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{namespace}' is invalid.")
    return known


async def list_providers(req: ArmRequest) -> web.Response:
    return json_response({"value": [_provider_body(req.ctx, ns) for ns in CATALOGUE]})


async def get_provider(req: ArmRequest) -> web.Response:
    return json_response(_provider_body(req.ctx, _namespace_or_404(req.params["namespace"])))


def _change_registration(req: ArmRequest, target: str) -> web.Response:
    namespace = _namespace_or_404(req.params["namespace"])
    req.ctx.authorize(
        req.principal,
        f"{namespace}/{'register' if target == REGISTERED else 'unregister'}/action",
        f"/subscriptions/{req.ctx.store.subscription_id}",
    )
    if registration_state(req.ctx, namespace) != target:
        delay = float(req.ctx.store.settings["provider_registration_seconds"])
        transition = "Registering" if target == REGISTERED else "Unregistering"
        req.ctx.store.put("providers", namespace, {"namespace": namespace, "state": transition, "until": now() + delay})
    return json_response(_provider_body(req.ctx, namespace))


async def register_provider(req: ArmRequest) -> web.Response:
    return _change_registration(req, REGISTERED)


async def unregister_provider(req: ArmRequest) -> web.Response:
    return _change_registration(req, NOT_REGISTERED)


def subscription_body(ctx) -> dict:
    sub = ctx.store.subscription
    return {
        "id": f"/subscriptions/{sub['id']}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": sub["id"],
        "tenantId": ctx.store.tenant_id,
        "displayName": sub["display_name"],
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    }


async def list_subscriptions(req: ArmRequest) -> web.Response:
    try:
        req.ctx.authorize(
            req.principal, "Microsoft.Resources/subscriptions/read", f"/subscriptions/{req.ctx.store.subscription_id}"
        )
        value = [subscription_body(req.ctx)]
    except ArmError:
        value = []
    return json_response({"value": value, "count": {"type": "Total", "value": len(value)}})


async def get_subscription(req: ArmRequest) -> web.Response:
    return json_response(subscription_body(req.ctx))


def register(router: Router) -> None:
    sub = "/subscriptions/{subscriptionId}"
    router.add("GET", "/subscriptions", list_subscriptions)
    router.add("GET", sub, get_subscription, resource_type="Microsoft.Resources/subscriptions")
    router.add("GET", sub + "/providers", list_providers, resource_type="Microsoft.Resources/providers")
    router.add("GET", sub + "/providers/{namespace}", get_provider, resource_type="Microsoft.Resources/providers")
    router.add("POST", sub + "/providers/{namespace}/register", register_provider)
    router.add("POST", sub + "/providers/{namespace}/unregister", unregister_provider)
