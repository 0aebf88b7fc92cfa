# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: connected_clusters
short_description: Azure Arc connected clusters and AKS Arc clusters as inventory hosts
version_added: 0.1.0
description:
  - Lists the Azure Arc connected clusters (C(Microsoft.Kubernetes/connectedClusters)) of one or more
    subscriptions, or of some of their resource groups, and makes each one an inventory host in the group
    C(hci_clusters), the group C(playbooks/site.yml) targets. AKS Arc clusters (connected clusters of kind
    C(ProvisionedCluster)) are listed too.
  - The host name is the cluster's name (see O(hostnames) and the notes for clusters that share a name).
  - Each host gets the variables C(arcml_cluster_name), C(arcml_resource_group), C(arcml_subscription_id),
    C(arcml_location), C(arcml_cluster_id), C(arcml_cluster_kind) (V(connected) or V(provisioned)),
    C(arcml_connectivity_status), C(arcml_agent_version), C(arcml_last_connectivity_time),
    C(arcml_distribution), C(arcml_infrastructure), C(arcml_kubernetes_version), C(arcml_total_node_count),
    C(arcml_provisioning_state) and C(arcml_tags); O(compose), O(groups) and O(keyed_groups) can use them.
  - Reads Azure only; the clusters themselves are not contacted. With
    R(hci.arc_ml.cluster_credentials,ansible_collections.hci.arc_ml.cluster_credentials_module) a play fetches each
    cluster's kubeconfig from Azure, so a fleet needs no static inventory and no kubeconfig files.
  - Needs a configuration file whose name ends with C(connected_clusters.yml) or C(connected_clusters.yaml).
author:
  - hci.arc_ml maintainers (!UNKNOWN)
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - hci.arc_ml.azure_auth
options:
  plugin:
    description:
      - The name of this plugin; it marks the file as this plugin's configuration.
    required: true
    type: str
    choices: [hci.arc_ml.connected_clusters]
  subscriptions:
    description:
      - The subscriptions (GUIDs) to list connected clusters in.
      - Empty, the one subscription O(subscription_id) names (or E(AZURE_SUBSCRIPTION_ID), or the credentials
        file profile's C(subscription_id)).
    type: list
    elements: str
    default: []
  resource_groups:
    description:
      - Only the connected clusters of these resource groups, in every subscription of O(subscriptions).
      - Empty, every connected cluster of each subscription.
      - A resource group that does not exist fails the inventory source, as a misspelled name would otherwise
        silently leave its clusters out.
    type: list
    elements: str
    default: []
  kinds:
    description:
      - Only clusters of these kinds. V(connected) is a Kubernetes cluster connected to Azure Arc with its
        agents (no C(kind) in Azure); V(provisioned) is an AKS Arc cluster (C(kind) V(ProvisionedCluster)).
    type: list
    elements: str
    choices: [connected, provisioned]
    default: [connected, provisioned]
  connectivity_statuses:
    description:
      - Only clusters whose C(connectivityStatus) is one of these (compared without case).
      - Empty, every status.
    type: list
    elements: str
    choices: [Connecting, Connected, Offline, Expired, AgentNotInstalled]
    default: []
  tags:
    description:
      - Only clusters that carry every one of these Azure tags. A tag whose value is given must have that value
        (compared with case); a tag given without a value (V(null)) must only be present. Tag names are
        compared without case, as Azure compares them.
    type: dict
    default: {}
  hostnames:
    description:
      - Jinja2 expressions over the host variables that name each host; the first that gives a non-empty string
        wins. Empty, or when none gives one, the cluster's name.
      - An expression that fails to evaluate is skipped, or fails the source when O(strict) is true.
    type: list
    elements: str
    default: []
  auth_source:
    env:
      - name: ANSIBLE_AZURE_AUTH_SOURCE
  subscription_id:
    env:
      - name: AZURE_SUBSCRIPTION_ID
  cloud_environment:
    env:
      - name: AZURE_CLOUD_ENVIRONMENT
  trusted_login_hosts:
    env:
      - name: ARCML_TRUSTED_LOGIN_HOSTS
  trusted_audience_hosts:
    env:
      - name: ARCML_TRUSTED_AUDIENCE_HOSTS
  ca_bundle:
    env:
      - name: REQUESTS_CA_BUNDLE
  token_cache:
    env:
      - name: ARCML_TOKEN_CACHE
notes:
  - >-
    Host names are unique: when two listed clusters would get the same host name (the same cluster name in two
    resource groups or subscriptions), each of them is named C(<name>_<resource group>) instead (lower-cased
    resource group), and C(<name>_<resource group>_<subscription>) if that is still not unique; a warning names
    them. No cluster is ever left out. C(arcml_cluster_name) keeps the cluster's own name, which the collection's
    playbooks use.
  - >-
    With O(cache) on, the clusters Azure listed are kept by the cache plugin (no secret is in them) and a later
    run reads them from there without signing in or calling Azure until O(cache_timeout) passes, the listed
    subscriptions or resource groups change, or C(--flush-cache) is given. The filters, O(hostnames),
    O(compose), O(groups) and O(keyed_groups) apply to the cached clusters too.
  - >-
    Credentials work as in the modules (the notes below). Keep secrets out of the configuration file: set them
    in the environment (an AWX Microsoft Azure Resource Manager credential injects them), a credentials file
    profile, a managed identity or the Azure CLI login. No secret is ever shown in the inventory or in an error.
seealso:
  - module: hci.arc_ml.connected_cluster_info
  - module: hci.arc_ml.cluster_credentials
"""

EXAMPLES = r"""
---
# fleet.connected_clusters.yml: every Arc connected cluster of the subscription in AZURE_SUBSCRIPTION_ID
plugin: hci.arc_ml.connected_clusters

---
# prod.connected_clusters.yml: the connected clusters of two resource groups in two subscriptions, grouped
# by location and kind, only those Azure sees as Connected, and only those tagged for Azure ML
plugin: hci.arc_ml.connected_clusters
subscriptions:
  - 00000000-0000-0000-0000-000000000001
  - 00000000-0000-0000-0000-000000000002
resource_groups:
  - rg-hci-east
  - rg-hci-west
connectivity_statuses: [Connected]
tags:
  workload: ml
keyed_groups:
  - prefix: location
    key: arcml_location
  - prefix: kind
    key: arcml_cluster_kind
groups:
  aks_arc: arcml_cluster_kind == 'provisioned'
compose:
  arcml_workspace_name: arcml_tags['ml-workspace'] | default('mlw-fleet')
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/hci-arc-ml-inventory
cache_timeout: 600

---
# Name hosts after the resource group and the cluster, e.g. rg-hci-east.hci-seattle
plugin: hci.arc_ml.connected_clusters
hostnames:
  - arcml_resource_group ~ '.' ~ arcml_cluster_name
"""

import os

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import resource as _arc_resource
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.auth import (
    AzureContext,
    azure_auth_argument_spec,
    check_subscription_id,
    plan_credentials,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError, one_line, redact

GROUP = "hci_clusters"
CONNECTED = "connected"
PROVISIONED = "provisioned"
CONFIG_SUFFIXES = ("connected_clusters.yml", "connected_clusters.yaml")
# Secrets the controller's environment may hold for Azure, masked in every message of this plugin.
SECRET_ENVIRONMENT = ("AZURE_SECRET", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_PASSWORD")
SECRET_OPTIONS = ("secret", "password", "certificate_password")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "hci.arc_ml.connected_clusters"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(CONFIG_SUFFIXES)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path)
        self._read_config_data(path)
        params = auth_params(self.get_option)
        secrets = secrets_of(params, os.environ)
        try:
            plan = plan_credentials(params)
            secrets += plan.secrets
            sources = list_paths(subscriptions_of(self.get_option("subscriptions"), params, plan),
                                 self.get_option("resource_groups"))  # fmt: skip
            clusters = self._cached_or_listed(path, cache, sources, lambda: list_clusters(params, plan, sources))
        except ArcMLError as exc:
            raise AnsibleParserError(
                f"hci.arc_ml.connected_clusters ({path}): {one_line(redact(exc.message, secrets), limit=2000)}"
            ) from None
        self._populate(clusters)

    def _cached_or_listed(self, path, cache, sources, list_now):
        """The clusters from the cache when it holds those of the same sources, else from Azure (then cached)."""
        use_cache = self.get_option("cache")
        cache_key = self.get_cache_key(path)
        if use_cache and cache:
            try:
                cached = self._cache[cache_key]
            except KeyError:
                cached = None
            if isinstance(cached, dict) and cached.get("sources") == sources:
                return cached["clusters"]
        clusters = list_now()
        if use_cache:
            self._cache[cache_key] = {"sources": sources, "clusters": clusters}
        return clusters

    def _populate(self, clusters):
        """Add the clusters that pass the filters as hosts of `hci_clusters`, with their variables and groups."""
        chosen = select(
            clusters, self.get_option("kinds"), self.get_option("connectivity_statuses"), self.get_option("tags")
        )
        # What Azure holds (names, tag values) is data, never a template to evaluate.
        selected = [wrap_var(variables) for variables in chosen]
        strict = self.get_option("strict")
        names, renamed = unique_host_names([self._host_name(variables, strict) for variables in selected], selected)
        if renamed:
            self.display.warning(
                "hci.arc_ml.connected_clusters: clusters share a host name, so each is named with its resource "
                "group: " + ", ".join(renamed)
            )
        self.inventory.add_group(GROUP)
        for name, variables in zip(names, selected):
            self.inventory.add_host(name, group=GROUP)
            for key, value in variables.items():
                self.inventory.set_variable(name, key, value)
            self._set_composite_vars(self.get_option("compose"), variables, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), variables, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, name, strict=strict)

    def _host_name(self, variables, strict):
        """The first non-empty result of the `hostnames` expressions, else the cluster's name."""
        for expression in self.get_option("hostnames"):
            try:
                name = self._compose(expression, variables)
            except Exception as exc:
                if strict:
                    raise AnsibleError(
                        f"Could not name cluster {variables['arcml_cluster_id']} with {expression!r}: {exc}"
                    ) from None
                continue
            if name and isinstance(name, str):
                return name
        return variables["arcml_cluster_name"]


def auth_params(get_option):
    """The Azure options as a module's params: the option values (Ansible applied their environment variables)."""
    return {name: get_option(name) for name in azure_auth_argument_spec()}


def secrets_of(params, environ):
    """Every secret value this run may hold, to mask in messages."""
    values = [params.get(name) for name in SECRET_OPTIONS] + [environ.get(name) for name in SECRET_ENVIRONMENT]
    return [value for value in values if value]


def subscriptions_of(subscriptions, params, plan):
    """The subscriptions to list (lower-cased GUIDs, in order, no repeats); one clear error when none is set."""
    wanted = list(subscriptions or []) or [params.get("subscription_id") or plan.subscription_id]
    if not wanted[0]:
        raise ArcMLError(
            "No subscription to list connected clusters in: set subscriptions in the inventory file, or "
            "subscription_id, AZURE_SUBSCRIPTION_ID or a credentials file profile's subscription_id."
        )
    checked = [check_subscription_id(subscription) for subscription in wanted]
    return list(dict.fromkeys(checked))


def list_paths(subscriptions, resource_groups):
    """The ARM list paths to read: each resource group of each subscription, else each whole subscription.

    GET /subscriptions/{sub}/providers/Microsoft.Kubernetes/connectedClusters (ConnectedCluster_ListBySubscription)
    and GET .../resourceGroups/{rg}/providers/Microsoft.Kubernetes/connectedClusters
    (ConnectedCluster_ListByResourceGroup), as `az connectedk8s list` reads them:
    https://github.com/Azure/azure-rest-api-specs/blob/main/specification/hybridkubernetes/resource-manager/Microsoft.Kubernetes/HybridKubernetes/stable/2026-05-01/connectedClusters.json
    """
    paths = []
    for subscription in subscriptions:
        if not resource_groups:
            paths.append(_arc_resource.subscription_list_path(subscription))
            continue
        for group in resource_groups:
            # Every name that reaches a request path is checked first (_azure/resource_id.py).
            _arc_resource.check_info_names(subscription, None, group)
            paths.append(_arc_resource.group_list_path(subscription, group))
    return list(dict.fromkeys(paths))


def list_clusters(params, plan, paths):
    """Sign in once, then every connected cluster of `paths` (nextLink followed), as host variables."""
    azure = AzureContext.from_params(params, plan=plan, require_subscription=False)
    found = {}
    for path in paths:
        for resource in azure.arm.list(path, _arc_resource.API_VERSION):
            variables = host_vars(resource)
            found.setdefault(variables["arcml_cluster_id"].lower(), variables)
    return [found[key] for key in sorted(found)]


def host_vars(resource):
    """The host variables of one connectedClusters resource as ARM answers it (no secret is in them)."""
    properties = _arc_resource.properties_of(resource)
    resource_id = resource.get("id") or ""
    parts = [part for part in resource_id.split("/") if part]
    return {
        "arcml_cluster_name": resource.get("name"),
        "arcml_resource_group": parts[3] if len(parts) > 3 else None,
        "arcml_subscription_id": parts[1].lower() if len(parts) > 1 else None,
        "arcml_location": resource.get("location"),
        "arcml_cluster_id": resource_id,
        "arcml_cluster_kind": PROVISIONED if _arc_resource.is_provisioned(resource) else CONNECTED,
        "arcml_connectivity_status": properties.get("connectivityStatus"),
        "arcml_agent_version": properties.get("agentVersion"),
        "arcml_last_connectivity_time": properties.get("lastConnectivityTime"),
        "arcml_distribution": properties.get("distribution"),
        "arcml_infrastructure": properties.get("infrastructure"),
        "arcml_kubernetes_version": properties.get("kubernetesVersion"),
        "arcml_total_node_count": properties.get("totalNodeCount"),
        "arcml_provisioning_state": properties.get("provisioningState"),
        "arcml_tags": dict(resource.get("tags") or {}),
    }


def select(clusters, kinds, connectivity_statuses, tags):
    """The clusters of one of `kinds`, with one of `connectivity_statuses` (any when empty) and every tag of `tags`."""
    statuses = {status.lower() for status in connectivity_statuses or ()}
    return [
        variables
        for variables in clusters
        if variables["arcml_cluster_kind"] in kinds
        and (not statuses or (variables["arcml_connectivity_status"] or "").lower() in statuses)
        and has_tags(variables["arcml_tags"], tags or {})
    ]


def has_tags(carried, wanted):
    """Every tag of `wanted` is in `carried` (names without case); a wanted value of None accepts any value."""
    by_name = {str(name).lower(): value for name, value in carried.items()}
    for name, value in wanted.items():
        key = str(name).lower()
        if key not in by_name or (value is not None and by_name[key] != str(value)):
            return False
    return True


def unique_host_names(names, clusters):
    """(one unique host name per cluster, the clusters renamed); never drops a cluster.

    Names shared by several clusters become `<name>_<resource group>`, then `<name>_<resource group>_<subscription>`
    where that is still shared: the result depends only on the clusters listed, not on the order Azure lists them.
    """
    result = list(names)
    suffixes = (
        lambda c: (c["arcml_resource_group"] or "").lower(),
        lambda c: f"{(c['arcml_resource_group'] or '').lower()}_{c['arcml_subscription_id']}",
    )
    for suffix in suffixes:
        shared = _shared(result)
        if not shared:
            break
        result = [
            f"{names[i]}_{suffix(cluster)}" if result[i] in shared else result[i] for i, cluster in enumerate(clusters)
        ]
    renamed = [
        f"{cluster['arcml_cluster_id']} as {result[i]}"
        for i, cluster in enumerate(clusters)
        if result[i] != names[i]
    ]  # fmt: skip
    return result, renamed


def _shared(names):
    seen, shared = set(), set()
    for name in names:
        (shared if name in seen else seen).add(name)
    return shared
