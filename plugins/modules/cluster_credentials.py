#!/usr/bin/python
# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_credentials
short_description: Fetch a cluster's kubeconfig from Azure
version_added: 0.1.0
description:
  - Asks Azure for the kubeconfig of an Azure Arc connected cluster, so that a fleet needs no kubeconfig files on
    the controller. Returns the kubeconfig as text, for the O(hci.arc_ml.node_taint#module:kubeconfig) option of
    the collection's Kubernetes modules or for a file, and what it says that is not secret.
  - The result holds credentials. The module refuses to run unless the task sets C(no_log) to V(true), so that they
    can never reach a log by omission. With C(no_log), Ansible hides the whole result, failures included;
    register the result and show its C(msg) (one line, free of secrets) in a later task.
  - Reads only; it runs in check mode as well, so that later tasks in check mode can reach the cluster.
author:
  - hci.arc_ml maintainers (!UNKNOWN)
options:
  cluster_name:
    description:
      - The name of the connected cluster (C(Microsoft.Kubernetes/connectedClusters)).
    type: str
    required: true
  resource_group:
    description:
      - The resource group of the connected cluster.
    type: str
    required: true
  kind:
    description:
      - Which kubeconfig to fetch.
      - V(cluster_connect) (C(listClusterUserCredential) on the connected cluster, Microsoft Entra ID
        authentication) works for every connected cluster with the cluster connect agent (which
        M(hci.arc_ml.connected_cluster) installs). The caller needs the
        C(Microsoft.Kubernetes/connectedClusters/listClusterUserCredential/action) permission (Contributor, or the
        Azure Arc Enabled Kubernetes Cluster User Role) and, on the cluster, a ClusterRoleBinding for its Entra
        identity. See the notes for what the kubeconfig points at.
      - V(admin) (C(listAdminKubeconfig) on the AKS Arc provisioned cluster instance) is the certificate-based
        administrator kubeconfig of an AKS cluster enabled by Azure Arc; its server is the cluster's own API
        server, reachable only from the cluster's network.
      - V(user) (C(listUserKubeconfig) on the AKS Arc provisioned cluster instance) is the Microsoft Entra ID
        kubeconfig of an AKS Arc cluster; it runs C(kubelogin) as a credential plugin, which must be installed
        on the host that uses it.
    type: str
    choices: [admin, user, cluster_connect]
    default: cluster_connect
  wait_timeout:
    description:
      - How many seconds to wait for Azure to hand out the kubeconfig of an AKS Arc cluster, a long-running
        operation. V(0) fails at the first wait.
    type: int
    default: 600
  wait_sleep:
    description:
      - The longest pause, in seconds, between two polls of that operation; a longer Retry-After from Azure wins.
    type: int
    default: 5
extends_documentation_fragment:
  - hci.arc_ml.azure_auth
  - hci.arc_ml.attributes
  - hci.arc_ml.attributes.ACTIONGROUP_AZURE
  - hci.arc_ml.attributes.INFO_MODULE
notes:
  - With V(cluster_connect), real Azure answers C(clientProxy=false) requests with a kubeconfig whose token is
    for the cluster connect service; C(az connectedk8s proxy) instead asks with C(clientProxy=true) and runs a
    local proxy over Azure Relay. The collection's sandbox answers with a kubeconfig whose server is a proxy in
    front of the site's API server, authenticated with a Microsoft Entra ID token that expires (RV(expires_on)).
    docs/fidelity.md says exactly where the sandbox differs from Azure.
  - A kubeconfig whose token has expired is refused by the cluster (HTTP 401); run this module again for a fresh one.
seealso:
  - module: hci.arc_ml.connected_cluster_info
  - module: hci.arc_ml.cluster_preflight
"""

EXAMPLES = r"""
- name: Fetch the kubeconfig of a site through Azure (cluster connect)
  hci.arc_ml.cluster_credentials:
    cluster_name: hci-site-07
    resource_group: rg-hci-clusters
  no_log: true
  register: site_access

- name: Use it with the collection's Kubernetes modules
  hci.arc_ml.cluster_preflight:
    kubeconfig: "{{ site_access.kubeconfig }}"

- name: The administrator kubeconfig of an AKS Arc cluster, from inside the cluster's network
  hci.arc_ml.cluster_credentials:
    cluster_name: aks-arc-01
    resource_group: rg-hci-clusters
    kind: admin
  no_log: true
  register: admin_access

- name: Show why it failed (no_log hides the failure; its msg holds no secret)
  ansible.builtin.debug:
    msg: "{{ admin_access.msg }}"
  when: admin_access is failed
"""

RETURN = r"""
kubeconfig:
  description:
    - The kubeconfig, as YAML text. It holds credentials (a token, or a client key).
  returned: success
  type: str
  sample: "apiVersion: v1\nkind: Config\n..."
kind:
  description: The kind of kubeconfig fetched (O(kind)).
  returned: success
  type: str
  sample: cluster_connect
server:
  description: The API server URL of the kubeconfig's current context.
  returned: success
  type: str
  sample: https://10.0.0.10:6443
context:
  description: The name of the kubeconfig's current context.
  returned: success
  type: str
  sample: hci-site-07
auth:
  description: How the kubeconfig's user authenticates.
  returned: success
  type: str
  choices: [token, client_certificate, exec, none]
  sample: token
exec_command:
  description: The credential plugin the kubeconfig runs (V(kubelogin) for O(kind=user)), else null.
  returned: success
  type: str
  sample: kubelogin
expires_on:
  description: When the kubeconfig's token expires (ISO 8601, UTC); null when it carries no token with an expiry.
  returned: success
  type: str
  sample: "2026-05-04T11:12:03Z"
cluster_id:
  description: The ARM resource ID of the connected cluster.
  returned: success
  type: str
  sample: /subscriptions/<subscription>/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/c1
"""

from ansible_collections.hci.arc_ml.plugins.module_utils._cluster_access.client import CLUSTER_CONNECT, KINDS
from ansible_collections.hci.arc_ml.plugins.module_utils._cluster_access.tasks import read_cluster_credentials
from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.module_utils._common.wait import DEFAULT_WAIT_SLEEP, DEFAULT_WAIT_TIMEOUT


def argument_spec():
    return dict(
        cluster_name=dict(type="str", required=True),
        resource_group=dict(type="str", required=True),
        kind=dict(type="str", default=CLUSTER_CONNECT, choices=list(KINDS)),
        wait_timeout=dict(type="int", default=DEFAULT_WAIT_TIMEOUT),
        wait_sleep=dict(type="int", default=DEFAULT_WAIT_SLEEP),
    )


def main():
    ArcMLModule(argument_spec(), azure=True).run(read_cluster_credentials)


if __name__ == "__main__":
    main()
