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
attached computes). So the tags others add to the namespace (Azure Policy, people) stay; a new namespace gets az's
tag `created_by` only.

Finding is reading: a run that finds everything makes one GET, of the rule (ARM answers 404 for it when the rule,
its hybrid connection or its namespace is missing). The connection string is a separate request, listKeys, made
only when a write of the extension carries it (_azureml.tasks): listKeys is a POST, which ARM counts against the
caller's write requests, and az k8s-extension update too fetches the string only when it sends protected settings
(`Update` in AzureMLKubernetes.py: `_get_relay_connection_str(..., get_key_only=True)` under
`if len(configuration_protected_settings) > 0`). Paths and api-version: the Relay REST spec, stable 2021-11-01
(https://github.com/Azure/azure-rest-api-specs/blob/main/specification/relay/resource-manager/Microsoft.Relay/stable/2021-11-01/authorizationRules.json:
HybridConnections_GetAuthorizationRule, HybridConnections_ListKeys; Namespaces.json: Namespaces_Get;
hybridConnections.json: HybridConnections_Get).
"""

from __future__ import annotations

import hashlib

from ansible_collections.hci.arc_ml.plugins.module_utils._azure import resource_id as _resource_id
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import AzureApiError, resource_path
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.resource_id import GroupResource
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError

API_VERSION = "2021-11-01"
RULE_NAME = "azureml_rw"
RULE_RIGHTS = ["Manage", "Send", "Listen"]
TAGS = {"created_by": "Azure Arc-enabled ML"}
NAMESPACE_MAX_LENGTH = 50
SUFFIX_LENGTH = 6
# Stands for the connection string while it is not read (no write carries it, or check mode); never sent anywhere.
NOT_READ = "(connection string of the Azure Relay rule, read only for a write that sends it)"


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
    """The outcome of finding the Relay: where it is, and what this run created (or would create, in check mode)."""

    def __init__(self, target, created):
        self.target = target
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


def ensure_relay(arm, target, location, create=True, check_mode=False, waiter=None):
    """Find the hybrid connection's rule with reads, creating what is missing (unless `create` is false).

    No key is read here: read_connection_string() does, for the writes that send it. In check mode an unregistered
    Microsoft.Relay means that none of them exists yet (errors.is_absent).
    """
    missing = _missing(arm, target, check_mode)
    if missing and not create:
        raise ArcMLError(
            f"Azure Relay {', '.join(missing)} not found in resource group {target.resource_group}, and relay.create "
            "is false: create them (namespace, hybrid connection with client authorization, rule with Manage, Send "
            "and Listen rights), correct the relay options, or set relay.create: true."
        )
    if not check_mode:
        for what in missing:
            _create(arm, target, what, location, waiter)
    return Relay(target, missing)


def read_connection_string(arm, target, protect):
    """The rule's primary connection string (POST listKeys), for a write of the extension that sends it.

    `protect(values)` is called with the keys as soon as they are read, before anything else can print them.
    """
    try:
        keys = arm.post(target.rule_path + "/listKeys", API_VERSION) or {}
    except AzureApiError as exc:
        if exc.status == 404:
            # Found (or created) a moment ago: someone deleted it since, or Azure does not list it yet.
            raise ArcMLError(
                f"Azure Relay rule {target.rule} on hybrid connection {target.hybrid_connection_id} was found, but "
                "its keys could not be read (404): it was deleted meanwhile, or is not ready yet. Re-run the task."
            ) from None
        raise
    protect(_secrets(keys))
    if not keys.get("primaryConnectionString"):
        raise ArcMLError(f"Azure returned no primary connection string for the Relay rule {target.rule_path}.")
    return keys["primaryConnectionString"]


def _secrets(keys):
    names = ("primaryConnectionString", "secondaryConnectionString", "primaryKey", "secondaryKey")
    return [keys[name] for name in names if keys.get(name)]


def _missing(arm, target, check_mode=False):
    """Which of namespace, hybrid connection, rule do not exist (everything below a missing parent is missing).

    The rule first: when it exists so do its parents, and that one GET is the whole look-up of a found Relay.
    """
    names = (
        "namespace " + target.namespace,
        "hybrid connection " + target.hybrid_connection,
        "authorization rule " + target.rule,
    )

    def exists(path):
        return arm.get_or_none(path, API_VERSION, check_mode=check_mode) is not None

    if exists(target.rule_path):
        return []
    if not exists(target.namespace_path):
        return list(names)
    if not exists(target.hybrid_connection_path):
        return list(names[1:])
    return list(names[2:])


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
