# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Write-only protected settings: when to send them again.

What the Microsoft.KubernetesConfiguration extension resource offers (REST spec, stable 2024-11-01,
https://github.com/Azure/azure-rest-api-specs/blob/main/specification/kubernetesconfiguration/resource-manager/Microsoft.KubernetesConfiguration/extensions/stable/2024-11-01/extensions.json):

- `configurationProtectedSettings` is `x-ms-secret`: Azure never returns its values. What a GET shows instead
  is the keys (with null or empty values), or nothing at all (the spec's GetExtension example omits the field).
- The Extension is a ProxyResource: it has no `tags`, and no free-form field besides `configurationSettings`,
  and every configuration setting is handed to the extension's Helm chart as a value. So the collection keeps
  nothing of its own on the extension: an earlier version kept a PBKDF2 fingerprint of the protected map in the
  setting LEGACY_FINGERPRINT_KEY, which reached the chart and anyone with read access; `legacy_keys()` names
  it so that the extension task removes it.
- A PATCH that carries `configurationProtectedSettings` replaces the whole map (the az CLI's AzureMLKubernetes
  `Update` re-fetches and re-sends the Relay and Service Bus strings for that reason:
  https://github.com/Azure/azure-cli-extensions/blob/main/src/k8s-extension/azext_k8s_extension/partner_extensions/AzureMLKubernetes.py).

So the policy (`protected_settings_update`) compares what can be compared, the keys:

- `when_changed` (default): the map is sent when the keys it has differ from the keys Azure lists (a key
  added or removed, or Azure lists none), or when the task knows that a value changed (`reason`: for example
  azureml_extension created a new Azure Relay, and with it a new connection string). A changed value under
  the same keys is not seen: use `always` to send it.
- `always`: the map is sent on every run (and every run reports a change).
- `on_create`: the map is sent only when the extension is created (or re-created).
"""

from __future__ import annotations

# The configuration setting earlier versions of the collection wrote (a salted PBKDF2-SHA256 digest of the protected
# map); the extension task removes it.
LEGACY_FINGERPRINT_KEY = "hciArcMlProtectedSettingsFingerprint"
LEGACY_KEYS = (LEGACY_FINGERPRINT_KEY,)
POLICIES = ("when_changed", "always", "on_create")


class Decision:
    """Whether to send the protected settings, and why (a line without any value)."""

    def __init__(self, send, reason=None):
        self.send = send
        self.reason = reason

    def __repr__(self):
        return f"Decision(send={self.send!r}, reason={self.reason!r})"


def listed_keys(properties):
    """The protected setting keys the extension's properties list (values are redacted: None or '')."""
    return set((properties.get("configurationProtectedSettings") or {}).keys())


def legacy_keys(settings):
    """The configuration settings an earlier version of the collection wrote, present in `settings`."""
    return [key for key in LEGACY_KEYS if key in (settings or {})]


def decide(policy, desired, current_properties, reason=None):
    """What to do with the protected settings of an existing extension.

    `desired` is the complete map the task wants (None: the task does not manage protected settings);
    `current_properties` the extension's properties as Azure returns them; `reason` why the task knows a value
    changed (None: it does not know).
    """
    if desired is None:
        return Decision(False)
    if policy not in POLICIES:
        raise ValueError(f"unknown protected settings policy {policy!r}")
    if policy == "on_create":
        return Decision(False)
    if policy == "always":
        return Decision(True, "protected_settings_update is 'always'")
    if reason:
        return Decision(True, reason)
    current = listed_keys(current_properties)
    if current == set(desired):
        return Decision(False)
    if not current:
        return Decision(True, "Azure lists no protected setting keys")
    return Decision(True, f"the protected setting keys differ (Azure lists {', '.join(sorted(current))})")
