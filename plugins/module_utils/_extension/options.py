# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The options cluster_extension and azureml_extension share (each module documents them itself)."""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._extension.client import (
    CLUSTER_TYPES,
    ClusterRef,
    ExtensionClient,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.protected import POLICIES


def cluster_argument_spec():
    """Which cluster: the options the _info module has too."""
    return dict(
        cluster_name=dict(type="str", required=True),
        resource_group=dict(type="str", required=True),
        cluster_type=dict(type="str", choices=list(CLUSTER_TYPES), default="connectedClusters"),
    )


def lifecycle_argument_spec():
    """State, versioning and the write policies."""
    return dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        release_train=dict(type="str"),
        version=dict(type="str"),
        auto_upgrade_minor_version=dict(type="bool"),
        configuration_settings=dict(type="dict"),
        configuration_protected_settings=dict(type="dict", no_log=True),
        protected_settings_update=dict(type="str", choices=list(POLICIES), default="when_changed"),
        recreate=dict(type="bool", default=False),
        repair_failed=dict(type="bool", default=False),
        force_delete=dict(type="bool", default=False),
    )


def extension_client(module, name):
    """The ExtensionClient for the task's cluster (authenticates to Azure on first use)."""
    params = module.params
    azure = module.azure()
    cluster = ClusterRef(
        azure.subscription_id, params["resource_group"], params["cluster_type"], params["cluster_name"]
    )
    return ExtensionClient(azure.arm, cluster, name)
