# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The tasks of the connected_cluster and connected_cluster_info modules, each a function of the ArcMLModule."""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._arc import resource as _arc_resource
from ansible_collections.hci.arc_ml.plugins.module_utils._arc.onboarding import Onboarding

# connected_cluster's wait_timeout default: installing the agents and waiting for them to report Connected
# commonly takes longer than the collection's default of 600 seconds.
CONNECT_WAIT_TIMEOUT = 1200


def connect_cluster(module):
    """Connect the cluster to Azure Arc (state=present), or disconnect it (state=absent)."""
    onboarding = Onboarding(module)
    if module.params["state"] == "present":
        onboarding.connect()
    else:
        onboarding.disconnect()


def read_connected_clusters(module):
    """One connected cluster (name and resource_group), those of a resource group, or those of the subscription."""
    azure = module.azure()
    name, group = module.params["name"], module.params["resource_group"]
    # Every name that reaches the request path is checked first (_azure/resource_id.py).
    _arc_resource.check_info_names(azure.subscription_id, name, group)
    version = _arc_resource.API_VERSION
    if name:
        found = azure.arm.get_or_none(_arc_resource.cluster_path(azure.subscription_id, group, name), version)
        clusters = [found] if found else []
    elif group:
        clusters = azure.arm.list(_arc_resource.group_list_path(azure.subscription_id, group), version)
    else:
        clusters = azure.arm.list(_arc_resource.subscription_list_path(azure.subscription_id), version)
    summaries = [_arc_resource.summary(cluster) for cluster in clusters]
    module.result["connected_clusters"] = sorted(summaries, key=lambda c: (c["id"] or "").lower())
