# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Descriptions of the attributes every module declares; the module states its support."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled by the module has not changed in between.
"""

    ACTIONGROUP_AZURE = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/hci.arc_ml.azure) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - hci.arc_ml.azure
"""

    ACTIONGROUP_KUBERNETES = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/hci.arc_ml.kubernetes) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - hci.arc_ml.kubernetes
"""

    ACTIONGROUP_AZURE_KUBERNETES = r"""
options: {}
attributes:
  action_group:
    description:
      - Use C(group/hci.arc_ml.azure) in C(module_defaults) to set the Azure options for this module,
        and C(group/hci.arc_ml.kubernetes) to set its Kubernetes options.
    support: full
    membership:
      - hci.arc_ml.azure
      - hci.arc_ml.kubernetes
"""

    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
  idempotent:
    support: full
    details:
      - This action does not modify state.
"""

    MUTATING_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
"""
