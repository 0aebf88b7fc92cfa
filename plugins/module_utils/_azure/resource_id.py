# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The ARM id of a resource in a resource group, as Azure writes it and as a request path.

/subscriptions/<subscription>/resourceGroups/<group>/providers/<provider>/<type>/<name>, followed by the
type and name of each child resource (`hybridConnections/<name>`, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import resource_path
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError


# eq=False: subclasses that are not dataclasses themselves keep comparing by identity.
@dataclass(eq=False)
class GroupResource:
    """A resource in one resource group of one subscription; subclasses name its provider, type and name."""

    subscription_id: str
    resource_group: str

    def _segments(self, provider, types_and_names):
        group = ("subscriptions", self.subscription_id, "resourceGroups", self.resource_group, "providers", provider)
        return group + tuple(types_and_names)

    def resource_id(self, provider, *types_and_names):
        """The ARM id as Azure writes it (in settings, in other resources' bodies): segments as they are."""
        return "/" + "/".join(self._segments(provider, types_and_names))

    def resource_path(self, provider, *types_and_names):
        """The ARM id as a request path: every segment percent-encoded."""
        return resource_path(*self._segments(provider, types_and_names))


# Every name that becomes a segment of an ARM request path is checked here first, with an anchored full match
# (re.fullmatch: `$` with re.match also matches before a final "\n"). Percent-encoding a segment (arm.resource_path)
# does not make it safe: servers and proxies normalise `%2E%2E` back to `..`, so `..` or `.` would address the
# parent resource, and `#` or `?` would cut the path. A bad name fails with one line that names the option, the
# value and the rule, before any request.
_DOT_SEGMENTS = (".", "..")
_NEVER = re.compile(r"[/\\#?%\x00-\x1f\x7f]")


class InvalidNameError(ArcMLError):
    """A name that would reach an ARM request path and that Azure does not allow; raised before any request."""


@dataclass(frozen=True)
class NameRule:
    """An anchored pattern with length bounds, the rule in words, and where the rule comes from."""

    what: str
    pattern: str
    min_length: int
    max_length: int
    text: str

    def problem(self, option, value):
        """None when `value` is allowed, else the one-line reason (option, repr of the value and the rule)."""
        text = value if isinstance(value, str) else None
        if (
            text is None
            or not self.min_length <= len(text) <= self.max_length
            or text in _DOT_SEGMENTS
            or _NEVER.search(text)
            or not re.fullmatch(self.pattern, text)
        ):
            return f"{option} {value!r} is not a valid {self.what}: {self.text}"
        return None


# subscriptionId: a GUID (common-types v5 SubscriptionIdParameter, "format": "uuid"):
# https://github.com/Azure/azure-rest-api-specs/blob/main/specification/common-types/resource-management/v5/types.json
SUBSCRIPTION_ID = NameRule(
    "subscription id",
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    36,
    36,
    "a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
)
# resourceGroupName: pattern ^[-\w\._\(\)]+$, minLength 1, maxLength 90 (common-types v5 ResourceGroupNameParameter,
# same URL as above); "period (except at end)" from the resource groups API's description of the parameter
# (specification/resources/resource-manager/Microsoft.Resources/stable/2022-09-01/resources.json).
RESOURCE_GROUP = NameRule(
    "resource group name",
    r"[-\w._()]*[-\w_()]",
    1,
    90,
    "1-90 characters of letters, digits, '.', '_', '-', '(' and ')', not ending in '.' "
    "(the resourceGroupName rule of the ARM specs)",
)
# connectedClusters clusterName (no pattern in the 2026-05-01 hybridkubernetes spec,
# https://github.com/Azure/azure-rest-api-specs/blob/main/specification/hybridkubernetes/resource-manager/Microsoft.Kubernetes/stable/2026-05-01/connectedClusters.json)
# and AKS resourceName (^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$, maxLength 63, containerservice
# spec): 1-63 characters, letters, digits, '-' and '_', a letter or digit at both ends.
CLUSTER_NAME = NameRule(
    "cluster name",
    r"[a-zA-Z0-9](?:[-_a-zA-Z0-9]{0,61}[a-zA-Z0-9])?",
    1,
    63,
    "1-63 characters of letters, digits, '-' and '_', starting and ending with a letter or digit",
)
# extensionName: no pattern in the kubernetesconfiguration spec ("pattern validation exists in RP"):
# https://github.com/Azure/azure-rest-api-specs/blob/main/specification/kubernetesconfiguration/resource-manager/Microsoft.KubernetesConfiguration/extensions/stable/2024-11-01/extensions.json
# The extension also names its Helm release in the cluster: letters, digits, '-', '.' and '_', a letter or digit at
# both ends, at most 253 characters.
EXTENSION_NAME = NameRule(
    "extension name",
    r"[a-zA-Z0-9](?:[-._a-zA-Z0-9]*[a-zA-Z0-9])?",
    1,
    253,
    "1-253 characters of letters, digits, '-', '.' and '_', starting and ending with a letter or digit",
)
# Relay namespaceName: minLength 6, maxLength 50; "The namespace name can contain only letters, numbers, and
# hyphens. The namespace must start with a letter, and it must end with a letter or number." (CheckNameAvailability):
# https://github.com/Azure/azure-rest-api-specs/blob/main/specification/relay/resource-manager/Microsoft.Relay/2017-04-01/relay.json
RELAY_NAMESPACE = NameRule(
    "Azure Relay namespace name",
    r"[a-zA-Z][-a-zA-Z0-9]*[a-zA-Z0-9]",
    6,
    50,
    "6-50 characters of letters, digits and '-', starting with a letter and ending with a letter or digit",
)
# Relay hybridConnectionName and authorizationRuleName: minLength 1, maxLength 50 (same file); characters as in
# the Relay names Azure creates (azureml_rw, the cluster's name).
RELAY_CHILD = NameRule(
    "Azure Relay name",
    r"[a-zA-Z0-9](?:[-._a-zA-Z0-9]*[a-zA-Z0-9])?",
    1,
    50,
    "1-50 characters of letters, digits, '-', '.' and '_', starting and ending with a letter or digit",
)
# workspaceName: ^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$ (machinelearningservices spec, the workspaceName path parameter;
# terraform-provider-azurerm validates AI Foundry project names, which are ML workspaces, with the same pattern):
# https://github.com/Azure/azure-rest-api-specs/blob/main/specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/stable/2025-12-01/machineLearningServices.json
WORKSPACE_NAME = NameRule(
    "workspace name",
    r"[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}",
    3,
    33,
    "3-33 characters, letters, digits, '_' and '-', starting with a letter or digit",
)
# resourceProviderNamespace: no pattern in the resources spec
# (https://github.com/Azure/azure-rest-api-specs/blob/main/specification/resources/resource-manager/Microsoft.Resources/stable/2022-09-01/resources.json);
# every namespace is dot-separated words of letters and digits (Microsoft.Kubernetes, 84codes.CloudAMQP).
PROVIDER_NAMESPACE = NameRule(
    "resource provider namespace",
    r"[a-zA-Z0-9]+(?:\.[a-zA-Z0-9]+)+",
    3,
    128,
    "words of letters and digits joined by '.', such as Microsoft.Kubernetes",
)
# location: an Azure region's name (eastus, westeurope) or display name (East US); it names the regional Arc
# config data plane host (https://<location>.dp.kubernetesconfiguration.azure.com, az connectedk8s).
LOCATION = NameRule(
    "Azure location",
    r"[a-zA-Z0-9]+(?: [a-zA-Z0-9]+)*",
    1,
    64,
    "an Azure region such as eastus or 'East US': letters and digits, words separated by single spaces",
)


def name_problems(*checks):
    """The problems of (option, value, rule) triples; a None value is skipped (an option not given)."""
    return [
        rule.problem(option, value)
        for option, value, rule in checks
        if value is not None and rule.problem(option, value)
    ]


def check_names(*checks, what="request", error=InvalidNameError):
    """Raise `error` naming every bad (option, value, rule); None values are not checked."""
    problems = name_problems(*checks)
    if problems:
        raise error("Invalid {}: {}. Nothing was sent to Azure.".format(what, "; ".join(problems)))
