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
      - V(when_changed) compares the keys. Azure returns the keys of the protected settings, never their values, so
        the map is sent again when its keys differ from the keys Azure lists (a key added or removed, or Azure lists
        none), or when the module knows a value changed (M(hci.arc_ml.azureml_extension) created the Azure Relay).
        A second run with the same keys neither reports a change nor resends them. A new value under the same key (a
        rotated secret, a renewed certificate) is not seen; run once with V(always) to send it.
      - V(always) sends the map on every run, and so always reports a change.
      - V(on_create) sends the map only when the extension is created or re-created.
      - The module keeps nothing of its own on the extension, since the extension resource has no tags, and every
        configuration setting reaches the extension's Helm chart as a value. Earlier versions of this collection
        stored a fingerprint of the protected map in the configuration setting
        C(hciArcMlProtectedSettingsFingerprint). The next run with O(state=present) that knows the complete
        protected map (M(hci.arc_ml.azureml_extension) always does; M(hci.arc_ml.cluster_extension) when
        O(hci.arc_ml.cluster_extension#module:configuration_protected_settings) is set) removes it, by a PUT of the
        whole extension with that map, since a PATCH cannot remove a setting. With V(on_create), or without the
        map, it is left in place, since that PUT would resend or drop the protected settings.
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
