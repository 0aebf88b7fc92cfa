# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The Azure ML compute name rule, checked before any request, and the default name of a cluster's compute.

Sources: https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftmachinelearningservices,
the service's 400 text, and the computes path pattern in the API from 2026-03-01 on.

The sources disagree: the service's own error says 2-16 characters, letters, digits and '-', a letter
first and a letter or digit last; the API's path pattern from api-version 2026-03-01 on says 3-24
characters, a letter first, and no trailing '-<digits>'. A name that passes both works with every
api-version and client, so the rule here is their intersection: 3-16 characters, letters, digits and
'-', a letter first, a letter or digit last, and no trailing '-' followed only by digits.
"""

from __future__ import annotations

import hashlib
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


# The default name: a readable prefix of the cluster name, '-', and a hash of the cluster's ARM id.
#
# The hash is 8 characters: a letter (26 values) and 7 characters of the lower-case RFC 4648 base32 alphabet
# (a-z, 2-7; 32 values), so there are 26 * 32**7 = 893,353,197,568 (about 2**39.7) hashes. Only clusters whose
# 7-character prefixes are equal can collide at all; if a whole fleet shares its prefix, the chance that any two
# of n clusters get the same name is about n * (n - 1) / 2 / 8.9e11 (the birthday bound): 1.4e-7 for 500
# clusters, 5.6e-7 for 1,000 and 5.6e-5 for 10,000 in one workspace. Its letter first means the name never ends
# in '-<digits>' and is valid even when the prefix is empty.
#
# Changing anything here renames every fleet's computes: tests pin known names.
HASH_LENGTH = 8
PREFIX_LENGTH = MAX_LENGTH - 1 - HASH_LENGTH
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


def cluster_hash(cluster_id):
    """HASH_LENGTH characters from the SHA-256 of the cluster's ARM id, lower-cased (ARM ids compare
    case-insensitively) and without a trailing '/'; the first one a letter."""
    normalized = cluster_id.strip().rstrip("/").lower()
    number = int.from_bytes(hashlib.sha256(normalized.encode("utf-8")).digest(), "big")
    number, first = divmod(number, len(_LETTERS))
    characters = [_LETTERS[first]]
    for _position in range(HASH_LENGTH - 1):
        number, digit = divmod(number, len(_BASE32))
        characters.append(_BASE32[digit])
    return "".join(characters)


def readable_prefix(cluster_name):
    """At most PREFIX_LENGTH characters of the cluster name that can start a compute name: lower-case, each run
    of other characters than letters and digits one '-', from its first letter on, no '-' at the end."""
    text = re.sub(r"[^a-z0-9]+", "-", cluster_name.lower())
    text = re.sub(r"^[^a-z]+", "", text)
    return text[:PREFIX_LENGTH].rstrip("-")


def default_compute_name(cluster_id):
    """The compute name of a cluster when the task names none: unique per cluster ARM id and the same on every run,
    such as contoso-k2v7qa3m for .../connectedClusters/contoso-store-0001."""
    cluster_name = cluster_id.strip().rstrip("/").rsplit("/", 1)[-1]
    prefix = readable_prefix(cluster_name)
    hashed = cluster_hash(cluster_id)
    return f"{prefix}-{hashed}" if prefix else hashed


def legacy_compute_name(cluster_name):
    """The name the compute_attach role gave a cluster's compute before default_compute_name: the first 16
    characters of the cluster name, without trailing '-', and a final '-<digits>' joined (site-001: site001).
    Clusters with the same first 16 characters got the same name; it is only ever looked up, never attached."""
    name = re.sub(r"-+$", "", cluster_name[:MAX_LENGTH])
    return re.sub(r"-([0-9]+)$", r"\1", name)
