# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""What a cluster extension should look like, and the PUT body or PATCH that gets it there (no I/O).

The service's rules decide the shape of a change (the PATCH schema in
https://github.com/Azure/azure-rest-api-specs/blob/main/specification/kubernetesconfiguration/resource-manager/Microsoft.KubernetesConfiguration/stable/2023-05-01/extensions.json;
the merge rules in https://learn.microsoft.com/azure/machine-learning/how-to-deploy-kubernetes-extension):
- `extensionType`, `scope` (release / target namespace) and `identity` cannot change: the extension must be
  deleted and created again (`recreate`);
- a PATCH may carry only autoUpgradeMinorVersion, releaseTrain, version, configurationSettings and
  configurationProtectedSettings; configurationSettings are merged key by key (a key cannot be removed),
  configurationProtectedSettings replace the whole map;
- `version` is refused while autoUpgradeMinorVersion is true.
So a PATCH names exactly the fields and setting keys that differ, and nothing else.

The one thing a PATCH cannot do is remove a configuration setting. The extension is then PUT again, whole:
the spec's Extensions_Create answers 200 for "an existing resource", and `az k8s-extension create` on an
existing extension was the CLI's own way to update one
(https://github.com/Azure/azure-cli-extensions/blob/main/src/k8s-extension/azext_k8s_extension/custom.py,
`update_k8s_extension`: "Use ... create to update a previously created extension instance"). The collection
needs that only to remove the setting earlier versions of it wrote (_extension.protected.LEGACY_KEYS), and
only when it has the complete protected map to send with the PUT (a PUT replaces the protected settings too).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._extension import protected as protected_policy

TERMINAL_STATES = ("Succeeded", "Failed", "Canceled")
_BOOLEAN_WORDS = ("true", "false")
VERSION_NEEDS_PINNING = "To pin to specific version, auto-upgrade-minor-version must be set to 'false'."


def setting_value(key, value, what="configuration_settings"):
    """A configuration setting value as the service stores it: a string (booleans as True/False, as az does)."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    kind = "null" if value is None else type(value).__name__
    raise ArcMLError(
        f"{what}: the value of {key!r} is a {kind}; extension settings are strings, numbers or booleans. "
        "Quote the value, or flatten nested values into dotted keys (a.b.c)."
    )


def normalize_settings(settings, what="configuration_settings"):
    """A copy of `settings` with string keys and string values; None stays None (not managed)."""
    if settings is None:
        return None
    normalized = {}
    for key, value in settings.items():
        if not isinstance(key, str) or not key:
            raise ArcMLError(f"{what}: setting names must be non-empty strings, got {key!r}.")
        normalized[key] = setting_value(key, value, what)
    return normalized


# Secrets in plain configuration settings (plain_secrets). A configuration setting is returned by every GET of the
# extension to anyone with read access to it, and is handed to the extension's Helm chart as a value; only
# configurationProtectedSettings are `x-ms-secret` (never returned). Keys az k8s-extension itself only ever puts in
# the protected settings, lower-cased -> what they hold:
# - AzureMLKubernetes.py
#   (https://github.com/Azure/azure-cli-extensions/blob/main/src/k8s-extension/azext_k8s_extension/partner_extensions/AzureMLKubernetes.py):
#   `__create_required_resource` writes the Relay and Service Bus connection strings and the Log Analytics shared key
#   to `configuration_protected_settings` (RELAY_SERVER_CONNECTION_STRING, SERVICE_BUS_CONNECTION_STRING,
#   AZURE_LOG_ANALYTICS_CONNECTION_STRING), `_dereference` copies them to RELAY_CONNECTION_STRING_KEY and
#   SERVICE_BUS_CONNECTION_STRING_KEY (earlier versions also to RELAY_CONNECTION_STRING_DEPRECATED_KEY,
#   'RelayConnectionString'), `sslKeyPemFile` is read from the protected settings only, and
#   `__set_inference_ssl_from_file` puts the base64 private key in protected `scoringFe.sslKey`;
# - the REST spec's example CreateExtension.json
#   (https://github.com/Azure/azure-rest-api-specs/blob/main/specification/kubernetesconfiguration/resource-manager/Microsoft.KubernetesConfiguration/stable/2023-05-01/examples/CreateExtension.json)
#   sends the Log Analytics workspace key `omsagent.secret.key` as a protected setting (and the workspace id
#   `omsagent.secret.wsid` as a plain one).
_RELAY = "an Azure Relay connection string"
_SERVICE_BUS = "a Service Bus connection string"
_LOG_ANALYTICS = "a Log Analytics workspace key"
PROTECTED_ONLY_KEYS = {
    "relayserverconnectionstring": _RELAY,
    "relayserver.relayconnectionstring": _RELAY,
    "relayconnectionstring": _RELAY,
    "servicebusconnectionstring": _SERVICE_BUS,
    "servicebus.connectionstring": _SERVICE_BUS,
    "azure_log_analytics.connection_string": _LOG_ANALYTICS,
    "omsagent.secret.key": _LOG_ANALYTICS,
    "sslkeypemfile": "the SSL private key file, which az reads from the protected settings only",
    "scoringfe.sslkey": "the SSL private key",
}
# The last dotted part of a key, lower-cased without '_' and '-', ending with one of these, holds a secret (unless
# its value is empty or a boolean word: `enablePassword: false`). Endings, so that `keyVaultName`,
# `passwordSecretName`, `sslSecret` (a Kubernetes Secret's name) or `omsagent.secret.wsid` are not matched.
SECRET_KEY_ENDINGS = (
    ("password", "a password"),
    ("passwd", "a password"),
    ("passphrase", "a passphrase"),
    ("clientsecret", "a client secret"),
    ("connectionstring", "a connection string"),
    ("accountkey", "a storage account key"),
    ("accesskey", "an access key"),
    ("secretkey", "a secret key"),
    ("sharedkey", _LOG_ANALYTICS),
    ("workspacekey", _LOG_ANALYTICS),
    ("privatekey", "a private key"),
    ("apikey", "an API key"),
    ("sastoken", "a SAS token"),
    ("accesstoken", "an access token"),
)
# Values that are secrets whatever their key: (pattern, what it is).
SECRET_VALUE_SHAPES = (
    (
        re.compile(r"SharedAccessKey\s*=\s*[^;\s]", re.I),
        "a connection string with its SharedAccessKey (Azure Relay, Service Bus or Event Hubs)",
    ),
    (re.compile(r"AccountKey\s*=\s*[^;\s]", re.I), "a storage connection string with its AccountKey"),
    (re.compile(r"SharedAccessSignature\s*=\s*[^;\s]", re.I), "a connection string with a SharedAccessSignature"),
    (re.compile(r"(^|[?&])sig=[^&\s]", re.I), "a SAS token (sig=)"),
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"), "a PEM private key"),
    (re.compile(r"(^|;)\s*(password|pwd)\s*=\s*[^;\s]", re.I), "a connection string with a password"),
    (re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.I), "a URL with a password"),
)
# base64 of "-----BEGIN": a base64-encoded PEM block, decoded to look for a private key.
_BASE64_PEM = "LS0tLS1CRUdJTi"


def _strings(value):
    """The strings in a setting value (nested values too: normalize_settings refuses them later, but the module
    arguments Ansible echoes back on that failure would show them)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield str(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _value_shape(text):
    for pattern, what in SECRET_VALUE_SHAPES:
        if pattern.search(text):
            return what
    stripped = text.strip()
    if stripped.startswith(_BASE64_PEM):
        try:
            decoded = base64.b64decode(stripped, validate=False).decode("ascii", errors="replace")
        except (binascii.Error, ValueError):
            return None
        if "PRIVATE KEY-----" in decoded:
            return "a base64-encoded PEM private key"
    return None


def _key_meaning(key):
    lowered = key.lower()
    if lowered in PROTECTED_ONLY_KEYS:
        return PROTECTED_ONLY_KEYS[lowered]
    last = lowered.rsplit(".", 1)[-1].replace("_", "").replace("-", "")
    for ending, what in SECRET_KEY_ENDINGS:
        if last.endswith(ending):
            return what
    return None


def plain_secrets(settings):
    """[(key, what it holds, the strings to mask)] for the settings in `settings` that hold a secret (no I/O).

    A secret is recognised by its key (PROTECTED_ONLY_KEYS, SECRET_KEY_ENDINGS; not when the value is empty or a
    boolean word) or by the shape of its value (SECRET_VALUE_SHAPES, a base64 PEM private key). `settings` are the
    settings as the user gave them (any value type): the check comes before anything else can fail.
    """
    found = []
    for key, value in (settings or {}).items():
        strings = [text for text in _strings(value) if text.strip()]
        what = next((shape for shape in map(_value_shape, strings) if shape), None)
        scalar = strings and not isinstance(value, (dict, list, tuple))
        if what is None and scalar and strings[0].strip().lower() not in _BOOLEAN_WORDS:
            what = _key_meaning(str(key))
        if what is not None:
            found.append((str(key), what, tuple(strings)))
    return found


def same_value(current, desired, case_insensitive=False):
    """Whether a stored setting value already says what `desired` says.

    Booleans are compared without regard to case (True, true and TRUE mean the same to the charts);
    other values exactly, unless the key is one whose values are case-insensitive (ARM ids).
    """
    if current == desired:
        return True
    if current is None or desired is None:
        return False
    if case_insensitive or (current.lower() in _BOOLEAN_WORDS and desired.lower() in _BOOLEAN_WORDS):
        return current.lower() == desired.lower()
    return False


class ExtensionSpec:
    """The desired extension.

    None means "not managed": on create the service default applies, on update the field is not compared.
    `create_only_settings` are sent when the extension is created and never compared afterwards (settings
    derived from the cluster's size at install time). `default_release_train` is sent on create only.
    """

    def __init__(
        self,
        extension_type,
        scope=None,
        release_namespace=None,
        target_namespace=None,
        auto_upgrade_minor_version=None,
        release_train=None,
        default_release_train=None,
        version=None,
        settings=None,
        create_only_settings=None,
        protected=None,
        identity=None,
        case_insensitive_keys=(),
        protected_reason=None,
    ):
        self.extension_type = extension_type
        self.scope = scope
        self.release_namespace = release_namespace
        self.target_namespace = target_namespace
        self.auto_upgrade_minor_version = auto_upgrade_minor_version
        self.release_train = release_train
        self.default_release_train = default_release_train
        self.version = version
        self.settings = dict(settings or {})
        self.create_only_settings = dict(create_only_settings or {})
        self.protected = None if protected is None else dict(protected)
        self.identity = identity
        self.case_insensitive_keys = frozenset(case_insensitive_keys)
        # Why the task knows a protected value changed (for example a new Azure Relay), or None.
        self.protected_reason = protected_reason

    @property
    def wanted_auto_upgrade(self):
        """autoUpgradeMinorVersion as the task wants it; a pinned version implies false (as az does)."""
        if self.auto_upgrade_minor_version is None and self.version:
            return False
        return self.auto_upgrade_minor_version

    def check(self):
        """The rules the service would otherwise reject after the fact (az's common validations)."""
        if self.version and self.auto_upgrade_minor_version:
            raise ArcMLError(
                f"{VERSION_NEEDS_PINNING} Set auto_upgrade_minor_version to false to pin version {self.version}, "
                "or leave version unset."
            )
        if self.scope == "cluster" and self.target_namespace:
            raise ArcMLError(
                "When --scope is 'cluster', --target-namespace must not be given. Set scope to namespace to use "
                "target_namespace, or remove target_namespace."
            )
        if self.scope == "namespace" and self.release_namespace:
            raise ArcMLError(
                "When --scope is 'namespace', --release-namespace must not be given. Set scope to cluster to use "
                "release_namespace, or remove release_namespace."
            )
        reserved = protected_policy.legacy_keys(self.settings) + protected_policy.legacy_keys(self.protected)
        if reserved:
            raise ArcMLError(
                f"{reserved[0]} is a setting earlier versions of this collection wrote, and the module removes it "
                "from the extension; remove it from the settings."
            )
        duplicates = sorted(set(self.settings) & set(self.protected or {}))
        if duplicates:
            raise ArcMLError(
                "These keys are in both configuration_settings and configuration_protected_settings: "
                f"{', '.join(duplicates)}. Keep each key in one of them."
            )


def _scope_of(properties):
    scope = properties.get("scope") or {}
    if scope.get("namespace"):
        return "namespace", (scope["namespace"] or {}).get("targetNamespace")
    return "cluster", (scope.get("cluster") or {}).get("releaseNamespace")


def immutable_differences(current, spec):
    """[(what, current value, wanted value)] for the fields a PATCH cannot change."""
    properties = current.get("properties") or {}
    differences = []
    current_type = properties.get("extensionType") or ""
    if spec.extension_type and current_type.lower() != spec.extension_type.lower():
        differences.append(("extension type", current_type, spec.extension_type))
    kind, namespace = _scope_of(properties)
    if spec.scope and spec.scope != kind:
        differences.append(("scope", kind, spec.scope))
    elif kind == "cluster" and spec.release_namespace and spec.release_namespace != namespace:
        differences.append(("release namespace", namespace, spec.release_namespace))
    elif kind == "namespace" and spec.target_namespace and spec.target_namespace != namespace:
        differences.append(("target namespace", namespace, spec.target_namespace))
    return differences


def settings_changes(current_settings, desired, case_insensitive_keys=frozenset()):
    """The desired settings whose stored value differs (or that are missing), in the desired order."""
    current_settings = current_settings or {}
    return {
        key: value
        for key, value in desired.items()
        if not same_value(current_settings.get(key), value, key in case_insensitive_keys)
    }


def versioning_patch(properties, spec):
    """autoUpgradeMinorVersion / releaseTrain / version fields that differ.

    `version` is sent only to pin with auto-upgrade off. Turning auto-upgrade on over a pinned version
    sends `version: null` with it, because the service refuses a version while auto-upgrade is on.
    """
    patch = {}
    current_auto = properties.get("autoUpgradeMinorVersion")
    current_auto = True if current_auto is None else bool(current_auto)
    wanted_auto = spec.wanted_auto_upgrade
    if wanted_auto is not None and wanted_auto != current_auto:
        patch["autoUpgradeMinorVersion"] = wanted_auto
    auto = current_auto if wanted_auto is None else wanted_auto
    if spec.release_train and (properties.get("releaseTrain") or "").lower() != spec.release_train.lower():
        patch["releaseTrain"] = spec.release_train
    if auto:
        if properties.get("version") and "autoUpgradeMinorVersion" in patch:
            patch["version"] = None
    elif spec.version and spec.version != properties.get("version"):
        patch["version"] = spec.version
    return patch


@dataclass
class Plan:
    """What an existing extension needs: `patch` (PATCH properties, empty when nothing), `changes` (one line
    per difference, no secret), `immutable` (differences only a re-create can apply), `replace` (the PUT body
    that replaces the extension instead of the PATCH, to remove a setting; None when a PATCH does)."""

    patch: dict
    changes: list
    immutable: list
    replace: dict = None

    @property
    def needed(self):
        return bool(self.patch) or self.replace is not None


def plan_update(current, spec, policy="when_changed"):
    """The PATCH that brings `current` (the extension as Azure returns it) to `spec`."""
    properties = current.get("properties") or {}
    immutable = immutable_differences(current, spec)
    patch = versioning_patch(properties, spec)
    changes = [f"{field}: {_show(properties.get(field))} -> {_show(value)}" for field, value in patch.items()]
    current_settings = properties.get("configurationSettings") or {}
    settings = settings_changes(current_settings, spec.settings, spec.case_insensitive_keys)
    changes.extend(
        f"configurationSettings.{key}: {_show(current_settings.get(key))} -> {_show(value)}"
        for key, value in settings.items()
    )
    decision = protected_policy.decide(policy, spec.protected, properties, spec.protected_reason)
    if decision.send:
        patch["configurationProtectedSettings"] = dict(spec.protected)
        keys = ", ".join(sorted(spec.protected)) or "none"
        changes.append(f"configurationProtectedSettings: sent again ({decision.reason}); keys: {keys}")
    if settings:
        patch["configurationSettings"] = settings
    replace = None
    legacy = protected_policy.legacy_keys(current_settings)
    # A PUT replaces the protected settings as well: only with the complete map, and never under on_create.
    if legacy and spec.protected is not None and policy != "on_create":
        replace = replace_body(current, patch, legacy, spec.protected)
        changes.extend(
            f"configurationSettings.{key}: removed (a setting earlier versions of this collection wrote; the "
            "extension is PUT again without it, with its protected settings)"
            for key in legacy
        )
    return Plan(patch, changes, immutable, replace)


def _without_nulls(value):
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    return value


def replace_body(current, patch, removed, protected):
    """The PUT body of `current` with `patch` applied, without the settings `removed`, and with the complete
    `protected` map (the PUT replaces the whole extension, so everything it keeps must be in the body)."""
    properties = current.get("properties") or {}
    auto = patch.get("autoUpgradeMinorVersion", properties.get("autoUpgradeMinorVersion"))
    body_properties = {"extensionType": properties.get("extensionType")}
    if auto is not None:
        body_properties["autoUpgradeMinorVersion"] = auto
    release_train = patch.get("releaseTrain", properties.get("releaseTrain"))
    if release_train:
        body_properties["releaseTrain"] = release_train
    version = patch["version"] if "version" in patch else properties.get("version")
    if version and auto is False:
        body_properties["version"] = version
    if properties.get("scope"):
        body_properties["scope"] = _without_nulls(properties["scope"])
    settings = dict(properties.get("configurationSettings") or {})
    for key in removed:
        settings.pop(key, None)
    settings.update(patch.get("configurationSettings") or {})
    body_properties["configurationSettings"] = settings
    body_properties["configurationProtectedSettings"] = dict(protected)
    body = {"properties": body_properties}
    identity_type = (current.get("identity") or {}).get("type")
    if identity_type:
        body["identity"] = {"type": identity_type}
    if current.get("plan"):
        body["plan"] = dict(current["plan"])
    return body


def create_body(spec, cluster_type, policy="when_changed"):
    """The PUT body of a new extension: the spec's settings and protected settings, nothing of the collection's.

    `policy` does not change the body: every policy sends the protected settings on create.
    """
    properties = {"extensionType": spec.extension_type}
    if spec.wanted_auto_upgrade is not None:
        properties["autoUpgradeMinorVersion"] = spec.wanted_auto_upgrade
    release_train = spec.release_train or spec.default_release_train
    if release_train:
        properties["releaseTrain"] = release_train
    if spec.version:
        properties["version"] = spec.version
    if spec.scope == "namespace":
        target = {"targetNamespace": spec.target_namespace} if spec.target_namespace else {}
        properties["scope"] = {"namespace": target}
    elif spec.scope == "cluster" or spec.release_namespace:
        # Without a release namespace the service picks one (the extension type's default).
        release = {"releaseNamespace": spec.release_namespace} if spec.release_namespace else {}
        properties["scope"] = {"cluster": release}
    settings = dict(spec.create_only_settings)
    settings.update(spec.settings)
    properties["configurationSettings"] = settings
    if spec.protected is not None:
        properties["configurationProtectedSettings"] = dict(spec.protected)
    body = {"properties": properties}
    if spec.identity and cluster_type == "connectedClusters":
        body["identity"] = dict(spec.identity)
    return body


def apply_patch(current, patch, replace=None):
    """The extension as it will be after `patch`, or after the PUT `replace` (for check mode and --diff)."""
    after = dict(current)
    properties = dict(current.get("properties") or {})
    if replace is not None:
        properties.update(replace["properties"])
        replaced = replace["properties"]
        properties["configurationProtectedSettings"] = dict.fromkeys(replaced["configurationProtectedSettings"])
        properties["version"] = replaced.get("version")
        after["properties"] = properties
        return after
    for field in ("autoUpgradeMinorVersion", "releaseTrain", "version"):
        if field in patch:
            properties[field] = patch[field]
    if "configurationSettings" in patch:
        merged = dict(properties.get("configurationSettings") or {})
        merged.update(patch["configurationSettings"])
        properties["configurationSettings"] = merged
    if "configurationProtectedSettings" in patch:
        properties["configurationProtectedSettings"] = dict.fromkeys(patch["configurationProtectedSettings"])
    after["properties"] = properties
    return after


def _show(value):
    return "(unset)" if value is None else repr(value)
