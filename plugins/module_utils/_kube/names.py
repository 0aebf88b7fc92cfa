# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Kubernetes object names: the two rules the API server applies, for checks made before any request.

https://kubernetes.io/docs/concepts/overview/working-with-objects/names/: a namespace is an RFC 1123 label (at
most 63 characters), most other objects (persistent volumes and claims, custom resources) DNS subdomain names (at
most 253). Use them with fullmatch: `$` with match also accepts a name that ends in a newline.
"""

from __future__ import annotations

import re

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS_LABEL_MAX = 63
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
DNS_SUBDOMAIN_MAX = 253


def is_dns_label(name):
    return isinstance(name, str) and len(name) <= DNS_LABEL_MAX and DNS_LABEL.fullmatch(name) is not None


def is_dns_subdomain(name):
    return isinstance(name, str) and len(name) <= DNS_SUBDOMAIN_MAX and DNS_SUBDOMAIN.fullmatch(name) is not None
