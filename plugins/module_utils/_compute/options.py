# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The options ml_compute and ml_compute_info share: which workspace (doc fragment hci.arc_ml.ml_workspace)."""

from __future__ import annotations

# The rules between the workspace options, for AnsibleModule's mutually_exclusive, required_one_of and
# required_together (a module adds its own rules to these lists).
WORKSPACE_MUTUALLY_EXCLUSIVE = [("workspace_config", "workspace_name"), ("workspace_config", "resource_group")]
WORKSPACE_REQUIRED_ONE_OF = [("workspace_name", "workspace_config")]
WORKSPACE_REQUIRED_TOGETHER = [("workspace_name", "resource_group")]


def workspace_argument_spec():
    """workspace_name and resource_group, or the workspace's config.json."""
    return dict(
        workspace_name=dict(type="str"),
        resource_group=dict(type="str"),
        workspace_config=dict(type="path"),
    )
