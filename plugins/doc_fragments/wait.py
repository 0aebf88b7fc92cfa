# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Options for waiting on long-running operations (module_utils/_common/wait.py wait_argument_spec)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Whether to wait until the operations of this task have finished.
      - With V(false), the task returns once Azure has accepted the request.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds this task may spend waiting, in total, measured on a monotonic clock.
      - On timeout the task fails with the last state it observed; the operation itself may still complete.
    type: int
    default: 600
  wait_sleep:
    description:
      - The longest pause, in seconds, between two status checks when the service does not say when to check
        again. The first check follows after 1 second and the pause grows by 1 second with each check up to
        O(wait_sleep).
      - A pause is never shorter than a C(Retry-After) the service sends, which may make it longer than O(wait_sleep).
    type: int
    default: 5
"""
