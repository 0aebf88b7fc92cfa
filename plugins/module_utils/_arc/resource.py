# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The ARM side of an Arc connected cluster: paths, request bodies, drift, and how results show it.

PUT creates or replaces the whole resource (so a re-PUT starts from the GET result and keeps the public key),
PATCH changes only tags and properties.{distribution, distributionVersion, azureHybridBenefit, gateway}
(`ConnectedClusterPatch` / `ConnectedClusterPatchProperties` in the 2026-05-01 spec; agentAutoUpgrade,
infrastructure, agentPublicKeyCertificate and arcAgentryConfigurations need the PUT):
https://github.com/Azure/azure-rest-api-specs/blob/main/specification/hybridkubernetes/resource-manager/Microsoft.Kubernetes/HybridKubernetes/stable/2026-05-01/connectedClusters.json
A PUT replaces what Azure holds, and GET returns the protectedSettings of `arcAgentryConfigurations` without
their values, so a re-PUT built from a GET would erase them: plan_update() refuses such a re-PUT.
Everything here is pure: no request is made.
"""

from __future__ import annotations

import copy

from ansible_collections.hci.arc_ml.plugins.module_utils._azure import resource_id as _resource_id
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import resource_path
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.tags import desired_tags
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError

# The GA version azure-mgmt-hybridkubernetes 2.0.0 defaults to; PATCH is a long-running operation in it.
API_VERSION = "2026-05-01"
NAMESPACE = "Microsoft.Kubernetes"
TYPE = "connectedClusters"
PROVISIONED_KIND = "provisionedcluster"

# The read-only fields of the connected cluster model (vendored SDK preview_2024_07_01, `_validation`
# "readonly"), which `ConnectedCluster.serialize()` leaves out of a request body:
# https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/vendored_sdks/preview_2024_07_01/models/_models_py3.py
READ_ONLY = {
    "": ("id", "name", "type", "systemData"),
    "identity": ("principalId", "tenantId"),
    "properties": (
        "kubernetesVersion",
        "totalNodeCount",
        "totalCoreCount",
        "agentVersion",
        "offering",
        "managedIdentityCertificateExpirationTime",
        "lastConnectivityTime",
        "connectivityStatus",
        "miscellaneousProperties",
    ),
    "properties.arcAgentProfile": ("agentState",),
    "properties.arcAgentProfile.agentErrors[]": ("message", "severity", "component", "time"),
    "properties.arcAgentProfile.systemComponents[]": ("currentVersion",),
    "properties.oidcIssuerProfile": ("issuerUrl",),
}
# What a re-PUT built from a GET leaves out: the read-only properties, and provisioningState, which the service
# sets (the 2026-05-01 spec does not mark it read-only); the whole agentErrors list (every field of its entries
# is read-only).
READ_ONLY_PROPERTIES = frozenset(READ_ONLY["properties"]) | {"provisioningState"}
READ_ONLY_AGENT_PROFILE = frozenset(READ_ONLY["properties.arcAgentProfile"]) | {"agentErrors"}
PATCHABLE = frozenset(("tags", "distribution"))
ARC_AGENTRY_CONFIGURATIONS = "arcAgentryConfigurations"
# What `az connectedk8s update --proxy-https ...` records in ARM for a proxy: feature "proxy" with the
# non-secret settings (none: add_config_protected_settings makes every proxy key protected) and no
# protectedSettings (generate_arc_agent_configuration sends them to the config data plane only, is_dp_call=True):
# https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/custom.py
PROXY_FEATURE = "proxy"


# The names of a connected cluster and its resource group, and its location, follow the shared rules of
# _azure/resource_id.py (each traced there to its spec), checked with anchored full matches before any request.
CLUSTER_NAME = _resource_id.CLUSTER_NAME
RESOURCE_GROUP_NAME = _resource_id.RESOURCE_GROUP


class InvalidNameError(_resource_id.InvalidNameError):
    """A name Azure would refuse; raised before any request is sent."""


def check_names(name, resource_group, location=None):
    """Refuse names Azure rejects, before anything is written to Azure or to the cluster.

    `location` (when given) names the regional config data plane host (https://<location>.dp...), so it is
    checked too: a '#', '?' or '/' in it would change the URL.
    """
    problems = _resource_id.name_problems(
        ("cluster name", name or "", CLUSTER_NAME),
        ("resource group", resource_group or "", RESOURCE_GROUP_NAME),
        ("location", location, _resource_id.LOCATION),
    )
    if problems:
        raise InvalidNameError(
            "Invalid connected cluster: {}. Nothing was sent to Azure or the cluster.".format("; ".join(problems))
        )


def check_info_names(subscription_id, name=None, resource_group=None):
    """connected_cluster_info: the names that reach the request path, checked before the read."""
    _resource_id.check_names(
        ("subscription_id", subscription_id, _resource_id.SUBSCRIPTION_ID),
        ("resource_group", resource_group, RESOURCE_GROUP_NAME),
        ("name", name, CLUSTER_NAME),
        what="connected cluster query",
        error=InvalidNameError,
    )


class Desired:
    """What the task asks for; None means "leave as it is" (new resources then get Azure's default).

    `name` is the resource name as the task spells it, for the lines that report a write. `tags` are merged into
    the existing ones, or with `append_tags` false replace them (_azure/tags.py).
    """

    def __init__(
        self,
        name=None,
        location=None,
        tags=None,
        distribution=None,
        infrastructure=None,
        agent_auto_upgrade=None,
        append_tags=True,
    ):
        # The location names the regional config data plane's host: refused here, before any request.
        problems = _resource_id.name_problems(("location", location, _resource_id.LOCATION))
        if problems:
            raise InvalidNameError(
                f"Invalid connected cluster: {problems[0]}. Nothing was sent to Azure or the cluster."
            )
        self.name = name
        self.location = location
        # Checked here too, so that two names Azure takes as one fail before anything is sent, a create included.
        self.tags = None if tags is None else desired_tags({}, tags)[0]
        self.append_tags = append_tags
        self.distribution = distribution
        self.infrastructure = infrastructure
        self.agent_auto_upgrade = agent_auto_upgrade


def _checked_subscription(subscription_id):
    """The subscription id of a request path, refused (before the request) unless it is a GUID."""
    _resource_id.check_names(
        ("subscription_id", subscription_id, _resource_id.SUBSCRIPTION_ID),
        what="connected cluster request",
        error=InvalidNameError,
    )
    return subscription_id


def cluster_path(subscription_id, resource_group, name):
    _checked_subscription(subscription_id)
    return resource_path(
        "subscriptions", subscription_id, "resourceGroups", resource_group, "providers", NAMESPACE, TYPE, name
    )


def group_list_path(subscription_id, resource_group):
    _checked_subscription(subscription_id)
    return resource_path(
        "subscriptions", subscription_id, "resourceGroups", resource_group, "providers", NAMESPACE, TYPE
    )


def subscription_list_path(subscription_id):
    _checked_subscription(subscription_id)
    return resource_path("subscriptions", subscription_id, "providers", NAMESPACE, TYPE)


def identity_of_id(resource_id):
    """(subscription, resource group, name), lower-cased, of a connected cluster's ARM id."""
    parts = [p for p in (resource_id or "").split("/") if p]
    lowered = [p.lower() for p in parts]
    try:
        subscription = parts[lowered.index("subscriptions") + 1]
        group = parts[lowered.index("resourcegroups") + 1]
    except (ValueError, IndexError):
        return None
    return (subscription.lower(), group.lower(), parts[-1].lower())


def is_provisioned(resource):
    """An AKS Arc cluster (kind ProvisionedCluster): connected by the platform, not by this collection."""
    return bool(resource) and (resource.get("kind") or "").lower() == PROVISIONED_KIND


def is_connected(resource):
    return bool(resource) and properties_of(resource).get("connectivityStatus") == "Connected"


def location_key(location):
    """ARM compares locations without case and spaces: 'East US' is 'eastus'."""
    return (location or "").replace(" ", "").lower()


def auto_upgrade_value(enabled):
    return "Enabled" if enabled else "Disabled"


def new_body(desired, location, public_key_certificate):
    """The PUT body of a new connected cluster (what az connectedk8s connect sends)."""
    properties = {
        "agentPublicKeyCertificate": public_key_certificate,
        "distribution": desired.distribution,
        "infrastructure": desired.infrastructure,
    }
    if desired.agent_auto_upgrade is not None:
        properties["arcAgentProfile"] = {"agentAutoUpgrade": auto_upgrade_value(desired.agent_auto_upgrade)}
    return {
        "location": location,
        "tags": dict(desired.tags or {}),
        "identity": {"type": "SystemAssigned"},
        "properties": {k: v for k, v in properties.items() if v is not None},
    }


def writable(resource):
    """The GET result reduced to what a PUT may send: read-only fields dropped, everything else kept."""
    body = {
        "location": resource.get("location"),
        "tags": dict(resource.get("tags") or {}),
        "identity": {"type": (resource.get("identity") or {}).get("type") or "SystemAssigned"},
        "properties": {},
    }
    if resource.get("kind"):
        body["kind"] = resource["kind"]
    for key, current in properties_of(resource).items():
        if key in READ_ONLY_PROPERTIES:
            continue
        value = copy.deepcopy(current)
        if key == "arcAgentProfile" and isinstance(value, dict):
            for field in READ_ONLY_AGENT_PROFILE:
                value.pop(field, None)
            for component in value.get("systemComponents") or []:
                if isinstance(component, dict):
                    component.pop("currentVersion", None)
        elif key == "oidcIssuerProfile" and isinstance(value, dict):
            value.pop("issuerUrl", None)
        elif key == ARC_AGENTRY_CONFIGURATIONS and isinstance(value, list):
            # GET returns protectedSettings without their values: sent back, the blanks would replace the secrets.
            for configuration in value:
                if isinstance(configuration, dict):
                    configuration.pop("protectedSettings", None)
        body["properties"][key] = value
    return body


class Write:
    """The one ARM write that brings the resource to what the task asks.

    `put` is a full PUT body or None, `patch` a PATCH body or None (at most one is set); `changes` names what
    differs from the existing resource; `after` is the resource as it will be (for diff and check mode);
    `action` is the line the task reports for the write, None when nothing needs writing.
    """

    def __init__(self, after, put=None, patch=None, changes=(), action=None):
        self.after = after
        self.put = put
        self.patch = patch
        self.changes = list(changes)
        self.action = action

    @property
    def needed(self):
        return bool(self.patch or self.put)


def plan_create(desired, location, public_key_certificate, resource_id):
    """The PUT that creates the connected cluster `desired.name` in `location`."""
    body = new_body(desired, location, public_key_certificate)
    after = dict(body, id=resource_id, name=desired.name)
    return Write(after, put=body, action=f"create connected cluster {desired.name}")


def agentry_configuration(feature, settings=None):
    """One `arcAgentryConfigurations` entry as ARM gets it: the feature and its settings, never protected ones."""
    return {"feature": feature, "settings": dict(settings or {})}


def held_protected_features(resource):
    """The features whose protectedSettings Azure holds (GET names their keys, without the values)."""
    features = []
    for configuration in properties_of(resource).get(ARC_AGENTRY_CONFIGURATIONS) or []:
        if isinstance(configuration, dict) and configuration.get("protectedSettings"):
            features.append(configuration.get("feature"))
    return features


def _with_configurations(current, configurations):
    """`current`'s arcAgentryConfigurations with `configurations` in place of the same features."""
    replaced = {(c.get("feature") or "").lower() for c in configurations}
    kept = [
        copy.deepcopy(c)
        for c in current or []
        if not (isinstance(c, dict) and (c.get("feature") or "").lower() in replaced)
    ]
    return kept + [copy.deepcopy(c) for c in configurations]


def _configurations_differ(current, configurations):
    by_feature = {(c.get("feature") or "").lower(): c for c in current or [] if isinstance(c, dict)}
    for wanted in configurations:
        existing = by_feature.get((wanted.get("feature") or "").lower())
        if existing is None or (existing.get("settings") or {}) != (wanted.get("settings") or {}):
            return True
    return False


def plan_update(current, desired, public_key_certificate=None, configurations=None):
    """The smallest write that makes `current` what `desired` asks; with a new public key, always a re-PUT.

    `configurations`: `arcAgentryConfigurations` entries to record (replacing the same features), or None.
    Refuses (before anything is written) a re-PUT that would erase protected settings Azure holds.
    """
    check_location(current, desired)
    properties = properties_of(current)
    changes = []
    # PATCH and PUT both replace the whole tag set: either carries the merged set, never only the requested tags.
    tags, tags_differ = desired_tags(current.get("tags"), desired.tags, desired.append_tags)
    if tags_differ:
        changes.append("tags")
    if desired.distribution is not None and not _same(desired.distribution, properties.get("distribution")):
        changes.append("distribution")
    if desired.infrastructure is not None and not _same(desired.infrastructure, properties.get("infrastructure")):
        changes.append("infrastructure")
    current_upgrade = (properties.get("arcAgentProfile") or {}).get("agentAutoUpgrade") or "Enabled"
    if desired.agent_auto_upgrade is not None and auto_upgrade_value(desired.agent_auto_upgrade) != current_upgrade:
        changes.append("agentAutoUpgrade")
    if public_key_certificate and public_key_certificate != properties.get("agentPublicKeyCertificate"):
        changes.append("agentPublicKeyCertificate")
    if configurations and _configurations_differ(properties.get(ARC_AGENTRY_CONFIGURATIONS), configurations):
        changes.append(ARC_AGENTRY_CONFIGURATIONS)

    after = copy.deepcopy(current)
    after_properties = after.setdefault("properties", {})
    if "tags" in changes:
        after["tags"] = dict(tags)
    if "distribution" in changes:
        after_properties["distribution"] = desired.distribution
    if "infrastructure" in changes:
        after_properties["infrastructure"] = desired.infrastructure
    if "agentAutoUpgrade" in changes:
        profile = after_properties.setdefault("arcAgentProfile", {})
        profile["agentAutoUpgrade"] = auto_upgrade_value(desired.agent_auto_upgrade)
    if "agentPublicKeyCertificate" in changes:
        after_properties["agentPublicKeyCertificate"] = public_key_certificate
    if ARC_AGENTRY_CONFIGURATIONS in changes:
        after_properties[ARC_AGENTRY_CONFIGURATIONS] = _with_configurations(
            properties.get(ARC_AGENTRY_CONFIGURATIONS), configurations
        )

    if not changes:
        return Write(after)
    if set(changes) <= PATCHABLE:
        patch = {}
        if "tags" in changes:
            patch["tags"] = dict(tags)
        if "distribution" in changes:
            patch["properties"] = {"distribution": desired.distribution}
        action = f"update connected cluster {desired.name} ({', '.join(changes)})"
        return Write(after, patch=patch, changes=changes, action=action)
    replaced = {(c.get("feature") or "").lower() for c in configurations or []} if configurations else set()
    lost = [f for f in held_protected_features(current) if (f or "").lower() not in replaced]
    if lost:
        raise ArcMLError(
            "Changing {} of connected cluster {} needs a PUT of the whole resource, which would erase the "
            "protected settings of arcAgentryConfigurations feature(s) {}: Azure does not return their values, so "
            "they cannot be sent back. Nothing was changed. Make this change with az connectedk8s update, passing "
            "those protected settings again (--configuration-protected-settings), or leave it out of the task.".format(
                ", ".join(changes), desired.name, ", ".join(repr(f) for f in lost)
            ),
            protected_features=lost,
        )
    action = f"replace connected cluster {desired.name} ({', '.join(changes)})"
    return Write(after, put=writable(after), changes=changes, action=action)


def check_location(current, desired):
    if desired.location and location_key(desired.location) != location_key(current.get("location")):
        raise ArcMLError(
            "Connected cluster {} is in location {}, not {}: a connected cluster cannot move. Use location {} "
            "(or leave it out), or disconnect it first (state: absent) and connect it again.".format(
                current.get("id") or current.get("name"),
                current.get("location"),
                desired.location,
                current.get("location"),
            )
        )


def diff_view(resource):
    """The ARM resource as --diff shows it: what a PUT would send, plus its id; {} for no resource."""
    if not resource:
        return {}
    view = writable(resource)
    if resource.get("id"):
        view = {"id": resource["id"], "name": resource.get("name"), **view}
    return view


def summary(resource):
    """The resource as modules return it (snake_case)."""
    if not resource:
        return {}
    properties = properties_of(resource)
    identity = identity_of_id(resource.get("id"))
    parts = [p for p in (resource.get("id") or "").split("/") if p]
    return {
        "id": resource.get("id"),
        "name": resource.get("name"),
        "subscription_id": identity[0] if identity else None,
        "resource_group": parts[3] if len(parts) > 3 else None,
        "location": resource.get("location"),
        "tags": dict(resource.get("tags") or {}),
        "kind": resource.get("kind"),
        "platform_managed": is_provisioned(resource),
        "provisioning_state": properties.get("provisioningState"),
        "connectivity_status": properties.get("connectivityStatus"),
        "last_connectivity_time": properties.get("lastConnectivityTime"),
        "agent_version": properties.get("agentVersion"),
        "agent_auto_upgrade": (properties.get("arcAgentProfile") or {}).get("agentAutoUpgrade"),
        "kubernetes_version": properties.get("kubernetesVersion"),
        "total_node_count": properties.get("totalNodeCount"),
        "total_core_count": properties.get("totalCoreCount"),
        "distribution": properties.get("distribution"),
        "infrastructure": properties.get("infrastructure"),
        "identity_principal_id": (resource.get("identity") or {}).get("principalId"),
    }


def properties_of(resource):
    return (resource or {}).get("properties") or {}


def _same(wanted, actual):
    """Distribution and infrastructure are free strings that the CLI and portals spell in different cases."""
    return (wanted or "").lower() == (actual or "").lower()
