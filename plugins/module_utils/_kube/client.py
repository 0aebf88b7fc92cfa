# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The one Kubernetes client of the collection: JSON requests to the API server, and their errors."""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError


class KubernetesError(ArcMLError):
    """A Kubernetes API call failed; `status` is the HTTP status, or None when the API server did not answer.

    The status is also a key of the failed task's result, so a playbook can tell a refusal from an outage.
    """

    def __init__(self, message, status=None):
        super().__init__(message, **({"status": status} if status is not None else {}))
        self.status = status
