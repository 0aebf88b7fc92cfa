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
    reports it and changes nothing and never runs helm on it. With O(state=absent) it skips the cluster
    (C(changed=false), a warning and C(msg) saying AKS Arc owns it) where C(az connectedk8s delete) refuses it, so a
    teardown still removes the rest; C(az aksarc delete) deletes such a cluster.
  - O(state=absent) deletes the Azure resource first, then uninstalls the agents, then waits for the namespaces
    C(azure-arc) and C(azure-arc-release) to go. Like C(az connectedk8s delete), it removes the Arc CRDs only with
    O(force=true); without it they stay in the cluster.
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
      - Tags of the Azure resource, as name-value pairs.
      - Added to the tags the resource has, or updating them, unless O(append_tags=false); tags that Azure Policy
        or people added stay. When not set, the tags of an existing resource are left as they are.
      - Names are compared without case, as Azure does (C(Env) updates an existing C(env), which keeps its
        spelling); values with case. Two names that differ only in case fail the task.
      - A change is a PATCH carrying the whole resulting set, or part of a re-PUT when another change needs one.
    type: dict
  append_tags:
    description:
      - With V(true), O(tags) are merged into the existing tags and nothing is removed (O(tags={}) changes
        nothing).
      - With V(false), O(tags) is the complete set - tags not listed are removed (O(tags={}) removes them all).
    type: bool
    default: true
  agent_auto_upgrade:
    description:
      - Whether Azure upgrades the Arc agents automatically (C(properties.arcAgentProfile.agentAutoUpgrade)).
      - When not set, an existing resource keeps its setting and a new one gets Azure's default (enabled).
      - On a connected cluster a change is applied as C(az connectedk8s update --auto-upgrade) applies it - a
        re-PUT of the resource that keeps the public key (PATCH cannot change it), then C(helm upgrade) of release
        C(azure-arc) with the values the release already has (C(helm get values)) plus the Arc configuration
        service's settings, which carry C(systemDefaultValues.azureArcAgents.autoUpdate).
    type: bool
  proxy:
    description:
      - The outbound proxy the agents use to reach Azure, as the chart's C(global.httpsProxy),
        C(global.httpProxy), C(global.noProxy) (comma-separated), C(global.proxyCert) and C(global.isCustomCert)
        values; C(global.isProxyEnabled) is set exactly when one of O(proxy.https_proxy), O(proxy.http_proxy),
        O(proxy.no_proxy) is given, as C(az connectedk8s) sets it.
      - Applied when the agents are installed. On a connected cluster the options given are compared with the
        release's values (C(helm get values azure-arc)); a difference is applied as C(az connectedk8s update
        --proxy-https ...) applies it - a re-PUT that records feature C(proxy) in
        C(properties.arcAgentryConfigurations) (no secrets go to Azure), then C(helm upgrade) of C(azure-arc)
        with the release's own values plus the changed ones. Options left out are left as the release has them.
      - A password in a proxy URL is masked in all output, C(--diff) included.
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
  helm_binary:
    description:
      - Path of the helm binary that installs and removes the Arc agents; by default the C(helm) found on E(PATH).
      - Helm 3.8 or later is required (the agent chart is pulled from an OCI registry). Helm 4, a binary that is not
        helm, or an older helm is refused, naming what to install, before anything is written.
      - Helm gets the task's resolved cluster connection as its own kubeconfig file (never E(KUBECONFIG), a context
        flag or E(HELM_DRIVER) from the environment), so it always reaches the cluster the Kubernetes client reaches.
    type: path
  force:
    description:
      - With O(state=present), onboard even when the situation is unclear - an Azure resource O(name) exists but
        nothing in the cluster proves it is this cluster's (the resource gets a new agent key, which disconnects any
        other cluster connected as it); a helm release C(azure-arc) without its ConfigMap, or one whose helm
        operation was interrupted (it is cleaned up and the agents installed again); Arc agents or leftovers whose
        ConfigMap names another Azure resource that no longer exists (without O(force), nothing that is not
        provably this resource's is removed).
      - With O(state=absent), remove the agents even if the cluster is connected as another resource, skip the
        agents' helm hooks, remove the Arc CRDs, and delete the Azure resource even if the cluster cannot be
        reached.
      - A cluster connected as a different, existing Azure resource is never moved; disconnect it from that
        resource first.
    type: bool
    default: false
  wait_timeout:
    description:
      - How many seconds this task may spend waiting, in total, measured on a monotonic clock.
      - On timeout the task fails with the last state it observed; the operation itself may still complete.
      - Longer by default than for the other modules of this collection, because installing the Arc agents and
        waiting until the cluster reports C(Connected) often takes more than ten minutes.
    type: int
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
  - helm 3.8 or later on the controller's PATH (or in the execution environment), or at O(helm_binary)
  - cryptography >= 42.0.0
  - PyYAML
notes:
  - >-
    The onboarding private key never leaves the module process except into the cluster, and is never on a
    command line, in a log, a result or a diff. Before the Azure resource is created, it is written with the
    Kubernetes API into the Secret C(azure-arc/azure-arc-connect-privatekey), the Secret the agents read, in
    namespace C(azure-arc); both carry helm's ownership label and annotations, so that the agent chart adopts them.
    Should a run stop after the Azure resource is created and before helm, that Secret proves the resource is
    this cluster's and the next run finishes the onboarding without O(force). For every agent chart version the
    key is also passed to helm as the value C(global.onboardingPrivateKey), as C(az connectedk8s connect) and
    C(New-AzConnectedKubernetes) pass it, from which the chart renders that Secret; it goes in a values file
    readable only by the controller's user (0600) that is removed right after, and ends up in the release records
    helm keeps of every revision (C(helm get values)).
  - >-
    What it finds, and what it does. Onboarded as O(name) (ConfigMap C(azure-arc/azure-clusterconfig) names
    subscription, resource group and name) and the resource exists - update what differs (helm only for a proxy or
    auto-upgrade change). A release that is not C(deployed), or agents whose key no longer matches the Azure
    resource while not connected - reinstall them. Onboarded as another resource that exists - fail, naming it.
    Agents whose Azure resource is gone - remove them (CRDs, release, namespace) and onboard. Resource O(name)
    exists but no agents - continue an onboarding that this cluster's key Secret proves was interrupted
    (V(unfinished_onboarding), no O(force) needed), else fail unless O(force). No resource and no agents, but the
    key Secret - an onboarding that stopped, or is running in another task, between storing its key and creating the
    resource: carry it on with that key (V(unfinished_onboarding)), never cleaning up under it. Nothing - onboard.
  - >-
    Two tasks onboarding one cluster at once (two overlapping runs) never remove each other's work: the second one
    carries on with the first one's key, or stops with one line when it finds the agents' helm release busy or
    the key Secret written under it. While waiting for C(Connected), the task stops as soon as namespace
    C(azure-arc) is deleted (the agents will not connect) instead of waiting out O(wait_timeout).
  - >-
    Proxy settings are not sent to Azure; they go to the agents as the chart's C(global.httpsProxy),
    C(global.httpProxy), C(global.noProxy) and C(global.proxyCert) values. Azure only records that feature
    C(proxy) is configured (C(arcAgentryConfigurations), without settings), as C(az connectedk8s update) does.
  - >-
    A change that only a PUT can make (O(agent_auto_upgrade), O(infrastructure), a proxy change, a new key) is
    refused, before anything is written, when the resource holds protected settings in
    C(arcAgentryConfigurations) (set by another tool): Azure does not return their values, so a PUT would erase
    them. Tags and distribution are changed with PATCH, which leaves them alone.
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

- name: Make these the only tags of the resource, removing any other
  hci.arc_ml.connected_cluster:
    name: hci-site-07
    resource_group: rg-hci-clusters
    tags:
      site: hci-site-07
      cost_center: "4711"
    append_tags: false

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
  description: What the task did, or in check mode would do, in order; empty when nothing needed doing.
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
        - How this task handed the onboarding key to the agents - always V(secret_and_value) - the Kubernetes
          Secret C(azure-arc/azure-arc-connect-privatekey) (written before the Azure resource for a new key, and
          rendered by the chart) and the helm value C(global.onboardingPrivateKey), for every chart version.
      type: str
      sample: secret_and_value
"""

from ansible_collections.hci.arc_ml.plugins.module_utils._arc.tasks import CONNECT_WAIT_TIMEOUT, connect_cluster
from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule


def argument_spec():
    return dict(
        name=dict(type="str", required=True),
        resource_group=dict(type="str", required=True),
        location=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        distribution=dict(type="str", default="aks_workload"),
        infrastructure=dict(type="str", default="azure_stack_hci"),
        tags=dict(type="dict"),
        append_tags=dict(type="bool", default=True),
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
        helm_binary=dict(type="path"),
        force=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=CONNECT_WAIT_TIMEOUT),
    )


def main():
    ArcMLModule(argument_spec(), azure=True, kube=True, wait=True, mutating=True).run(connect_cluster)


if __name__ == "__main__":
    main()
