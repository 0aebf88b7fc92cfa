# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The Azure ML compute name rule, checked before any request.

Sources: https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftmachinelearningservices,
the service's 400 text, and the computes path pattern in the API from 2026-03-01 on.

The sources disagree: the service's own error says 2-16 characters, letters, digits and '-', a letter
first and a letter or digit last; the API's path pattern from api-version 2026-03-01 on says 3-24
characters, a letter first, and no trailing '-<digits>'. A name that passes both works with every
api-version and client, so the rule here is their intersection: 3-16 characters, letters, digits and
'-', a letter first, a letter or digit last, and no trailing '-' followed only by digits.
"""

from __future__ import annotations

import re

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError

MIN_LENGTH = 3
MAX_LENGTH = 16
# The same rule as one expression (the checks below explain a failure part by part).
PATTERN = re.compile(r"^[a-zA-Z](?![a-zA-Z0-9-]*-[0-9]+$)[a-zA-Z0-9-]{1,14}[a-zA-Z0-9]$")
RULE = (
    "A compute name may contain only letters, digits and '-', must start with a letter, end with a letter or "
    f"digit, be {MIN_LENGTH} to {MAX_LENGTH} characters long, and must not end with '-' followed by digits "
    "(the service allows 2-16 characters; from api-version 2026-03-01 on it requires at least 3 and forbids a "
    "trailing '-<digits>'; this rule satisfies both)"
)

_ALLOWED = re.compile(r"^[a-zA-Z0-9-]*$")
_TRAILING_DIGITS = re.compile(r"-[0-9]+$")


class ComputeNameError(ArcMLError):
    """The compute name breaks the rule; raised before any request is sent."""


def compute_name_problems(name):
    """What is wrong with `name` as a compute name, as short phrases; empty when it is valid."""
    if not isinstance(name, str) or not name:
        return ["is empty"]
    problems = []
    if not MIN_LENGTH <= len(name) <= MAX_LENGTH:
        problems.append(f"is {len(name)} characters long")
    if not _ALLOWED.match(name):
        bad = sorted({c for c in name if not re.match(r"[a-zA-Z0-9-]", c)})
        problems.append("contains {}".format(", ".join(repr(c) for c in bad)))
    if not name[0].isascii() or not name[0].isalpha():
        problems.append("does not start with a letter")
    if not name[-1].isascii() or not name[-1].isalnum():
        problems.append("does not end with a letter or digit")
    elif _TRAILING_DIGITS.search(name):
        problems.append("ends with '-' followed by digits")
    return problems


def check_compute_name(name):
    """Return `name` if it is a valid compute name; raise ComputeNameError saying why not."""
    problems = compute_name_problems(name)
    if problems:
        raise ComputeNameError(
            f"Compute name {name!r} is invalid: it {'; it '.join(problems)}. {RULE}. Choose another name; "
            "nothing was sent to Azure."
        )
    return name
