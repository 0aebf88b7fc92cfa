#!/usr/bin/python
# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ml_compute
short_description: Attach a Kubernetes cluster to an Azure Machine Learning workspace as a compute target, or detach it
version_added: 0.1.0
description:
  - Attaches an Azure Arc-enabled Kubernetes cluster (or an AKS cluster) to an Azure Machine Learning workspace as a
    Kubernetes compute target, as C(KubernetesCompute.attach) of the retired azureml-core SDK or
    C(az ml compute attach --type Kubernetes) do, and waits until provisioning has finished.
  - The cluster must have the Azure Machine Learning extension (C(Microsoft.AzureML.Kubernetes)) installed and
    C(Succeeded) first, see M(hci.arc_ml.azureml_extension). Without it the attach fails with the service's error and
    the command that installs it.
  - Azure cannot update an attached Kubernetes compute in place (an update "appears to succeed but does not"). When
    the attached compute differs from the options (drift), the task reports the difference in RV(drift) and in a
    warning, changes nothing, and re-attaches it (detach, then attach) only with O(force_reattach=true).
  - O(state=absent) detaches the compute (C(underlyingResourceAction=Detach)); the cluster, its Azure Arc connection
    and its Azure ML extension stay as they are. Nothing is ever deleted. When the task names the cluster, only a
    compute attached to that cluster is detached.
  - Without O(name), the compute is named after the cluster, unique per cluster and the same on every run (see
    O(name)). The compute name is checked before any request is sent.
author:
  - hci.arc_ml maintainers (!UNKNOWN)
options:
  name:
    description:
      - The name of the compute target in the workspace, for example V(arccompute).
      - 3 to 16 characters; letters, digits and V(-); a letter first, a letter or digit last; not ending with V(-)
        followed only by digits. The Azure ML service accepts 2 to 16 characters, and its API from version 2026-03-01
        on rejects a trailing V(-<digits>); a name that follows this rule works with both.
      - Not set means the cluster's default compute name, so the cluster options are needed, also with
        O(state=absent). It is up to 7 characters of the cluster name, V(-), and 8 characters hashed from the
        cluster's full resource ID (lower-cased), for example V(contoso-hrwnh67r) for cluster C(contoso-store-0001).
        Clusters whose names start alike get different names (two of 500 clusters share one with a chance of about
        1 in 7 million), and a cluster gets the same name on every run.
      - Not set, and no compute has the default name, a Kubernetes compute attached to this cluster under its legacy
        name is used instead, with a warning, so a cluster attached that way is never attached a second time. The
        legacy name is what the C(hci.arc_ml.compute_attach) role used to derive, the first 16 characters of the
        cluster name without trailing V(-) and with a final V(-<digits>) joined (V(site-001) became V(site001)). A
        legacy-named compute of another cluster is left alone.
      - A compute found under a name the task did not set is never taken from another cluster, even with
        O(force_reattach=true); the task fails instead and changes nothing.
    type: str
  cluster_name:
    description:
      - The name of the Azure Arc-enabled Kubernetes cluster (C(Microsoft.Kubernetes/connectedClusters)) to attach,
        in the workspace's subscription. Requires O(cluster_resource_group).
      - Required with O(state=present), unless O(cluster_resource_id) is set.
      - With O(state=absent), the cluster options name the cluster whose compute is detached; a compute attached to
        another cluster is not detached (the task fails, naming that cluster, and changes nothing). With O(name) and
        no cluster options, the compute is detached from whichever cluster it is attached to.
    type: str
  cluster_resource_group:
    description:
      - The resource group of the cluster named O(cluster_name) (O(resource_group) is the workspace's).
    type: str
  cluster_resource_id:
    description:
      - The full resource ID of the cluster, instead of O(cluster_name) and O(cluster_resource_group), for example
        C(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Kubernetes/connectedClusters/<name>), or an
        AKS cluster's C(.../providers/Microsoft.ContainerService/managedClusters/<name>).
      - The cluster must be in the workspace's subscription; Azure Machine Learning does not attach clusters across
        subscriptions.
    type: str
  namespace:
    description:
      - The Kubernetes namespace that the workspace's jobs and deployments run in.
      - Azure does not create or check it; it must exist in the cluster before workloads are submitted.
    type: str
    default: default
  default_instance_type:
    description:
      - The instance type that workloads use when they name none.
      - Not set means not managed; Azure ML then uses C(defaultinstancetype).
    type: str
  instance_types:
    description:
      - Instance types recorded on the compute (its C(properties.instanceTypes)).
      - Not set means not managed. To define instance types in the cluster itself, use M(hci.arc_ml.instance_type).
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - The instance type's name, a Kubernetes object name.
        type: str
        required: true
      node_selector:
        description:
          - Node labels that the instance type's pods must run on, as a map of label key to value.
        type: dict
      requests:
        description:
          - The resources every pod of the instance type requests.
        type: dict
        required: true
        suboptions:
          cpu:
            description:
              - CPU, a non-zero Kubernetes quantity such as V(500m) or V(2).
            type: raw
            required: true
          memory:
            description:
              - Memory, a non-zero Kubernetes quantity such as V(1500Mi) or V(4Gi).
            type: raw
            required: true
      limits:
        description:
          - The most resources a pod of the instance type may use; each at least its request.
        type: dict
        required: true
        suboptions:
          cpu:
            description:
              - CPU, a non-zero Kubernetes quantity.
            type: raw
            required: true
          memory:
            description:
              - Memory, a non-zero Kubernetes quantity.
            type: raw
            required: true
          gpu:
            description:
              - The number of NVIDIA GPUs (C(nvidia.com/gpu)). GPUs are only ever limits.
            type: int
  identity:
    description:
      - The managed identity of the compute, which its jobs use to reach storage and container registries.
      - A Kubernetes compute takes either a system-assigned identity or user-assigned identities, not both.
      - Not set means not managed; no identity is sent on attach.
    type: dict
    suboptions:
      type:
        description:
          - V(SystemAssigned) or V(UserAssigned).
        type: str
        required: true
        choices: [SystemAssigned, UserAssigned]
      user_assigned_identities:
        description:
          - Resource IDs of user-assigned managed identities, with O(identity.type=UserAssigned).
          - Azure ML uses only the first one when it attaches the cluster.
        type: list
        elements: str
  description:
    description:
      - A description of the compute target. Not set means not managed.
    type: str
  state:
    description:
      - V(present) attaches the cluster as the compute target.
      - V(absent) detaches it from the workspace, leaving the cluster and its Azure ML extension in place.
    type: str
    choices: [present, absent]
    default: present
  force_reattach:
    description:
      - When the attached compute differs from the options (see RV(drift)), detach it and attach it again with the
        options, under the same name. Jobs running on the compute while it is detached fail.
      - The detach is always waited for, even with O(wait=false), because the attach cannot start before it ends.
      - The tags of the detached compute (for example added by Azure Policy) are given to the new one.
    type: bool
    default: false
extends_documentation_fragment:
  - hci.arc_ml.ml_workspace
  - hci.arc_ml.azure_auth
  - hci.arc_ml.wait
  - hci.arc_ml.attributes
  - hci.arc_ml.attributes.MUTATING_MODULE
  - hci.arc_ml.attributes.ACTIONGROUP_AZURE
notes:
  - With O(workspace_config), a warning says so when O(subscription_id) names another subscription than the file.
  - >-
    Compared for drift: the cluster (resource IDs compare case-insensitively), the namespace, and, when set, the
    description, the identity type and user-assigned identities, the default instance type and the instance types
    (quantities by value, so V(1) equals V(1000m)). A compute whose provisioning ended C(Failed) drifts too.
  - >-
    Uses the Azure Machine Learning REST API, version 2025-12-01, directly; azureml-core and the Azure ML CLI are not
    needed.
seealso:
  - module: hci.arc_ml.ml_compute_info
  - module: hci.arc_ml.instance_type
  - module: hci.arc_ml.azureml_extension
  - name: Attach a Kubernetes cluster to an Azure Machine Learning workspace
    description: Prerequisites, identities and namespaces of Kubernetes compute targets.
    link: https://learn.microsoft.com/azure/machine-learning/how-to-attach-kubernetes-to-workspace
"""

EXAMPLES = r"""
- name: Attach the site's Arc cluster to the workspace (what the azureml-core snippet did)
  hci.arc_ml.ml_compute:
    name: arccompute
    workspace_name: mlw-prod
    resource_group: rg-ml
    cluster_name: "{{ inventory_hostname }}"
    cluster_resource_group: "{{ arc_resource_group }}"

- name: Attach each site under its cluster's default compute name, unique across the fleet
  hci.arc_ml.ml_compute:
    workspace_name: mlw-prod
    resource_group: rg-ml
    cluster_name: "{{ inventory_hostname }}"
    cluster_resource_group: "{{ arc_resource_group }}"
  register: site_compute

- name: Attach using the workspace's config.json, into a namespace, with a system-assigned identity
  hci.arc_ml.ml_compute:
    name: "hci-{{ site_code }}"
    workspace_config: "{{ playbook_dir }}/config.json"
    cluster_resource_id: "{{ arc_cluster_id }}"
    namespace: azureml-workloads
    identity:
      type: SystemAssigned
    default_instance_type: cpu-small
    instance_types:
      - name: cpu-small
        requests: {cpu: 500m, memory: 1Gi}
        limits: {cpu: "1", memory: 2Gi}

- name: Re-attach when the attached compute has drifted from these options
  hci.arc_ml.ml_compute:
    name: arccompute
    workspace_name: mlw-prod
    resource_group: rg-ml
    cluster_name: "{{ inventory_hostname }}"
    cluster_resource_group: "{{ arc_resource_group }}"
    namespace: azureml-workloads
    force_reattach: true

- name: Detach the compute (the cluster and its Azure ML extension stay)
  hci.arc_ml.ml_compute:
    name: arccompute
    workspace_name: mlw-prod
    resource_group: rg-ml
    state: absent

- name: Detach this site's compute, only if it is attached to this site's cluster
  hci.arc_ml.ml_compute:
    workspace_name: mlw-prod
    resource_group: rg-ml
    cluster_name: "{{ inventory_hostname }}"
    cluster_resource_group: "{{ arc_resource_group }}"
    state: absent
"""

RETURN = r"""
actions:
  description: What the task did, or in check mode would do, in order; empty when nothing needed doing.
  returned: always
  type: list
  elements: str
  sample:
    - detach compute arccompute
    - attach compute arccompute to workspace mlw-prod
name:
  description:
    - The compute name the task used, given or derived (see RV(name_source)).
  returned: success
  type: str
  sample: contoso-hrwnh67r
name_source:
  description:
    - Where RV(name) came from. V(option) is O(name). V(default) is the cluster's default compute name. V(legacy) is
      the name of a compute attached to this cluster under its legacy name, kept (a warning says so).
  returned: success
  type: str
  choices: [option, default, legacy]
  sample: default
msg:
  description:
    - What the task did.
    - After an attach that was waited for, it ends as azureml-core's C(wait_for_completion) did with
      C(show_output=True).
  returned: always
  type: str
  sample: 'Attached compute arccompute to workspace mlw-prod: Provisioning operation finished, operation "Succeeded"'
compute:
  description:
    - The compute as Azure reports it after the task, without the service's connection strings.
    - In check mode, the compute as it was (null if it did not exist). Null after a detach.
  returned: always
  type: dict
  contains:
    id:
      description: The compute's resource ID.
      type: str
      returned: success
    name:
      description: The compute's name.
      type: str
      returned: success
    location:
      description: The compute's Azure region.
      type: str
      returned: success
    compute_type:
      description: C(Kubernetes) for an attached cluster.
      type: str
      returned: success
      sample: Kubernetes
    provisioning_state:
      description: C(Creating), C(Succeeded), C(Failed), C(Deleting) ...
      type: str
      returned: success
      sample: Succeeded
    provisioning_errors:
      description: The errors of a failed provisioning, each with C(code) and C(message).
      type: list
      elements: dict
      returned: success
    cluster_resource_id:
      description: The attached cluster's resource ID.
      type: str
      returned: success
    description:
      description: The compute's description.
      type: str
      returned: success
    is_attached_compute:
      description: Whether the compute was attached (rather than created by Azure ML).
      type: bool
      returned: success
    created_on:
      description: When the compute was attached.
      type: str
      returned: success
    modified_on:
      description: When the compute was last changed.
      type: str
      returned: success
    identity:
      description:
        - The compute's managed identity (C(type), C(principal_id), C(tenant_id), C(user_assigned_identities)), or null.
      type: dict
      returned: success
    namespace:
      description: The Kubernetes namespace workloads run in.
      type: str
      returned: success
      sample: default
    default_instance_type:
      description: The default instance type, if set.
      type: str
      returned: success
    instance_types:
      description:
        - The instance types recorded on the compute, by name, each with C(node_selector), C(requests), C(limits).
      type: dict
      returned: success
    extension_instance_release_train:
      description: The release train of the cluster's Azure ML extension, as the service reports it.
      type: str
      returned: success
workspace:
  description: The workspace the task used.
  returned: success
  type: dict
  contains:
    subscription_id:
      description: Its subscription.
      type: str
      returned: success
    resource_group:
      description: Its resource group.
      type: str
      returned: success
    name:
      description: Its name.
      type: str
      returned: success
    config_file:
      description: The config.json it was read from (O(workspace_config)), or null.
      type: str
      returned: success
drift:
  description:
    - How the attached compute differs from the options, one entry per field, each with C(field), C(attached) and
      C(requested). Empty when it matches, or when it was re-attached.
    - Fields are C(provisioning_state), C(cluster_resource_id), C(namespace), C(description), C(identity),
      C(default_instance_type) and C(instance_types).
  returned: when O(state=present)
  type: list
  elements: dict
  sample: [{field: namespace, attached: default, requested: azureml-workloads}]
  contains:
    field:
      description: The field that differs.
      type: str
      returned: always
      sample: namespace
    attached:
      description: Its value on the attached compute.
      type: raw
      returned: always
      sample: default
    requested:
      description: Its value from the options.
      type: raw
      returned: always
      sample: azureml-workloads
"""

from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.instance_type import instance_type_options
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.options import (
    WORKSPACE_MUTUALLY_EXCLUSIVE,
    WORKSPACE_REQUIRED_ONE_OF,
    WORKSPACE_REQUIRED_TOGETHER,
    workspace_argument_spec,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.tasks import ensure_compute


def argument_spec():
    instance_type = dict(name=dict(type="str", required=True), **instance_type_options())
    instance_type["requests"]["required"] = True
    instance_type["limits"]["required"] = True
    spec = dict(
        name=dict(type="str"),
        cluster_name=dict(type="str"),
        cluster_resource_group=dict(type="str"),
        cluster_resource_id=dict(type="str"),
        namespace=dict(type="str", default="default"),
        default_instance_type=dict(type="str"),
        instance_types=dict(type="list", elements="dict", options=instance_type),
        identity=dict(
            type="dict",
            options=dict(
                type=dict(type="str", required=True, choices=["SystemAssigned", "UserAssigned"]),
                user_assigned_identities=dict(type="list", elements="str"),
            ),
        ),
        description=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        force_reattach=dict(type="bool", default=False),
    )
    spec.update(workspace_argument_spec())
    return spec


def main():
    ArcMLModule(
        argument_spec(),
        azure=True,
        wait=True,
        mutating=True,
        mutually_exclusive=[
            *WORKSPACE_MUTUALLY_EXCLUSIVE,
            ("cluster_resource_id", "cluster_name"),
            ("cluster_resource_id", "cluster_resource_group"),
        ],
        required_one_of=[*WORKSPACE_REQUIRED_ONE_OF, ("name", "cluster_resource_id", "cluster_name")],
        required_together=[*WORKSPACE_REQUIRED_TOGETHER, ("cluster_name", "cluster_resource_group")],
        required_if=[("state", "present", ("cluster_resource_id", "cluster_name"), True)],
    ).run(ensure_compute)


if __name__ == "__main__":
    main()
