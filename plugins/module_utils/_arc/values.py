# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The helm values of the Arc agents release.

az connectedk8s passes each value with `--set key=value`; here they all go into one values file (which
HelmRunner writes 0600 and removes), so nothing reaches a command line and no `,` or `/` escaping is
needed. The dotted keys are nested and typed the way `--set` types them, so the chart renders the same.
"""

from __future__ import annotations

import re

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import url_passwords

_INTEGER = re.compile(r"^[-+]?[0-9]+$")


def set_value(text):
    """A string typed as `helm --set` types it: true/false (any case) and null become bool/None, integers int.

    A number with a leading zero stays a string (helm keeps "0123" as text).
    """
    if not isinstance(text, str):
        return text
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    if lowered == "null":
        return None
    if _INTEGER.match(text):
        digits = text.lstrip("+-")
        if digits == "0" or not digits.startswith("0"):
            return int(text)
    return text


def nest(dotted):
    """{'a.b': 'c'} -> {'a': {'b': <typed 'c'>}}: what `--set a.b=c` means."""
    values = {}
    for key, value in dotted.items():
        *parents, leaf = str(key).split(".")
        node = values
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[leaf] = set_value(value)
    return values


def merge(base, override):
    """A deep merge of two values trees; `override` wins."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# global.azureEnvironment, as az connectedk8s computes it (custom.py `send_cloud_telemetry`): the az cloud
# name upper-cased, with the public and US Government clouds renamed "to [the] format that is understood by
# [the] golang SDK" (_constants.py: PublicCloud_OriginalName, Azure_PublicCloudName, USGovCloud_OriginalName,
# Azure_USGovCloudName, Azure_ChinaCloudName):
# https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/custom.py
# https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/_constants.py
# Any other cloud (AzureChinaCloud, a custom cloud such as Azure Stack Hub) keeps its upper-cased name.
AZURE_ENVIRONMENTS = {
    "AZURECLOUD": "AZUREPUBLICCLOUD",
    "AZUREUSGOVERNMENT": "AZUREUSGOVERNMENTCLOUD",
    "AZURECHINACLOUD": "AZURECHINACLOUD",
}


def azure_environment(cloud_name):
    """global.azureEnvironment for the cloud `cloud_name` (the az cloud name; a custom cloud's own name)."""
    name = (cloud_name or "AzureCloud").upper()
    return AZURE_ENVIRONMENTS.get(name, name)


# The proxy values `az connectedk8s connect`/`update` set (update_connected_cluster in custom.py:
# `--set global.httpsProxy=`, `global.httpProxy=`, `global.noProxy=`, `global.isProxyEnabled=True` when any of the
# three is given, `--set-file global.proxyCert=` with `global.isCustomCert=True` for --proxy-cert), and
# Set-AzConnectedKubernetes the same (`$proxyEnableState` only from HttpProxy, HttpsProxy and NoProxy):
# https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/custom.py
# https://github.com/Azure/azure-powershell/blob/main/src/ConnectedKubernetes/ConnectedKubernetes.Autorest/custom/Set-AzConnectedKubernetes.ps1
PROXY_KEYS = ("httpsProxy", "httpProxy", "noProxy", "isProxyEnabled", "proxyCert", "isCustomCert")


class Proxy:
    """Outbound proxy settings for the agents; `ca_cert` is the PEM text of the proxy's CA, not a path."""

    def __init__(self, https_proxy=None, http_proxy=None, no_proxy=None, ca_cert=None):
        self.https_proxy = https_proxy
        self.http_proxy = http_proxy
        self.no_proxy = list(no_proxy or [])
        self.ca_cert = ca_cert

    @property
    def given(self):
        """Whether the task sets anything about the proxy (a CA alone included)."""
        return bool(self.https_proxy or self.http_proxy or self.no_proxy or self.ca_cert)

    @property
    def enabled(self):
        """global.isProxyEnabled: exactly when one of https_proxy, http_proxy, no_proxy is given (not for a CA)."""
        return bool(self.https_proxy or self.http_proxy or self.no_proxy)

    @property
    def secrets(self):
        """Passwords in proxy URLs (http://user:password@proxy:3128): masked wherever they could appear.

        Found whole when they hold `/`, `#`, `?` or `@` unescaped, and in both forms when %-escaped (see
        _common.errors.url_passwords); ArcMLModule already masks them from the start of every run.
        """
        return url_passwords([self.https_proxy, self.http_proxy])

    def values(self):
        """The proxy values the agent chart reads, as az connectedk8s sets them; {} when nothing is given."""
        chart_global = {}
        if self.https_proxy:
            chart_global["httpsProxy"] = self.https_proxy
        if self.http_proxy:
            chart_global["httpProxy"] = self.http_proxy
        if self.no_proxy:
            chart_global["noProxy"] = ",".join(self.no_proxy)
        if self.enabled:
            chart_global["isProxyEnabled"] = True
        if self.ca_cert:
            chart_global["proxyCert"] = self.ca_cert
            chart_global["isCustomCert"] = True
        return {"global": chart_global} if chart_global else {}

    def drift(self, current_values):
        """The proxy values (names under `global`) that the release's values `current_values` do not hold yet.

        `current_values`: the user-supplied values of the azure-arc release (`helm get values`). Only what the
        task sets is compared; a value the task leaves out is left as the release has it.
        """
        current = (current_values or {}).get("global") or {}
        wanted = self.values().get("global", {})
        return [key for key in PROXY_KEYS if key in wanted and not _same_value(wanted[key], current.get(key))]


def proxy_passwords(*urls):
    """The passwords of these proxy URLs (whatever delimiters they hold), raw and percent-decoded."""
    return url_passwords([url for url in urls if isinstance(url, str) and url])


def release_secrets(values):
    """The secrets in an Arc release's values (the onboarding key, proxy passwords): to mask before any output."""
    chart_global = (values or {}).get("global") or {}
    found = proxy_passwords(chart_global.get("httpsProxy"), chart_global.get("httpProxy"))
    key = chart_global.get("onboardingPrivateKey")
    if isinstance(key, str) and key:
        found.append(key)
    return found


def _same_value(wanted, current):
    """helm hands values back typed (true, a number); compare them the way `--set` would type ours."""
    return set_value(wanted) == set_value(current) or str(wanted) == str(current)


def agent_values(
    helm_settings,
    distribution,
    infrastructure,
    cloud_name,
    private_key_pem=None,
    proxy=None,
    cloud_overrides=None,
):
    """The whole values tree for `helm upgrade --install azure-arc`.

    helm_settings: GetHelmSettings' helmValuesContent (dotted keys); private_key_pem: the onboarding
    private key, set as global.onboardingPrivateKey; cloud_overrides: custom_cloud_values().

    Precedence as in az connectedk8s `_utils.helm_install_release`, which passes its own `--set` values
    first, then the custom cloud's endpoint overrides, then every helmValuesContent entry
    (`parse_helm_values`), and helm lets the later `--set` win: the data plane's answer wins over both.
    https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/_utils.py
    The module's own proxy options and the private key (neither of which the data plane answers) come last.
    """
    client = {
        "global.kubernetesDistro": distribution,
        "global.kubernetesInfra": infrastructure,
        "systemDefaultValues.spnOnboarding": "false",
        "global.azureEnvironment": azure_environment(cloud_name),
        "systemDefaultValues.clusterconnect-agent.enabled": "true",
    }
    values = nest({k: v for k, v in client.items() if v is not None})
    if cloud_overrides:
        values = merge(values, nest(cloud_overrides))
    values = merge(values, nest(helm_settings or {}))
    if proxy is not None:
        values = merge(values, proxy.values())
    if private_key_pem:
        # Set after nesting: a PEM must stay text whatever it looks like.
        values = merge(values, {"global": {"onboardingPrivateKey": private_key_pem}})
    return values


def update_values(current_values, helm_settings, proxy=None):
    """The values of `helm upgrade azure-arc` on a connected cluster, as `az connectedk8s update` builds them.

    `helm_update_agent` in _utils.py (and Set-AzConnectedKubernetes) passes the release's own values first
    (`helm get values azure-arc` written to a file, `-f` it), then every helmValuesContent entry of
    GetHelmSettings as `--set` (they win), then the changed settings; the onboarding key and everything the
    release was installed with stay as they are.
    https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/_utils.py
    https://github.com/Azure/azure-powershell/blob/main/src/ConnectedKubernetes/ConnectedKubernetes.Autorest/custom/Set-AzConnectedKubernetes.ps1
    """
    values = merge(dict(current_values or {}), nest(helm_settings or {}))
    if proxy is not None:
        values = merge(values, proxy.values())
    return values


def custom_cloud_values(metadata, resource, location, registry_host):
    """The endpoint overrides az connectedk8s adds when the cloud metadata names an Arc config endpoint
    (disconnected Azure Local, sovereign clouds). {} for a cloud without one.

    metadata: the /metadata/endpoints document; resource: the connected cluster (for its identity).
    """
    dataplane = (metadata or {}).get("dataplaneEndpoints") or {}
    config_endpoint = dataplane.get("arcConfigEndpoint")
    if not config_endpoint:
        return {}
    principal_id = ((resource or {}).get("identity") or {}).get("principalId")
    values = {
        "systemDefaultValues.azureResourceManagerEndpoint": (metadata.get("resourceManager") or "").rstrip("/"),
        "systemDefaultValues.azureArcAgents.config_dp_endpoint_override": config_endpoint,
        "systemDefaultValues.activeDirectoryEndpoint": ((metadata.get("authentication") or {}).get("loginEndpoint")),
        "systemDefaultValues.image.repository": registry_host,
    }
    if principal_id:
        values["global.kubeAadEndpoint"] = f"{principal_id}.k8sproxysvc.connectrp.azs"
    notification = dataplane.get("arcGlobalNotificationServiceEndpoint")
    if notification:
        values["systemDefaultValues.clusterconnect-agent.notification_dp_endpoint_override"] = notification
    relay_suffix = (metadata.get("suffixes") or {}).get("relayEndpointSuffix")
    if relay_suffix:
        values["systemDefaultValues.clusterconnect-agent.relay_endpoint_suffix_override"] = relay_suffix
    identity_service = dataplane.get("arcHybridIdentityServiceEndpoint")
    if identity_service:
        values["systemDefaultValues.clusteridentityoperator.his_endpoint_override"] = (
            f"{identity_service.rstrip('/')}/discovery?location={location}&api-version=1.0-preview"
        )
    # What the metadata does not name is left to the chart's defaults.
    return {key: value for key, value in values.items() if value}
