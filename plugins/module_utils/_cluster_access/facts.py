# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""What a kubeconfig says that is not secret: its server, context, how it authenticates, when its token expires.

Pure: the kubeconfig text in, plain data out. No credential (token, key, certificate) is ever part of the facts.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError, import_optional


class KubeconfigFormatError(ArcMLError):
    """The kubeconfig Azure handed out is not one the collection can read."""


def describe(text, kind):
    """{kind, server, context, auth, exec_command, expires_on} of the kubeconfig `text`."""
    config = _load(text)
    context_name = config.get("current-context") or _first_name(config.get("contexts"))
    context = _named(config.get("contexts"), context_name, "context")
    cluster = _named(config.get("clusters"), context.get("cluster"), "cluster")
    user = _named(config.get("users"), context.get("user"), "user")
    return {
        "kind": kind,
        "server": cluster.get("server"),
        "context": context_name,
        "auth": _auth(user),
        "exec_command": (user.get("exec") or {}).get("command") if isinstance(user.get("exec"), dict) else None,
        "expires_on": token_expiry(user.get("token")),
    }


def token_expiry(token):
    """The `exp` of a JWT as ISO 8601 UTC, or None when there is no token or it carries no expiry.

    The signature is not checked: the cluster does that; this only reads the date for the playbook.
    """
    if not isinstance(token, str) or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    expires = claims.get("exp") if isinstance(claims, dict) else None
    if not isinstance(expires, (int, float)) or isinstance(expires, bool):
        return None
    return datetime.fromtimestamp(expires, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _load(text):
    yaml = import_optional("yaml", "PyYAML")
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError:
        config = None
    if not isinstance(config, dict):
        # The text itself is a credential: the message never quotes it.
        raise KubeconfigFormatError("Azure handed out a kubeconfig that is not a YAML mapping; ask Microsoft support.")
    return config


def _first_name(entries):
    if isinstance(entries, list) and entries and isinstance(entries[0], dict):
        return entries[0].get("name")
    return None


def _named(entries, name, what):
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry.get(what) if isinstance(entry.get(what), dict) else {}
    raise KubeconfigFormatError(f"Azure handed out a kubeconfig without the {what} {name!r} its context names.")


def _auth(user):
    if user.get("token") or user.get("tokenFile"):
        return "token"
    if user.get("client-certificate-data") or user.get("client-certificate"):
        return "client_certificate"
    if user.get("exec"):
        return "exec"
    return "none"
