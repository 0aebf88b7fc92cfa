"""What Azure already holds before the first playbook runs, from the sites file.

The subscription and tenant, the service principals (the default one is Owner
of the subscription; extra ones get Contributor or no rights at all), the
directory's user accounts (a generated password kept only in the state file,
Contributor or no rights, `mfa: true` for one Entra asks MFA of), the
Azure ML workspace and its resource group, every site's resource group, and
each `kind: provisioned` site as an already-connected AKS Arc cluster. Seeding
is idempotent: on a restart it adds what is missing and changes nothing else.

Resource providers start unregistered, as in a new subscription, except those
an existing resource proves registered (Machine Learning for the workspace;
Kubernetes, ExtendedLocation and HybridContainerService for provisioned clusters).
"""

from __future__ import annotations

from . import auth, connected_clusters, ml, providers, rbac, resource_groups, resources
from .clock import iso

DEFAULT_PRINCIPAL = "sandbox-admin"
RIGHTS_ROLES = {"contributor": "Contributor", "reader": "Reader", "owner": "Owner", "none": None}
PROVISIONED_AGENT_VERSION = "1.26.0"


def _cores(cpu: str) -> int:
    cpu = str(cpu)
    return max(1, int(cpu[:-1]) // 1000) if cpu.endswith("m") else int(float(cpu))


def _ensure_group(ctx, name: str, location: str) -> None:
    if resource_groups.find(ctx, name) is None:
        resource_groups.create(ctx, name, location)


def _provisioned_cluster(ctx, site) -> None:
    cid = connected_clusters.cluster_id(ctx, site.resource_group, site.name)
    if resources.get(ctx, cid) is not None:
        return
    cluster = connected_clusters.build(
        ctx,
        resource_group=site.resource_group,
        name=site.name,
        body={
            "location": site.location,
            "kind": connected_clusters.PROVISIONED,
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "agentPublicKeyCertificate": "",
                "distribution": "AKS",
                "infrastructure": "azure_stack_hci",
                "aadProfile": {"enableAzureRBAC": False},
                "arcAgentProfile": {"agentAutoUpgrade": "Enabled"},
            },
        },
        principal=None,
        previous=None,
    )
    cluster["properties"].update(
        provisioningState="Succeeded",
        connectivityStatus="Connected",
        totalNodeCount=len(site.nodes),
        totalCoreCount=sum(_cores(n.cpu) for n in site.nodes),
        agentVersion=PROVISIONED_AGENT_VERSION,
        lastConnectivityTime=iso(),
    )
    resources.save(ctx, connected_clusters.KIND, cluster)


def seed(ctx, sites=None) -> None:
    store = ctx.store
    subscription = f"/subscriptions/{store.subscription_id}"
    admin = rbac.ensure_principal(store, DEFAULT_PRINCIPAL)
    rbac.assign(store, admin, "Owner", subscription)
    if sites is None:
        return
    for declared in sites.principals:
        principal = rbac.ensure_principal(store, declared.name)
        role = RIGHTS_ROLES.get(declared.rights)
        if role:
            rbac.assign(store, principal, role, subscription)
    for declared in sites.users:
        user = auth.ensure_user(store, declared.name, mfa=declared.mfa)
        role = RIGHTS_ROLES.get(declared.rights)
        if role:
            rbac.assign(store, auth.as_principal(user), role, subscription)

    workspace = sites.workspace
    _ensure_group(ctx, workspace.resource_group, workspace.location)
    providers.set_registered(ctx, ml.NAMESPACE)
    ml.create_workspace(ctx, workspace.resource_group, workspace.name, providers.normalize_location(workspace.location))

    for site in sites.sites:
        _ensure_group(ctx, site.resource_group, site.location)
        if site.provisioned:
            for namespace in ("Microsoft.Kubernetes", "Microsoft.ExtendedLocation", "Microsoft.HybridContainerService"):
                providers.set_registered(ctx, namespace)
            _provisioned_cluster(ctx, site)
