# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The options cluster_extension and azureml_extension share, one function per family of options.

cluster_argument_spec() and lifecycle_argument_spec() are documented by the doc fragments
hci.arc_ml.extension_cluster and hci.arc_ml.extension_lifecycle; the options of settings_argument_spec() mean
something different in each module, so each module documents them itself.
"""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._extension.client import CLUSTER_TYPES
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.protected import POLICIES


def cluster_argument_spec():
    """Which cluster: the options the _info module has too."""
    return dict(
        cluster_name=dict(type="str", required=True),
        resource_group=dict(type="str", required=True),
        cluster_type=dict(type="str", choices=list(CLUSTER_TYPES), default="connectedClusters"),
    )


def lifecycle_argument_spec():
    """State, version pinning, and how protected settings, failed extensions and deletes are handled."""
    return dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        version=dict(type="str"),
        auto_upgrade_minor_version=dict(type="bool"),
        protected_settings_update=dict(type="str", choices=list(POLICIES), default="when_changed"),
        repair_failed=dict(type="bool", default=False),
        force_delete=dict(type="bool", default=False),
    )


def settings_argument_spec():
    """The settings, the release train and re-creation: the same types in both modules, documented by each."""
    return dict(
        release_train=dict(type="str"),
        configuration_settings=dict(type="dict"),
        configuration_protected_settings=dict(type="dict", no_log=True),
        recreate=dict(type="bool", default=False),
    )


def extension_argument_spec():
    """Everything an extension-writing module shares: the cluster, the lifecycle options and the settings."""
    spec = cluster_argument_spec()
    spec.update(lifecycle_argument_spec())
    spec.update(settings_argument_spec())
    return spec
