# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The Azure Relay hybrid connection the Azure ML extension on Arc talks through (Microsoft.Relay, thin REST).

What az k8s-extension does for Microsoft.AzureML.Kubernetes
(https://github.com/Azure/azure-cli-extensions/blob/main/src/k8s-extension/azext_k8s_extension/partner_extensions/AzureMLKubernetes.py):
a namespace named after cluster, subscription and resource group, a hybrid connection named after the cluster that
requires client authorization, the rule `azureml_rw` (Manage, Send, Listen) on it, and that rule's primary
connection string. Found first, created only when missing, never modified (changing the namespace breaks
attached computes). A run that finds everything makes one call: listKeys. So the tags others add to the namespace
(Azure Policy, people) stay; a new namespace gets az's tag `created_by` only.
"""

from __future__ import annotations

import hashlib

from ansible_collections.hci.arc_ml.plugins.module_utils._azure import resource_id as _resource_id
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import AzureApiError, resource_path
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.errors import is_absent
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.resource_id import GroupResource
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError

API_VERSION = "2021-11-01"
RULE_NAME = "azureml_rw"
RULE_RIGHTS = ["Manage", "Send", "Listen"]
TAGS = {"created_by": "Azure Arc-enabled ML"}
NAMESPACE_MAX_LENGTH = 50
SUFFIX_LENGTH = 6
# Stands for the connection string of a Relay that check mode would create; never sent anywhere.
NOT_YET_CREATED = "(connection string of the Relay the task would create)"


def valid_name(text, suffix_length=SUFFIX_LENGTH, max_length=NAMESPACE_MAX_LENGTH):
    """az's _get_valid_name: the letters and digits of `text`; if too long, shortened + md5 prefix of `text`."""
    normalized = "".join(c for c in text if c.isalnum())
    if not normalized:
        raise ArcMLError(f"Cannot derive an Azure Relay namespace name from {text!r}: set relay.namespace.")
    if len(normalized) <= max_length:
        return normalized
    suffix_length = min(suffix_length, max_length)
    # md5 names a resource here (as az does); it protects nothing.
    digest = hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:suffix_length]
    return normalized[: max_length - suffix_length] + digest


def default_namespace(cluster_name, subscription_id, resource_group):
    return valid_name(f"{cluster_name}-{subscription_id}-{resource_group}-relay")


def check_relay_names(resource_group=None, namespace=None, hybrid_connection=None, rule=None, subscription_id=None):
    """Refuse, before any request, a Relay name Azure does not allow in a request path (None: not checked).

    The rules are the Relay spec's (_azure/resource_id.py): namespaceName 6-50 letters, digits and '-', starting
    with a letter and ending with a letter or digit; hybridConnectionName and authorizationRuleName 1-50.
    """
    _resource_id.check_names(
        ("subscription_id", subscription_id, _resource_id.SUBSCRIPTION_ID),
        ("relay.resource_group", resource_group, _resource_id.RESOURCE_GROUP),
        ("relay.namespace", namespace, _resource_id.RELAY_NAMESPACE),
        ("relay.hybrid_connection", hybrid_connection, _resource_id.RELAY_CHILD),
        ("relay.authorization_rule", rule, _resource_id.RELAY_CHILD),
        what="Azure Relay",
    )


class RelayTarget(GroupResource):
    """Where the hybrid connection is (or will be); `check()` before its first request."""

    def __init__(self, subscription_id, resource_group, namespace, hybrid_connection, rule=RULE_NAME):
        super().__init__(subscription_id, resource_group)
        self.namespace = namespace
        self.hybrid_connection = hybrid_connection
        self.rule = rule

    def check(self):
        """Refuse the target, before any request, if one of its names is not allowed in a request path.

        The subscription is the cluster's, checked with the extension's names (_extension.client).
        """
        check_relay_names(self.resource_group, self.namespace, self.hybrid_connection, self.rule)
        return self

    @property
    def namespace_path(self):
        return self.resource_path("Microsoft.Relay", "namespaces", self.namespace)

    @property
    def hybrid_connection_path(self):
        return self.namespace_path + resource_path("hybridConnections", self.hybrid_connection)

    @property
    def rule_path(self):
        return self.hybrid_connection_path + resource_path("authorizationRules", self.rule)

    @property
    def hybrid_connection_id(self):
        return self.resource_id(
            "Microsoft.Relay", "namespaces", self.namespace, "hybridConnections", self.hybrid_connection
        )


class Relay:
    """The outcome: the connection string (None only in check mode before creation) and what was created."""

    def __init__(self, target, connection_string, created):
        self.target = target
        self.connection_string = connection_string
        self.created = created

    def result(self):
        return {
            "namespace": self.target.namespace,
            "resource_group": self.target.resource_group,
            "hybrid_connection": self.target.hybrid_connection,
            "hybrid_connection_id": self.target.hybrid_connection_id,
            "authorization_rule": self.target.rule,
            "created": list(self.created),
        }


def ensure_relay(arm, target, location, create=True, check_mode=False, waiter=None, protect=None):
    """Find the hybrid connection's rule and its keys, creating what is missing (unless `create` is false).

    `protect(values)` is called with the keys as soon as they are read, before anything else can print them.
    In check mode an unregistered Microsoft.Relay means that none of them exists yet (errors.is_absent).
    """
    keys = _list_keys(arm, target, protect, check_mode)
    if keys is not None:
        return Relay(target, keys["primaryConnectionString"], [])
    missing = _missing(arm, target, check_mode)
    if not missing:
        # listKeys said 404, yet everything is there: a race with another run, or eventual consistency.
        raise ArcMLError(
            f"Azure Relay rule {target.rule} on hybrid connection {target.hybrid_connection_id} exists, but its keys "
            "could not be read (404). Re-run the task."
        )
    if not create:
        raise ArcMLError(
            f"Azure Relay {', '.join(missing)} not found in resource group {target.resource_group}, and relay.create "
            "is false: create them (namespace, hybrid connection with client authorization, rule with Manage, Send "
            "and Listen rights), correct the relay options, or set relay.create: true."
        )
    if check_mode:
        return Relay(target, None, missing)
    for what in missing:
        _create(arm, target, what, location, waiter)
    keys = _list_keys(arm, target, protect)
    if keys is None:
        raise ArcMLError(
            f"Created the Azure Relay rule {target.rule} on {target.hybrid_connection_id}, but its keys could not be "
            "read (404). Re-run the task."
        )
    return Relay(target, keys["primaryConnectionString"], missing)


def _list_keys(arm, target, protect, check_mode=False):
    try:
        keys = arm.post(target.rule_path + "/listKeys", API_VERSION) or {}
    except AzureApiError as exc:
        if exc.status == 404 or is_absent(exc, check_mode=check_mode):
            return None
        raise
    if protect is not None:
        protect(_secrets(keys))
    if not keys.get("primaryConnectionString"):
        raise ArcMLError(f"Azure returned no primary connection string for the Relay rule {target.rule_path}.")
    return keys


def _secrets(keys):
    names = ("primaryConnectionString", "secondaryConnectionString", "primaryKey", "secondaryKey")
    return [keys[name] for name in names if keys.get(name)]


def _missing(arm, target, check_mode=False):
    """Which of namespace, hybrid connection, rule do not exist (everything below a missing parent is missing)."""
    checks = (
        ("namespace " + target.namespace, target.namespace_path),
        ("hybrid connection " + target.hybrid_connection, target.hybrid_connection_path),
        ("authorization rule " + target.rule, target.rule_path),
    )
    for index, (_what, path) in enumerate(checks):
        if arm.get_or_none(path, API_VERSION, check_mode=check_mode) is None:
            return [what for what, _path in checks[index:]]
    return []


def _create(arm, target, what, location, waiter):
    if what.startswith("namespace "):
        # The hybrid connection needs the namespace: always wait for it, within the task's deadline.
        arm.put(
            target.namespace_path,
            API_VERSION,
            {"location": location, "tags": dict(TAGS)},
            waiter=waiter,
            final_state_via="azure-async-operation",
        )
    elif what.startswith("hybrid connection "):
        arm.put(target.hybrid_connection_path, API_VERSION, {"properties": {"requiresClientAuthorization": True}})
    else:
        arm.put(target.rule_path, API_VERSION, {"properties": {"rights": list(RULE_RIGHTS)}})
