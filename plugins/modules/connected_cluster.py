#!/usr/bin/python
# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: connected_cluster
short_description: Connect a Kubernetes cluster to Azure Arc, or disconnect it
version_added: 0.1.0
description:
  - Connects the cluster that the Kubernetes options point at to Azure Arc as the connected cluster O(name)
    (C(Microsoft.Kubernetes/connectedClusters)), the way C(az connectedk8s connect) does, and idempotently.
  - 'Connecting creates the Azure resource with the public half of a fresh RSA-4096 key pair, asks the Arc
    configuration service which agent chart to install with which values, installs the agents with
    C(helm upgrade --install azure-arc) into namespace C(azure-arc-release), and waits until Azure reports the cluster
    C(Connected). Unlike C(az connectedk8s connect), it does not return before the cluster is connected, unless
    O(wait=false).'
  - Finds an existing onboarding first and acts on what it finds; see the notes. A cluster already connected as
    O(name) is never reinstalled; only the Azure resource's settings that differ are changed, with a PATCH where
    Azure allows it and a full PUT that keeps the existing public key otherwise. A helm release of the agents
    that is not C(deployed) (for example C(failed)) is repaired, not reported as fine.
  - An AKS cluster enabled by Azure Arc (C(kind=ProvisionedCluster)) is connected by the platform. The module
    reports it and changes nothing, never runs helm on it and refuses to disconnect it.
  - O(state=absent) deletes the Azure resource first, then uninstalls the agents, then waits for the namespaces
    C(azure-arc) and C(azure-arc-release) to go, and removes the Arc CRDs.
author:
  - hci.arc_ml maintainers (!UNKNOWN)
options:
  name:
    description:
      - The name of the connected cluster resource in Azure.
    type: str
    required: true
  resource_group:
    description:
      - The resource group of the connected cluster. It must exist.
    type: str
    required: true
  location:
    description:
      - The Azure region of the connected cluster, for example V(eastus).
      - Defaults to the region of O(resource_group) when the resource is created.
      - A connected cluster cannot move; a location other than the existing resource's fails the task.
    type: str
  state:
    description:
      - V(present) connects the cluster, V(absent) disconnects it.
    type: str
    choices: [present, absent]
    default: present
  distribution:
    description:
      - The Kubernetes distribution Azure records, for example V(aks_workload) for a workload cluster of AKS on
        Azure Stack HCI (AKS hybrid), V(aks_management), V(generic), V(k3s).
      - Compared without case with the existing resource; a change is a PATCH.
    type: str
    default: aks_workload
  infrastructure:
    description:
      - The infrastructure Azure records, for example V(azure_stack_hci), V(vsphere), V(generic).
      - Compared without case with the existing resource; a change is a re-PUT that keeps the public key.
    type: str
    default: azure_stack_hci
  tags:
    description:
      - The complete set of tags of the Azure resource; tags not listed are removed.
      - When not set, the tags of an existing resource are left as they are.
    type: dict
  agent_auto_upgrade:
    description:
      - Whether Azure upgrades the Arc agents automatically (C(properties.arcAgentProfile.agentAutoUpgrade)).
      - When not set, an existing resource keeps its setting and a new one gets Azure's default (enabled).
      - On a connected cluster a change is a re-PUT of the resource that keeps the public key; the agents
        are not reinstalled.
    type: bool
  proxy:
    description:
      - The outbound proxy the agents use to reach Azure. Applied when the agents are installed (a new connection
        or a repair); a cluster that is already connected keeps the agents' settings.
      - A password in a proxy URL is masked in all output.
    type: dict
    suboptions:
      https_proxy:
        description: The proxy for HTTPS, for example V(http://proxy.example.com:3128).
        type: str
      http_proxy:
        description: The proxy for HTTP.
        type: str
      no_proxy:
        description:
          - Destinations that bypass the proxy. Include the cluster's service CIDR (for example V(10.96.0.0/12)),
            the API server and V(kubernetes.default.svc).
        type: list
        elements: str
      ca_cert:
        description:
          - A PEM file on the controller with the CA certificate of a TLS-inspecting proxy.
        type: path
  chart_ref:
    description:
      - Where to install the agent chart from, instead of the registry the Arc configuration service names
        (C(mcr.microsoft.com) in the public clouds).
      - An OCI reference to a registry mirror, V(oci://<registry>/<repository>/azure-arc-k8sagents) optionally
        followed by V(:<version>); without a version the version the configuration service chose is pulled.
      - Or a chart directory or packaged chart (C(.tgz)) on the controller, for air-gapped sites.
      - The helm values still come from the Arc configuration service of the cloud.
      - O(ca_bundle), when set, also verifies the registry's TLS certificate.
    type: str
  force:
    description:
      - With O(state=present), onboard even when the situation is unclear - an Azure resource O(name) exists but
        nothing in the cluster proves it is this cluster's (the resource gets a new agent key, which disconnects any
        other cluster connected as it); a helm release C(azure-arc) without its ConfigMap, or one whose helm
        operation was interrupted (it is cleaned up and the agents installed again).
      - With O(state=absent), remove the agents even if the cluster is connected as another resource, skip the
        agents' helm hooks, and delete the Azure resource even if the cluster cannot be reached.
      - A cluster connected as a different, existing Azure resource is never moved; disconnect it from that
        resource first.
    type: bool
    default: false
  wait_timeout:
    default: 1200
extends_documentation_fragment:
  - hci.arc_ml.azure_auth
  - hci.arc_ml.kube_auth
  - hci.arc_ml.wait
  - hci.arc_ml.attributes
  - hci.arc_ml.attributes.ACTIONGROUP_AZURE_KUBERNETES
attributes:
  check_mode:
    support: full
    details:
      - Reads Azure and the cluster and reports what it would do; sends no write to either, and no request to the
        Arc configuration service.
  diff_mode:
    support: full
    details:
      - Shows the Azure resource before and after, as it would be sent to Azure.
  idempotent:
    support: full
requirements:
  - helm 3 on the controller's PATH (or in the execution environment)
  - cryptography >= 42.0.0
  - PyYAML
notes:
  - >-
    The onboarding private key never leaves the module process except into the cluster. It is written with the
    Kubernetes API into the Secret C(azure-arc/azure-arc-connect-privatekey), the Secret the agents read, before the
    Azure resource is created; it is never on a command line, in a log, a result or a diff. Agent charts from
    version 1.35.3 read that Secret, so the key is not given to helm at all: it is not in helm's values, nor in
    the release records helm keeps of every revision, nor in C(helm get values). Older charts create that Secret
    themselves from the value C(global.onboardingPrivateKey); for them the key is also passed to helm in a values
    file readable only by the controller's user (0600) that is removed right after, and ends up in helm's release
    record as well. This is the safer of the two ways the Azure CLI hands over the key, used wherever the chart
    allows it.
  - >-
    What it finds, and what it does. Onboarded as O(name) (ConfigMap C(azure-arc/azure-clusterconfig) names
    subscription, resource group and name) and the resource exists - update what differs, never helm. A release
    that is not C(deployed), or agents whose key no longer matches the Azure resource while not connected -
    reinstall them. Onboarded as another resource that exists - fail, naming it. Agents whose Azure resource is
    gone - remove them (CRDs, release, namespace) and onboard. Resource O(name) exists but no agents - continue an
    onboarding that this cluster's key Secret proves was interrupted, else fail unless O(force). Nothing - onboard.
  - >-
    Proxy settings are not sent to Azure; they go to the agents as the chart's C(global.httpsProxy),
    C(global.httpProxy), C(global.noProxy) and C(global.proxyCert) values.
  - >-
    With O(wait=false) the task still waits for Azure to create the resource (the agents can only be installed
    after that) but not for helm's install to become ready nor for the cluster to turn C(Connected).
  - >-
    Azure resource providers C(Microsoft.Kubernetes) and C(Microsoft.KubernetesConfiguration) must be registered
    (M(hci.arc_ml.resource_provider)); the Kubernetes user needs cluster-admin rights.
seealso:
  - module: hci.arc_ml.connected_cluster_info
  - module: hci.arc_ml.resource_provider
  - name: Azure Arc-enabled Kubernetes
    description: Connect an existing Kubernetes cluster to Azure Arc.
    link: https://learn.microsoft.com/azure/azure-arc/kubernetes/quickstart-connect-cluster
"""

EXAMPLES = r"""
- name: Connect an AKS hybrid workload cluster to Azure Arc
  hci.arc_ml.connected_cluster:
    name: "{{ inventory_hostname }}"
    resource_group: rg-hci-clusters
    location: eastus
    kubeconfig: /etc/arc/kubeconfig-{{ inventory_hostname }}
    context: admin@{{ inventory_hostname }}
    tags:
      site: "{{ inventory_hostname }}"

- name: Connect through a proxy, installing the chart from a registry mirror
  hci.arc_ml.connected_cluster:
    name: hci-site-07
    resource_group: rg-hci-clusters
    location: westeurope
    chart_ref: oci://registry.example.com/azurearck8s/stable/v2/azure-arc-k8sagents
    proxy:
      https_proxy: http://proxy.example.com:3128
      no_proxy: [10.96.0.0/12, 10.0.0.0/8, kubernetes.default.svc, .svc, .cluster.local]
      ca_cert: /etc/pki/proxy-ca.pem

- name: Disconnect a cluster
  hci.arc_ml.connected_cluster:
    name: hci-site-07
    resource_group: rg-hci-clusters
    state: absent
"""

RETURN = r"""
connected_cluster:
  description:
    - The connected cluster resource after the task; in check mode, as it would be.
    - Empty after O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: The ARM resource ID.
      type: str
      sample: /subscriptions/<subscription>/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/c1
    name:
      description: The resource name.
      type: str
      sample: site-1
    subscription_id:
      description: The subscription.
      type: str
      sample: 00000000-0000-0000-0000-000000000000
    resource_group:
      description: The resource group.
      type: str
      sample: rg-hci-clusters
    location:
      description: The Azure region.
      type: str
      sample: eastus
    tags:
      description: The resource's tags.
      type: dict
      sample: {site: site-1}
    kind:
      description: V(ProvisionedCluster) for an AKS cluster enabled by Azure Arc, else null.
      type: str
      sample: null
    platform_managed:
      description: Whether the cluster is an AKS Arc C(ProvisionedCluster), which the platform manages.
      type: bool
      sample: false
    provisioning_state:
      description: The resource's provisioning state.
      type: str
      sample: Succeeded
    connectivity_status:
      description: V(Connecting), V(Connected), V(Offline), V(Expired) or V(AgentNotInstalled).
      type: str
      sample: Connected
    last_connectivity_time:
      description: When the agents last reached Azure.
      type: str
      sample: "2026-05-04T10:12:03Z"
    agent_version:
      description: The version of the Arc agents, as they report it.
      type: str
      sample: 1.26.0
    agent_auto_upgrade:
      description: V(Enabled) or V(Disabled); null when Azure did not report it.
      type: str
      sample: Enabled
    kubernetes_version:
      description: The cluster's Kubernetes version, as the agents report it.
      type: str
      sample: 1.31.8
    total_node_count:
      description: The cluster's node count, as the agents report it.
      type: int
      sample: 3
    total_core_count:
      description: The cluster's CPU core count, as the agents report it.
      type: int
      sample: 12
    distribution:
      description: The recorded Kubernetes distribution.
      type: str
      sample: aks_workload
    infrastructure:
      description: The recorded infrastructure.
      type: str
      sample: azure_stack_hci
    identity_principal_id:
      description: The object ID of the resource's system-assigned identity.
      type: str
      sample: 5e3f1c0d-9f0b-4f0e-8c4b-1f2e3d4c5b6a
detected:
  description:
    - What the task found before acting (with O(state=present)).
    - V(not_onboarded), V(onboarded), V(release_failed), V(key_mismatch), V(release_busy), V(stale_release),
      V(release_without_config), V(unfinished_onboarding), V(resource_without_release), V(onboarded_elsewhere) or
      V(platform_managed); see the notes.
  returned: when state is present
  type: str
  sample: onboarded
actions:
  description: What the task did, or in check mode would do, in order.
  returned: always
  type: list
  elements: str
  sample:
    - create connected cluster site-1
    - install the Arc agents (helm release azure-arc in namespace azure-arc-release)
helm_release:
  description: The agents' helm release after the task; empty when there is none or it was not looked at.
  returned: always
  type: dict
  contains:
    name:
      description: The release name.
      type: str
      sample: azure-arc
    namespace:
      description: The release namespace.
      type: str
      sample: azure-arc-release
    status:
      description: The helm status of its latest revision.
      type: str
      sample: deployed
    revision:
      description: The latest revision.
      type: int
      sample: 1
    chart_version:
      description: The version of the agent chart installed by this task.
      type: str
      sample: 1.26.0
    private_key_delivery:
      description:
        - How this task handed the onboarding key to the agents - V(secret) (only the Kubernetes Secret) or
          V(secret_and_value) (also as a helm value, for charts before 1.35.3).
      type: str
      sample: secret
"""

import shutil
import tempfile

from ansible_collections.hci.arc_ml.plugins.module_utils._arc import chart as _arc_chart
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import detect as _arc_detect
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import keys as _arc_keys
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import resource as _arc_resource
from ansible_collections.hci.arc_ml.plugins.module_utils._arc.cluster import (
    ARC_NAMESPACE,
    RELEASE_NAME,
    RELEASE_NAMESPACE,
    ArcCluster,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import AzureApiError, resource_path
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule

DEFAULT_WAIT_TIMEOUT = 1200
RESOURCE_GROUP_API_VERSION = "2022-09-01"
# The public key that a new key pair will have; only shown in check mode, where no key is generated.
NEW_PUBLIC_KEY = "(a new RSA-4096 public key)"


class ConnectedCluster:
    """One task: the Azure side, the cluster side (loaded when needed) and what was done."""

    def __init__(self, module):
        self.module = module
        params = module.params
        # First: every result, a failure's too, echoes the options back, a proxy URL's password included.
        self.proxy = _proxy_without_ca(params.get("proxy") or {})
        module.protect(self.proxy.secrets)
        _arc_resource.check_names(params["name"], params["resource_group"])
        self.name = params["name"]
        self.resource_group = params["resource_group"]
        self.force = params["force"]
        self.azure = module.azure()
        self.arm = self.azure.arm
        self.path = _arc_resource.cluster_path(self.azure.subscription_id, self.resource_group, self.name)
        self.requested = (self.azure.subscription_id, self.resource_group, self.name)
        self.desired = _arc_resource.Desired(
            location=params["location"],
            tags=params["tags"],
            distribution=params["distribution"],
            infrastructure=params["infrastructure"],
            agent_auto_upgrade=params["agent_auto_upgrade"],
        )
        self.chart_source = _arc_chart.parse_chart_ref(params["chart_ref"])
        self.actions = []
        self._cluster = None
        self._helm = None
        self._cluster_key = None
        self._cluster_key_read = False
        module.result.update(actions=self.actions, helm_release={}, connected_cluster={})

    # The cluster, met only when needed.

    @property
    def where(self):
        return self.module.kube().describe()

    def cluster(self):
        if self._cluster is None:
            cluster = ArcCluster(self.module.kube_client(), self.where)
            cluster.server_version()
            self._cluster = cluster
        return self._cluster

    def helm(self):
        if self._helm is None:
            self._helm = self.module.helm()
        return self._helm

    def arc_release(self):
        """The latest revision of release azure-arc in any namespace (helm list -a), or None.

        A release uninstalled with --keep-history is only history: it counts as none.
        """
        releases = [r for r in self.helm().list_releases(name=RELEASE_NAME) if r.get("status") != "uninstalled"]
        releases.sort(key=lambda r: r.get("namespace") != RELEASE_NAMESPACE)
        return releases[0] if releases else None

    def cluster_key(self):
        """The key in the cluster's key Secret (masked from here on), or None."""
        if not self._cluster_key_read:
            self._cluster_key = self.cluster().onboarding_key()
            self._cluster_key_read = True
            if self._cluster_key is not None:
                self.module.protect(self._cluster_key.secrets)
        return self._cluster_key

    def cluster_key_matches(self, resource):
        key = self.cluster_key()
        public = _arc_resource.properties_of(resource).get("agentPublicKeyCertificate")
        return key is not None and bool(public) and key.public_key_certificate == public

    def other_resource_exists(self, identity):
        """Whether the connected cluster the in-cluster ConfigMap names exists (any subscription we can see)."""
        path = _arc_resource.cluster_path(*identity)
        try:
            return self.arm.get_or_none(path, _arc_resource.API_VERSION) is not None
        except AzureApiError as exc:
            if exc.status == 403:
                # Not ours to see: it may well exist, so never treat it as stale.
                return True
            raise

    # Waiting.

    def waiter(self):
        """The task's waiter; when `wait` is false, one for the steps that must finish before the next."""
        return self.module.waiter(required=True)

    def remaining_seconds(self):
        return max(1, int(self.waiter().start().remaining()))

    # state=present

    def present(self):
        module = self.module
        self.read_proxy_ca()  # a wrong path fails here, before any write and in check mode too
        resource = self.arm.get_or_none(self.path, _arc_resource.API_VERSION)
        if _arc_resource.is_provisioned(resource):
            module.result.update(detected=_arc_detect.PLATFORM_MANAGED)
            module.result["connected_cluster"] = _arc_resource.summary(resource)
            module.set_diff(_arc_resource.diff_view(resource), _arc_resource.diff_view(resource))
            return
        release, plan = self.survey(resource)
        key = self.onboarding_key(plan)
        write = self.plan_write(resource, plan, key.public_key_certificate if key else NEW_PUBLIC_KEY)
        self.report(resource, plan, write)
        if not module.check_mode:
            self.carry_out(resource, release, plan, key, write)

    def survey(self, resource):
        """What the cluster holds, and the Plan for it (§6.1); fails here, before any write, when it must."""
        cluster = self.cluster()
        release = self.arc_release()
        config = cluster.cluster_config() if release else None
        observed = _arc_detect.Observed(
            self.requested,
            resource,
            release,
            config,
            self.where,
            other_resource_exists=self.other_resource_exists,
            cluster_key_matches=lambda: self.cluster_key_matches(resource),
            leftovers=cluster.leftovers,
        )
        plan = _arc_detect.detect(observed, force=self.force)
        self.module.result["detected"] = plan.situation
        self.module.result["helm_release"] = _release_summary(release)
        if plan.failure:
            raise ArcMLError(plan.failure, detected=plan.situation)
        return release, plan

    def onboarding_key(self, plan):
        """The key the agents will hold: the cluster's when it fits, a new one (not in check mode), or None."""
        if plan.key == _arc_detect.CLUSTER_KEY:
            return self.cluster_key()
        if plan.key == _arc_detect.NEW_KEY and not self.module.check_mode:
            key = _arc_keys.generate()
            self.module.protect(key.secrets)
            return key
        return None

    def report(self, resource, plan, write):
        """Diff, planned actions and the resource as it will be: what check mode returns, and a run's start."""
        module = self.module
        module.set_diff(_arc_resource.diff_view(resource), _arc_resource.diff_view(write["after"]))
        module.result["connected_cluster"] = _arc_resource.summary(write["after"])
        if plan.cleanup:
            self.actions.append(
                f"remove the stale Arc agents (helm release {RELEASE_NAME}, namespace {ARC_NAMESPACE}, Arc CRDs)"
            )
        self.actions.extend(write["actions"])
        if plan.install:
            self.actions.append(
                f"install the Arc agents (helm release {RELEASE_NAME} in namespace {RELEASE_NAMESPACE})"
            )
        module.set_changed(bool(self.actions))

    def carry_out(self, resource, release, plan, key, write):
        """Clean up, key Secret, ARM write, helm, then wait for Connected: in that order."""
        module = self.module
        if plan.cleanup:
            self.remove_agents(release)
        if plan.install and (plan.key == _arc_detect.NEW_KEY or plan.cleanup):
            # Before the ARM resource exists: should this run stop half-way, the key in the cluster is what proves
            # that the resource is this cluster's. A fresh namespace cannot hold one yet.
            fresh = plan.cleanup or plan.situation == _arc_detect.NOT_ONBOARDED
            self.cluster().store_onboarding_key(key, replace=not fresh)
        resource = self.write_resource(write, wait_for_it=plan.install) or resource
        if plan.install:
            module.result["helm_release"] = self.install_agents(resource, key)
        resource = self.wait_connected(resource)
        module.result["connected_cluster"] = _arc_resource.summary(resource)

    def plan_write(self, resource, plan, public_key):
        """The ARM write (PUT, re-PUT, PATCH or none), the resource after it, and the action lines."""
        if resource is None:
            location = self.desired.location or self.resource_group_location()
            body = _arc_resource.new_body(self.desired, location, public_key)
            arm_id = self.path
            after = dict(body, id=arm_id, name=self.name)
            return {"put": body, "patch": None, "after": after, "actions": [f"create connected cluster {self.name}"]}
        update = _arc_resource.plan_update(
            resource, self.desired, public_key if plan.key == _arc_detect.NEW_KEY else None
        )
        actions = []
        if update.put is not None:
            actions.append(f"replace connected cluster {self.name} ({', '.join(update.changes)})")
        elif update.patch is not None:
            actions.append(f"update connected cluster {self.name} ({', '.join(update.changes)})")
        return {"put": update.put, "patch": update.patch, "after": update.after, "actions": actions}

    def resource_group_location(self):
        group = self.arm.get(
            resource_path("subscriptions", self.azure.subscription_id, "resourcegroups", self.resource_group),
            RESOURCE_GROUP_API_VERSION,
        )
        location = (group or {}).get("location")
        if not location:
            raise ArcMLError(f"Resource group {self.resource_group} has no location; set the location option.")
        return location

    def write_resource(self, write, wait_for_it):
        """Send the planned write; the resource Azure returns (after its operation when waiting)."""
        waiter = self.waiter() if wait_for_it else self.module.waiter()
        if write["put"] is not None:
            return self.arm.put(self.path, _arc_resource.API_VERSION, write["put"], waiter=waiter)
        if write["patch"] is not None:
            return self.arm.patch(self.path, _arc_resource.API_VERSION, write["patch"], waiter=waiter)
        return None

    def install_agents(self, resource, key):
        """Data plane settings, the chart, `helm upgrade --install`; the release summary."""
        from ansible_collections.hci.arc_ml.plugins.module_utils._arc import dataplane as _arc_dataplane
        from ansible_collections.hci.arc_ml.plugins.module_utils._arc import values as _arc_values

        params = self.module.params
        cloud = self.azure.cloud
        location = resource.get("location") or self.desired.location
        client = self.azure.client(cloud.arc_config_endpoint_for(location), audience=cloud.management_audience)
        dataplane = _arc_dataplane.ConfigDataPlane(client)
        dataplane.health_check()
        settings = dataplane.helm_settings(resource)

        scratch = tempfile.mkdtemp(prefix="hci-arc-ml-chart-")  # 0700
        try:
            source = self.chart_source
            if source is not None and source.path:
                chart_path, registry = source.path, settings.chart.registry
            else:
                source = source or _arc_chart.ChartSource(oci_url=settings.chart.oci_url)
                version = source.version or settings.chart.version
                chart_path = _arc_chart.pull(self.helm(), source, version, scratch, ca_file=self.azure.ca_bundle)
                registry = source.oci_url[len("oci://") :].split("/", 1)[0]
            chart_version = str(_arc_chart.chart_metadata(chart_path)["version"])
            key_in_values = _arc_chart.key_in_values(chart_version)
            current = _arc_resource.properties_of(resource)
            values = _arc_values.agent_values(
                settings.values,
                distribution=current.get("distribution") or params["distribution"],
                infrastructure=current.get("infrastructure") or params["infrastructure"],
                cloud_name=cloud.name,
                private_key_pem=key.private_key_pem if key_in_values else None,
                proxy=self.proxy,
                cloud_overrides=self.cloud_overrides(resource, location, registry),
            )
            waiting = self.module.waiter() is not None
            released = self.helm().upgrade_install(
                RELEASE_NAME,
                chart_path,
                RELEASE_NAMESPACE,
                values=values,
                wait=waiting,
                timeout=self.remaining_seconds(),
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        # upgrade_install returns helm's release description without the values.
        released = dict(released or {})
        summary = _release_summary(
            {
                "name": released.get("name") or RELEASE_NAME,
                "namespace": released.get("namespace") or RELEASE_NAMESPACE,
                "status": released.get("status"),
                "revision": released.get("revision"),
            }
        )
        summary.update(
            chart_version=released.get("chart_version") or chart_version,
            private_key_delivery="secret_and_value" if key_in_values else "secret",
        )
        return summary

    def read_proxy_ca(self):
        path = (self.module.params.get("proxy") or {}).get("ca_cert")
        if not path:
            return
        try:
            with open(path, encoding="utf-8") as handle:
                self.proxy.ca_cert = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise ArcMLError(f"Cannot read proxy.ca_cert {path}: {exc}.") from None

    def cloud_overrides(self, resource, location, registry):
        """The endpoint values a cloud with its own Arc config endpoint needs (from the metadata read at login)."""
        metadata = self.azure.cloud.metadata  # None for a known cloud
        if not metadata:
            return {}
        from ansible_collections.hci.arc_ml.plugins.module_utils._arc.values import custom_cloud_values

        return custom_cloud_values(metadata, resource, _arc_resource.location_key(location), registry)

    def wait_connected(self, resource):
        waiter = self.module.waiter()
        if waiter is None or _arc_resource.is_connected(resource):
            return resource

        def poll():
            answer = self.arm.request("GET", self.path, _arc_resource.API_VERSION)
            return answer.body or {}, answer.retry_after

        return waiter.poll_until(
            poll,
            done=_arc_resource.is_connected,
            what=(
                f"connected cluster {self.name} to report connectivityStatus Connected (the agents in namespace "
                f"{ARC_NAMESPACE} must reach Azure: kubectl get pods -n {ARC_NAMESPACE})"
            ),
            describe=lambda body: _arc_resource.properties_of(body).get("connectivityStatus") or "unknown",
            first=(resource, None),
        )

    def remove_agents(self, release):
        """Remove stale agents before onboarding again: release (no hooks), Arc CRDs, namespace azure-arc.

        Waits until they are gone (within the deadline): the chart creates them again.
        """
        cluster = self.cluster()
        if release is not None:
            self.helm().uninstall(
                release["name"], release["namespace"], no_hooks=True, wait=False, timeout=self.remaining_seconds()
            )
        cluster.delete_arc_crds()
        cluster.delete_namespace(ARC_NAMESPACE)
        cluster.wait_removed([ARC_NAMESPACE], self.waiter())

    # state=absent

    def absent(self):
        module = self.module
        resource = self.arm.get_or_none(self.path, _arc_resource.API_VERSION)
        if _arc_resource.is_provisioned(resource):
            raise ArcMLError(
                f"Connected cluster {self.name} in resource group {self.resource_group} is an AKS cluster enabled by "
                "Azure Arc (kind ProvisionedCluster), which the platform manages: it is not disconnected here. "
                "Delete it with az aksarc delete or the Azure portal."
            )
        cluster = None
        try:
            cluster = self.cluster()
        except ArcMLError as exc:
            if not (self.force and resource is not None):
                raise
            module.warn(f"The cluster cannot be reached, so only the Azure resource is deleted: {exc.message}")
        release = self.arc_release() if cluster is not None else None
        agents_are_ours = False
        if release is not None:
            config = cluster.cluster_config()
            identity = _arc_detect.config_identity(config) if config is not None else None
            if identity == tuple(part.lower() for part in self.requested) or self.force:
                agents_are_ours = True
            elif resource is not None:
                configured = "an unknown resource (ConfigMap azure-arc/azure-clusterconfig is missing)"
                if config is not None:
                    configured = "connected cluster '{}' in resource group '{}'".format(
                        config.get("AZURE_RESOURCE_NAME"), config.get("AZURE_RESOURCE_GROUP")
                    )
                raise ArcMLError(
                    f"The cluster at {self.where} is connected as {configured}, not as '{self.name}' in "
                    f"'{self.resource_group}': nothing was deleted. Check kubeconfig and context, or set force: true "
                    "to delete the resource and remove these agents anyway."
                )
        elif cluster is not None and resource is not None and self.cluster_key_matches(resource):
            # An onboarding that stopped before helm: the key Secret is this resource's.
            agents_are_ours = True

        module.set_diff(_arc_resource.diff_view(resource), {})
        if resource is not None:
            self.actions.append(f"delete connected cluster {self.name}")
        if agents_are_ours:
            self.actions.append(
                f"remove the Arc agents (helm release {RELEASE_NAME}, namespaces {ARC_NAMESPACE} and "
                f"{RELEASE_NAMESPACE}, Arc CRDs)"
            )
        module.result["helm_release"] = _release_summary(release)
        module.set_changed(bool(self.actions))
        if module.check_mode:
            return

        waiter = module.waiter()
        if resource is not None:
            path = self.path + ("?force=true" if self.force else "")
            self.arm.delete(path, _arc_resource.API_VERSION, waiter=waiter)
        if agents_are_ours:
            if release is not None:
                self.helm().uninstall(
                    release["name"],
                    release["namespace"],
                    no_hooks=self.force,
                    wait=False,
                    timeout=self.remaining_seconds(),
                )
            cluster.delete_arc_crds()
            namespaces = [ARC_NAMESPACE, RELEASE_NAMESPACE]
            if release is not None and release["namespace"] not in [*namespaces, "default"]:
                namespaces.append(release["namespace"])
            for namespace in namespaces:
                cluster.delete_namespace(namespace)
            if waiter is not None:
                cluster.wait_removed(namespaces, waiter)
        module.result["helm_release"] = {}


def _proxy_without_ca(options):
    from ansible_collections.hci.arc_ml.plugins.module_utils._arc.values import Proxy

    return Proxy(options.get("https_proxy"), options.get("http_proxy"), options.get("no_proxy"))


def _release_summary(release):
    if not release:
        return {}
    return {
        "name": release.get("name"),
        "namespace": release.get("namespace"),
        "status": release.get("status"),
        "revision": _int_or_none(release.get("revision")),
    }


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def run(module):
    task = ConnectedCluster(module)
    if module.params["state"] == "present":
        task.present()
    else:
        task.absent()


def main():
    module = ArcMLModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            resource_group=dict(type="str", required=True),
            location=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            distribution=dict(type="str", default="aks_workload"),
            infrastructure=dict(type="str", default="azure_stack_hci"),
            tags=dict(type="dict"),
            agent_auto_upgrade=dict(type="bool"),
            proxy=dict(
                type="dict",
                options=dict(
                    https_proxy=dict(type="str"),
                    http_proxy=dict(type="str"),
                    no_proxy=dict(type="list", elements="str"),
                    ca_cert=dict(type="path"),
                ),
            ),
            chart_ref=dict(type="str"),
            force=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=DEFAULT_WAIT_TIMEOUT),
        ),
        azure=True,
        kube=True,
        wait=True,
    )
    module.run(run)


if __name__ == "__main__":
    main()
