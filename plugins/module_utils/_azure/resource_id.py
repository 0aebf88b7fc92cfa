# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The ARM id of a resource in a resource group, as Azure writes it and as a request path.

/subscriptions/<subscription>/resourceGroups/<group>/providers/<provider>/<type>/<name>, followed by the
type and name of each child resource (`hybridConnections/<name>`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import resource_path


# eq=False: subclasses that are not dataclasses themselves keep comparing by identity.
@dataclass(eq=False)
class GroupResource:
    """A resource in one resource group of one subscription; subclasses name its provider, type and name."""

    subscription_id: str
    resource_group: str

    def _segments(self, provider, types_and_names):
        group = ("subscriptions", self.subscription_id, "resourceGroups", self.resource_group, "providers", provider)
        return group + tuple(types_and_names)

    def resource_id(self, provider, *types_and_names):
        """The ARM id as Azure writes it (in settings, in other resources' bodies): segments as they are."""
        return "/" + "/".join(self._segments(provider, types_and_names))

    def resource_path(self, provider, *types_and_names):
        """The ARM id as a request path: every segment percent-encoded."""
        return resource_path(*self._segments(provider, types_and_names))
