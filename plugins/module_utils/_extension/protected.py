# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Write-only protected settings: when to send them again.

Azure never returns the values of `configurationProtectedSettings` (a GET shows the keys at most), and a
PATCH that carries the map replaces it as a whole. So a module cannot compare them with what it wants.
The policy (`protected_settings_update`):

- `when_changed` (default): whenever the module sends protected settings it also writes, into the
  non-secret configuration setting FINGERPRINT_KEY, a salted PBKDF2-SHA256 digest of the complete map
  (keys and values). A later run recomputes the digest with the stored salt: equal means unchanged, so
  nothing is sent; different, missing, or different keys (when Azure lists them) mean the whole map is
  sent again with a new fingerprint. A rotated relay key or a new certificate is therefore detected.
- `always`: the map is sent on every run (and every run reports a change).
- `on_create`: the map is sent only when the extension is created (or re-created); later changes are
  ignored.

The fingerprint is a one-way, salted and deliberately slow digest: it proves equality without revealing
values, but like any verifier it lets someone who can read the extension test guesses of a low-entropy
secret (a short password). For such values use `on_create` or `always`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

FINGERPRINT_KEY = "hciArcMlProtectedSettingsFingerprint"
POLICIES = ("when_changed", "always", "on_create")
SCHEME = "pbkdf2-sha256"
ITERATIONS = 100_000
SALT_BYTES = 16


def _canonical(protected):
    return json.dumps(protected, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _b64(data):
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fingerprint(protected, salt=None, iterations=None):
    """`pbkdf2-sha256$<iterations>$<salt>$<digest>` of the whole map; a fresh random salt unless given."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    iterations = iterations or ITERATIONS
    digest = hashlib.pbkdf2_hmac("sha256", _canonical(protected), salt, iterations)
    return f"{SCHEME}${iterations}${_b64(salt)}${_b64(digest)}"


def matches(stored, protected):
    """Whether `stored` (a fingerprint string, or None) is the fingerprint of `protected`."""
    if not isinstance(stored, str):
        return False
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != SCHEME:
        return False
    try:
        iterations = int(parts[1])
        salt = _unb64(parts[2])
        expected = _unb64(parts[3])
    except (ValueError, TypeError):
        return False
    if not 1_000 <= iterations <= 10_000_000:
        return False
    digest = hashlib.pbkdf2_hmac("sha256", _canonical(protected), salt, iterations)
    return hmac.compare_digest(digest, expected)


class Decision:
    """Whether to send the protected settings, why, and the fingerprint setting to write with them."""

    def __init__(self, send, reason=None, fingerprint=None):
        self.send = send
        self.reason = reason
        self.fingerprint = fingerprint

    def __repr__(self):
        return f"Decision(send={self.send!r}, reason={self.reason!r})"


def decide(policy, desired, current_properties):
    """What to do with the protected settings of an existing extension.

    `desired` is the complete map the task wants (None: the task does not manage protected settings);
    `current_properties` the extension's properties as Azure returns them.
    """
    if desired is None:
        return Decision(False)
    if policy not in POLICIES:
        raise ValueError(f"unknown protected settings policy {policy!r}")
    if policy == "on_create":
        return Decision(False)
    if policy == "always":
        return Decision(True, "protected_settings_update is 'always'")
    current_keys = set((current_properties.get("configurationProtectedSettings") or {}).keys())
    stored = (current_properties.get("configurationSettings") or {}).get(FINGERPRINT_KEY)
    if current_keys and current_keys != set(desired):
        return Decision(True, "the protected setting keys differ", fingerprint(desired))
    if stored is None:
        if not desired and not current_keys:
            return Decision(False)
        return Decision(True, "the extension holds no fingerprint of its protected settings", fingerprint(desired))
    if matches(stored, desired):
        return Decision(False)
    return Decision(True, "the protected settings differ from their stored fingerprint", fingerprint(desired))


def on_create(policy, desired):
    """The fingerprint to store when creating an extension with `desired` protected settings, or None."""
    if desired and policy == "when_changed":
        return fingerprint(desired)
    return None
