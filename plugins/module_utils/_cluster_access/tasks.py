# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The task of the cluster_credentials module: fetch a cluster's kubeconfig from Azure."""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._cluster_access import client as _client
from ansible_collections.hci.arc_ml.plugins.module_utils._cluster_access.facts import describe
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError


class NoLogRequired(ArcMLError):
    """The task would return credentials without no_log; refused before anything is asked of Azure."""


NO_LOG_REQUIRED = (
    "cluster_credentials returns the cluster's kubeconfig, which holds credentials: set no_log: true on this task "
    "so that they can never reach a log. Nothing was asked of Azure."
)


def read_cluster_credentials(module):
    """The kubeconfig of `kind` for the cluster, and its non-secret facts; read-only, so check mode runs it too."""
    if not module.ansible.no_log:
        raise NoLogRequired(NO_LOG_REQUIRED)
    params = module.params
    azure = module.azure()
    _client.check_names(azure.subscription_id, params["resource_group"], params["cluster_name"])
    access = _client.ClusterAccess(azure.subscription_id, params["resource_group"], params["cluster_name"])
    text = _client.fetch_kubeconfig(azure.arm, access, params["kind"], module.waiter(required=True))
    module.result.update(describe(text, params["kind"]))
    module.result["cluster_id"] = access.cluster_id
    module.result["kubeconfig"] = text
