# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The tasks of the connected_cluster and connected_cluster_info modules, each a function of the ArcMLModule."""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._arc import dataplane as _arc_dataplane
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import resource as _arc_resource
from ansible_collections.hci.arc_ml.plugins.module_utils._arc.onboarding import Onboarding
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError

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
    if module.params.get("latest_agent_version"):
        newest = _newest_agent_versions(module, azure, {s["location"] for s in summaries if s["location"]})
        module.result["latest_agent_versions"] = [
            {"location": location, "version": version} for location, version in sorted(newest.items())
        ]


def _newest_agent_versions(module, azure, locations):
    """The newest agent version the Arc configuration service offers in each region, by location_key
    (lower case, no spaces).

    az connectedk8s takes the agent version it installs from the tag of the chart path the service names
    (create_connectedk8s: `registry_path.split(':')[1]` after get_helm_registry, which asks
    GetLatestHelmPackagePath for the release train):
    https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/custom.py
    A region whose service cannot be read gets None and a warning: the clusters' own state is still returned.
    """
    newest = {}
    for location in sorted(locations, key=_arc_resource.location_key):
        key = _arc_resource.location_key(location)
        if key in newest:
            continue
        client = azure.client(azure.cloud.arc_config_endpoint_for(location), audience=azure.cloud.management_audience)
        try:
            path = _arc_dataplane.ConfigDataPlane(client).latest_package_path()
            newest[key] = _arc_dataplane.ChartLocation.parse(path).version
        except ArcMLError as error:
            newest[key] = None
            module.warn(f"The newest Arc agent version in {location} could not be read: {error}")
    return newest
