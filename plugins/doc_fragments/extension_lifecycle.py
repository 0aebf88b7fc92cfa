# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""State, version and write policies of a cluster extension (_extension/options.py lifecycle_argument_spec)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  state:
    description:
      - V(present) creates or updates the extension; V(absent) deletes it and, with O(wait=true), confirms it is
        gone (the cluster's agents remove its release from the cluster).
    type: str
    choices: [present, absent]
    default: present
  version:
    description:
      - Pin the extension to this version. Implies O(auto_upgrade_minor_version=false); setting both
        O(version) and O(auto_upgrade_minor_version=true) is an error, as the service refuses it.
      - Never sent while auto-upgrade is on. Turning auto-upgrade on over a pinned version sends
        C(version=null) to unpin it.
    type: str
  auto_upgrade_minor_version:
    description:
      - Whether the extension upgrades its minor version by itself. When not set, the service's default (true)
        on create, and not compared afterwards.
    type: bool
  protected_settings_update:
    description:
      - When to send the protected settings to an existing extension. Azure never returns their values, and when
        they are sent, the complete map is sent, since it replaces the extension's protected settings as a whole.
      - V(when_changed) stores a salted PBKDF2-SHA256 fingerprint of the complete protected map in the
        configuration setting C(hciArcMlProtectedSettingsFingerprint) whenever the module sends the map, and sends
        it again only when the fingerprint no longer matches (a value or a key changed) or is missing. A second run
        with the same values neither reports a change nor resends them.
      - V(always) sends the map on every run, and so always reports a change.
      - V(on_create) sends the map only when the extension is created or re-created.
      - The fingerprint reveals no value, but like any verifier it allows testing guesses of a weak secret by anyone
        who can read the extension; use V(on_create) or V(always) for short passwords.
    type: str
    choices: [when_changed, always, on_create]
    default: when_changed
  repair_failed:
    description:
      - When Azure reports the extension as C(Failed), delete and create it again instead of failing with Azure's
        error. Needs O(wait=true).
    type: bool
    default: false
  force_delete:
    description:
      - Delete only the Azure resource (C(forceDelete=true)), without waiting for the cluster's agents; they remove
        the release when they reconnect. For clusters that are gone or offline.
      - Applies to O(state=absent), and to the delete before a re-create (O(recreate), O(repair_failed)).
    type: bool
    default: false
"""
