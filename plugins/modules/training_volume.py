#!/usr/bin/python
# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: training_volume
short_description: An NFS volume and claim that Azure Machine Learning mounts into a Kubernetes compute's jobs
version_added: 0.1.0
description:
  - Makes an NFS share on the site's network available to Azure Machine Learning training jobs on a Kubernetes
    compute, as the Azure ML documentation describes it by hand (C(kubectl apply) of a PersistentVolume and a
    PersistentVolumeClaim), with an NFS C(PersistentVolume) and its C(PersistentVolumeClaim) in the compute's namespace,
    the claim labelled C(ml.azure.com/pvc=true) and annotated C(ml.azure.com/mountpath) with O(mount_path). Azure ML
    mounts every such claim into the command, sweep and batch jobs that run in the claim's namespace; online
    endpoints, AutoML and parallel run jobs do not get it.
  - The volume and the claim are reserved for each other (the volume's C(claimRef), the claim's C(volumeName)) and
    have no storage class (C(storageClassName) empty), so no other claim can take the volume and no provisioner the
    claim. The volume's reclaim policy is always C(Retain), and set back to it when someone changed it.
  - By default the task waits until the cluster's volume controller (in kube-controller-manager) has bound the claim
    (its phase C(Bound)), see O(wait).
  - Objects the collection did not create (without the label C(app.kubernetes.io/managed-by=hci.arc_ml)), and a
    volume reserved for another claim, are never changed, taken over or deleted; the task fails, naming them.
  - Kubernetes does not let the NFS server, export path or read-only flag of a volume change, nor the capacity or
    access mode of a claim. Asking for other values re-creates the volume and claim, which for a C(Bound) claim
    (jobs may use it) needs O(force_replace=true); without it the task fails with what differs and changes nothing.
  - O(state=absent) deletes the claim and the volume B(objects) only. The data on the NFS export is never deleted,
    moved or changed, by any state.
  - Every option is checked before the first request (an export path that is not absolute, a capacity that is not
    a Kubernetes quantity, a server that is not a host name or IP address, a namespace the compute does not use, a
    namespace that does not exist), and the task fails with one line and changes nothing.
author:
  - hci.arc_ml maintainers (!UNKNOWN)
options:
  name:
    description:
      - The claim's name, which jobs see the share by (for example V(training-data)); a DNS subdomain name.
    type: str
    required: true
  namespace:
    description:
      - The namespace of the claim, which must be the namespace the compute was attached with
        (M(hci.arc_ml.ml_compute) O(hci.arc_ml.ml_compute#module:namespace)), since Azure ML mounts a claim only
        into jobs in its own namespace.
      - Not set means the namespace of O(compute_name) when it is given, else V(default) (the namespace a compute is
        attached with when it names none).
      - With O(compute_name) and O(state=present), a namespace other than the compute's fails before any write.
      - With O(state=present) it must exist on the cluster.
    type: str
  compute_name:
    description:
      - The Kubernetes compute whose jobs use the share, read from Azure (its C(properties.properties.namespace))
        to check or set O(namespace). Requires the workspace options.
      - Read for O(state=present), and for O(state=absent) only when O(namespace) is not set.
      - A compute that does not exist fails the task, except in check mode, where its attach may only be planned (a
        new site); a warning then says so and O(namespace) (else V(default)) is used.
    type: str
  workspace_name:
    description:
      - The Azure Machine Learning workspace of O(compute_name). Requires O(resource_group).
      - Used only with O(compute_name); then this or O(workspace_config) is required.
    type: str
  resource_group:
    description:
      - The resource group of the workspace.
    type: str
  workspace_config:
    description:
      - The workspace's C(config.json) instead of O(workspace_name) and O(resource_group), found and read as
        M(hci.arc_ml.ml_compute) reads O(hci.arc_ml.ml_compute#module:workspace_config).
    type: path
  volume_name:
    description:
      - The name of the PersistentVolume (volumes are cluster-wide, claims are per namespace).
      - Not set means V(<namespace>-<name>), unique per claim.
    type: str
  server:
    description:
      - The NFS server, a host name (V(nfs01.contoso.local)) or an IPv4 or IPv6 address (V(10.0.0.5)); every node
        that runs jobs must reach it.
      - Required with O(state=present).
    type: str
  path:
    description:
      - The export path on the NFS server, absolute (V(/srv/training)).
      - Required with O(state=present).
    type: str
  capacity:
    description:
      - The size of the volume and of the claim's request, a Kubernetes quantity such as V(500Gi) or V(2Ti).
        Kubernetes matches the claim to the volume with it; an NFS server does not enforce it.
      - Compared by value, so V(1024Mi) and V(1Gi) are the same.
      - Required with O(state=present).
    type: str
  mount_path:
    description:
      - Where jobs see the share, an absolute path in the job's container (V(/mnt/training)); the claim's
        C(ml.azure.com/mountpath) annotation. It can change in place.
      - Required with O(state=present).
    type: str
  access_mode:
    description:
      - The access mode of the volume and the claim. V(ReadWriteMany) lets jobs on several nodes read and write, as
        the Azure ML example has it; V(ReadOnlyMany) for a data set jobs only read.
    type: str
    choices: [ReadWriteMany, ReadOnlyMany, ReadWriteOnce]
    default: ReadWriteMany
  read_only:
    description:
      - Mount the export read-only on every node (the volume's C(nfs.readOnly)).
    type: bool
    default: false
  mount_options:
    description:
      - NFS mount options, in order (for example V(nfsvers=4.1), V(hard)). They can change in place; a job gets
        them when it next mounts the volume.
      - Not set means none (the node's defaults).
    type: list
    elements: str
  force_replace:
    description:
      - Re-create a C(Bound) volume and claim when the task asks for what cannot change in place (O(server),
        O(path), O(read_only), O(capacity), O(access_mode)), or when one of them is being deleted or gone (deleted
        by hand). The data on the export is not touched; a claim in use by jobs is deleted only when they end, which
        the task waits for (up to O(wait_timeout)).
      - Without it such a change fails, saying what differs. A claim that is not C(Bound) is re-created without it.
    type: bool
    default: false
  state:
    description:
      - V(present) creates or updates the volume and its claim.
      - V(absent) deletes the claim, then the volume object; never the data on the export.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Whether to wait until the claim is C(Bound) (O(state=present)), or until the claim and the volume are gone
        (O(state=absent)).
      - A re-creation always waits for the old objects to be gone before it creates the new ones.
    type: bool
    default: true
extends_documentation_fragment:
  - hci.arc_ml.wait
  - hci.arc_ml.kube_auth
  - hci.arc_ml.azure_auth
  - hci.arc_ml.attributes
  - hci.arc_ml.attributes.ACTIONGROUP_AZURE_KUBERNETES
attributes:
  check_mode:
    support: full
    details:
      - Creates, changes and deletes are sent as server-side dry runs, so the API server validates and authorizes
        them but stores nothing. The objects of a re-creation are not created in dry run, since the old ones
        still exist then.
      - RV(phase) is the phase the claim has on the cluster, so a check-mode run reports whether each share is
        Bound without changing anything.
  diff_mode:
    support: full
    details:
      - The volume and the claim before and after, in the fields of RV(volume) and RV(claim) (without the phases).
  idempotent:
    support: full
notes:
  - The Azure options (the O(auth_source) family) are used only to read O(compute_name).
  - Every node that runs jobs needs an NFS client (C(mount.nfs)); Kubernetes mounts the share on the node.
seealso:
  - module: hci.arc_ml.ml_compute
  - name: Azure Machine Learning jobs connect with custom data storage
    description: The claim's label and mount-path annotation, and which jobs mount it.
    link: https://learn.microsoft.com/azure/machine-learning/reference-kubernetes
  - name: PV/PVC support in AMLArc training job
    description: The Azure ML extension's own example of an NFS volume and claim, and the namespace rule.
    link: https://github.com/Azure/AML-Kubernetes/blob/master/docs/pvc.md
  - name: Reserving a PersistentVolume
    description: How a volume and a claim are bound to each other.
    link: https://kubernetes.io/docs/concepts/storage/persistent-volumes/#reserving-a-persistentvolume
"""

EXAMPLES = r"""
- name: Give the compute's training jobs the site's data share at /mnt/training
  hci.arc_ml.training_volume:
    kubeconfig: "{{ arcml_kubeconfig }}"
    name: training-data
    namespace: azureml-jobs
    server: nfs01.contoso.local
    path: /srv/training
    capacity: 2Ti
    mount_path: /mnt/training
    mount_options: [nfsvers=4.1, hard]

- name: Take the namespace from the attached compute (and fail if the option names another)
  hci.arc_ml.training_volume:
    name: datasets
    compute_name: "{{ compute_attach_result.name }}"
    workspace_name: mlw-production
    resource_group: rg-ml
    server: 10.0.0.5
    path: /exports/datasets
    capacity: 500Gi
    mount_path: /mnt/datasets
    access_mode: ReadOnlyMany
    read_only: true

- name: Move the share to another server (the claim is Bound, so it is re-created)
  hci.arc_ml.training_volume:
    name: training-data
    namespace: azureml-jobs
    server: nfs02.contoso.local
    path: /srv/training
    capacity: 2Ti
    mount_path: /mnt/training
    force_replace: true

- name: Remove the claim and volume objects (the data on the export stays)
  hci.arc_ml.training_volume:
    name: training-data
    namespace: azureml-jobs
    state: absent

- name: Is the share Bound? (changes nothing)
  hci.arc_ml.training_volume:
    name: training-data
    namespace: azureml-jobs
    server: nfs01.contoso.local
    path: /srv/training
    capacity: 2Ti
    mount_path: /mnt/training
  check_mode: true
  register: share

- name: Show its phase
  ansible.builtin.debug:
    msg: "{{ share.phase }}"
"""

RETURN = r"""
actions:
  description: What the task did, or in check mode would do, in order; empty when nothing needed doing.
  returned: always
  type: list
  elements: str
  sample:
    - create persistent volume azureml-jobs-training-data (nfs nfs01.contoso.local:/srv/training, 2Ti, ReadWriteMany)
    - create persistent volume claim azureml-jobs/training-data (volume azureml-jobs-training-data, mounted at
      /mnt/training)
msg:
  description: What the task did (or, in check mode, would do), and the claim's phase.
  returned: always
  type: str
  sample: Changed share azureml-jobs/training-data (volume azureml-jobs-training-data); its claim is Bound.
namespace:
  description: The namespace of the claim (the option, else the compute's, else V(default)).
  returned: always
  type: str
  sample: azureml-jobs
phase:
  description:
    - The claim's phase on the cluster after the task (C(Bound), C(Pending) or C(Lost)); in check mode, its phase on
      the cluster now.
    - Null when there is no claim (O(state=absent), or in check mode a claim still to be created).
  returned: always
  type: str
  sample: Bound
volume:
  description:
    - The PersistentVolume after the task (in check mode, as it would be); null when there is none.
  returned: always
  type: dict
  contains:
    name:
      description: The volume's name.
      returned: always
      type: str
      sample: azureml-jobs-training-data
    server:
      description: The NFS server.
      returned: always
      type: str
      sample: nfs01.contoso.local
    path:
      description: The export path.
      returned: always
      type: str
      sample: /srv/training
    read_only:
      description: Whether the export is mounted read-only.
      returned: always
      type: bool
      sample: false
    capacity:
      description: The volume's capacity, as the API server stores it.
      returned: always
      type: str
      sample: 2Ti
    access_modes:
      description: The volume's access modes.
      returned: always
      type: list
      elements: str
      sample: [ReadWriteMany]
    mount_options:
      description: The NFS mount options.
      returned: always
      type: list
      elements: str
      sample: [nfsvers=4.1, hard]
    reclaim_policy:
      description: C(Retain), always.
      returned: always
      type: str
      sample: Retain
    claim:
      description: The claim the volume is reserved for, as C(namespace/name).
      returned: always
      type: str
      sample: azureml-jobs/training-data
    phase:
      description: The volume's phase on the cluster (C(Available), C(Bound), C(Released)); in check mode its phase
        now, null for a volume still to be created.
      returned: always
      type: str
      sample: Bound
claim:
  description:
    - The PersistentVolumeClaim after the task (in check mode, as it would be); null when there is none.
  returned: always
  type: dict
  contains:
    name:
      description: The claim's name.
      returned: always
      type: str
      sample: training-data
    namespace:
      description: The claim's namespace.
      returned: always
      type: str
      sample: azureml-jobs
    volume_name:
      description: The volume the claim is bound (or reserved) to.
      returned: always
      type: str
      sample: azureml-jobs-training-data
    capacity:
      description: The storage the claim requests.
      returned: always
      type: str
      sample: 2Ti
    access_modes:
      description: The claim's access modes.
      returned: always
      type: list
      elements: str
      sample: [ReadWriteMany]
    mount_path:
      description: Where jobs see the share (the C(ml.azure.com/mountpath) annotation).
      returned: always
      type: str
      sample: /mnt/training
    azureml_mountable:
      description: Whether the claim carries the label C(ml.azure.com/pvc=true) that Azure ML mounts claims by.
      returned: always
      type: bool
      sample: true
    phase:
      description: The claim's phase, as RV(phase).
      returned: always
      type: str
      sample: Bound
"""

from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.options import (
    WORKSPACE_MUTUALLY_EXCLUSIVE,
    WORKSPACE_REQUIRED_TOGETHER,
    workspace_argument_spec,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._storage.share import ACCESS_MODES, DEFAULT_ACCESS_MODE
from ansible_collections.hci.arc_ml.plugins.module_utils._storage.tasks import ensure_training_volume


def argument_spec():
    spec = dict(
        name=dict(type="str", required=True),
        namespace=dict(type="str"),
        compute_name=dict(type="str"),
        volume_name=dict(type="str"),
        server=dict(type="str"),
        path=dict(type="str"),
        capacity=dict(type="str"),
        mount_path=dict(type="str"),
        access_mode=dict(type="str", choices=list(ACCESS_MODES), default=DEFAULT_ACCESS_MODE),
        read_only=dict(type="bool", default=False),
        mount_options=dict(type="list", elements="str"),
        force_replace=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    spec.update(workspace_argument_spec())
    return spec


def main():
    ArcMLModule(
        argument_spec(),
        azure=True,
        kube=True,
        wait=True,
        mutating=True,
        mutually_exclusive=WORKSPACE_MUTUALLY_EXCLUSIVE,
        required_together=WORKSPACE_REQUIRED_TOGETHER,
        required_if=[("state", "present", ("server", "path", "capacity", "mount_path"))],
    ).run(ensure_training_volume)


if __name__ == "__main__":
    main()
