# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Which Azure cloud to talk to: the `cloud_environment` option.

A known cloud name resolves from the table below without any request. Anything else must be the https
URL of an ARM endpoint (Azure Stack Hub, disconnected Azure Local, a sovereign cloud, the sandbox): its
`/metadata/endpoints?api-version=2022-09-01` document names the login endpoint, the token audiences and,
where the cloud has one, the Arc configuration data-plane endpoint (`dataplaneEndpoints.arcConfigEndpoint`).

That document comes from the host the user named, but it decides where the client secret or password goes
(the login endpoint) and what the token handed to that host is good for (the audience). So before anything
is sent, `check_trust` holds it to these rules (a refusal is one line naming the endpoint, its host and the
option to set):
- every endpoint we send a secret or token to is https;
- the login endpoint's host is the ARM host itself, a known Entra ID login host (MSAL's list of Microsoft
  authority hosts), or one the user lists in `trusted_login_hosts`: an AD FS on another host of the same
  domain (Azure Stack Hub's `adfs.<region>.<fqdn>`) must be listed;
- when Entra ID issues the token (a known login host), its audience must identify this cloud: the ARM host,
  a host in `trusted_audience_hosts`, or the form Azure Stack Hub registers for its Resource Manager
  (`https://management.<its domain>/<GUID>`), never a Microsoft service's (Graph, Key Vault, the public ARM):
  a token for those would work against them. A token from the cloud's own login endpoint (its host, or a
  trusted one) is only good in that cloud, so any https audience is accepted then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError

METADATA_API_VERSION = "2022-09-01"


class CloudError(ArcMLError):
    """cloud_environment names no known cloud, or its metadata cannot be read or understood."""


@dataclass(repr=False)
class Cloud:
    """The endpoints of one Azure cloud that the modules need."""

    name: str
    resource_manager: str
    login_endpoint: str
    audiences: tuple
    arc_config_endpoint: str | None = None
    # A custom cloud's login endpoint is unknown to Entra ID instance discovery, which would fail.
    custom: bool = False
    identity_provider: str = "AAD"
    # The /metadata/endpoints entry a custom cloud was read from, kept so that no module reads it twice.
    metadata: dict | None = None

    def __post_init__(self):
        self.resource_manager = self.resource_manager.rstrip("/")
        self.login_endpoint = self.login_endpoint.rstrip("/")
        self.audiences = tuple(self.audiences)
        self.arc_config_endpoint = self.arc_config_endpoint.rstrip("/") if self.arc_config_endpoint else None

    def __repr__(self):
        return f"Cloud({self.name!r}, resource_manager={self.resource_manager!r})"

    @property
    def management_audience(self):
        """The first metadata audience: the token resource for ARM and the Arc config data plane."""
        return self.audiences[0]

    @property
    def arm_scope(self):
        return scope_for(self.management_audience)

    def arc_config_endpoint_for(self, location):
        """The Arc config data-plane URL for a region: the metadata's, else the regional default.

        The default follows az connectedk8s: https://<location>.dp.kubernetesconfiguration.azure.<suffix>,
        where the suffix is the top-level domain of the login endpoint (com, us, cn).
        """
        if self.arc_config_endpoint:
            return self.arc_config_endpoint
        suffix = urlsplit(self.login_endpoint).hostname.rsplit(".", 1)[-1]
        return "https://{}.dp.kubernetesconfiguration.azure.{}".format(location.replace(" ", "").lower(), suffix)


@dataclass(frozen=True)
class Trust:
    """Hosts the user vouches for beyond the ARM host: login endpoints, and token audiences."""

    login_hosts: tuple = ()
    audience_hosts: tuple = ()

    @classmethod
    def from_params(cls, params):
        return cls(_hosts(params.get("trusted_login_hosts")), _hosts(params.get("trusted_audience_hosts")))


def _hosts(values):
    return tuple(str(v).strip().lower().rstrip(".") for v in values or () if str(v).strip())


def scope_for(audience):
    """The OAuth2 scope that asks Entra ID for a token to `audience`."""
    return audience.rstrip("/") + "/.default"


KNOWN_CLOUDS = {
    "AzureCloud": Cloud(
        "AzureCloud",
        "https://management.azure.com/",
        "https://login.microsoftonline.com",
        ("https://management.core.windows.net/", "https://management.azure.com/"),
    ),
    "AzureUSGovernment": Cloud(
        "AzureUSGovernment",
        "https://management.usgovcloudapi.net/",
        "https://login.microsoftonline.us",
        ("https://management.core.usgovcloudapi.net/", "https://management.usgovcloudapi.net/"),
    ),
    "AzureChinaCloud": Cloud(
        "AzureChinaCloud",
        "https://management.chinacloudapi.cn/",
        "https://login.chinacloudapi.cn",
        ("https://management.core.chinacloudapi.cn/", "https://management.chinacloudapi.cn/"),
    ),
}


# The hosts MSAL knows as Microsoft Entra ID authorities (WELL_KNOWN_AUTHORITY_HOSTS, less the retired German
# cloud): https://github.com/AzureAD/microsoft-authentication-library-for-python/blob/dev/msal/authority.py
ENTRA_LOGIN_HOSTS = frozenset(
    (
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "login.microsoftonline.us",
        "login.usgovcloudapi.net",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
    )
)
# Domains of Microsoft's own services in the known clouds: an Entra token for a resource on one of them (ARM,
# Graph, Key Vault, Storage, ...) works against that service, so no custom cloud may ask for one unlisted.
MICROSOFT_SERVICE_DOMAINS = (
    "windows.net",
    "azure.com",
    "azure.net",
    "microsoft.com",
    "microsoftonline.com",
    "office.com",
    "office365.com",
    "sharepoint.com",
    "dynamics.com",
    "powerbi.com",
    "azure.us",
    "microsoft.us",
    "usgovcloudapi.net",
    "microsoftonline.us",
    "azure.cn",
    "chinacloudapi.cn",
    "microsoftonline.cn",
)
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def metadata_url(arm_endpoint):
    return "{}/metadata/endpoints?api-version={}".format(arm_endpoint.rstrip("/"), METADATA_API_VERSION)


def resolve_cloud(value, fetch_json, trust=None, cache=None):
    """The Cloud that `cloud_environment` names, its metadata checked against `trust` (see the module notes).

    `fetch_json(url)` returns the parsed JSON of an unauthenticated GET; it is called only for a URL that
    is not a known cloud's ARM endpoint, and not while `cache` (a token_cache.TokenCache) holds the document.
    A cached document is held to the same checks as a fetched one, against this run's `trust`.
    """
    value = (value or "AzureCloud").strip()
    for name, cloud in KNOWN_CLOUDS.items():
        if value.lower() == name.lower():
            return cloud
    if "://" not in value:
        raise CloudError(
            "cloud_environment {!r} is neither a known cloud ({}) nor an https URL of an ARM endpoint.".format(
                value, ", ".join(KNOWN_CLOUDS)
            )
        )
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise CloudError(f"cloud_environment {value!r} must be an https URL (TLS is always verified).")
    arm_endpoint = f"https://{parts.netloc}{parts.path.rstrip('/')}"
    for cloud in KNOWN_CLOUDS.values():
        if urlsplit(cloud.resource_manager).netloc == parts.netloc.lower():
            return cloud
    url = metadata_url(arm_endpoint)

    def checked(document):
        cloud = parse_metadata(document, arm_endpoint, url)
        check_trust(cloud, url, trust or Trust())
        return cloud

    if cache is None:
        return checked(fetch_json(url))
    return cache.cloud(url, fetch_json, checked)


def parse_metadata(document, arm_endpoint, source):
    """A Cloud from an ARM `/metadata/endpoints` document.

    api-version 2022-09-01 answers with one object for the cloud asked; older versions answered with a
    list of clouds, so a list is accepted too and the entry whose resourceManager is `arm_endpoint` wins.
    """
    entry = _pick_entry(document, arm_endpoint, source)
    authentication = entry.get("authentication")
    if not isinstance(authentication, dict):
        raise _malformed(source, "has no 'authentication' object")
    login_endpoint = authentication.get("loginEndpoint")
    if not isinstance(login_endpoint, str) or not login_endpoint.startswith("https://"):
        raise _malformed(source, "has no https 'authentication.loginEndpoint'")
    audiences = authentication.get("audiences")
    if not isinstance(audiences, list) or not audiences or not all(isinstance(a, str) and a for a in audiences):
        raise _malformed(source, "has no 'authentication.audiences' list")
    if not audiences[0].startswith("https://") or not urlsplit(audiences[0]).hostname:
        raise _malformed(source, "has a first 'authentication.audiences' entry that is not an https URL")
    dataplane = entry.get("dataplaneEndpoints") or {}
    if not isinstance(dataplane, dict):
        raise _malformed(source, "has a 'dataplaneEndpoints' that is not an object")
    arc_config_endpoint = dataplane.get("arcConfigEndpoint")
    if arc_config_endpoint is not None and not (
        isinstance(arc_config_endpoint, str) and arc_config_endpoint.startswith("https://")
    ):
        raise _malformed(source, "has a 'dataplaneEndpoints.arcConfigEndpoint' that is not an https URL")
    return Cloud(
        name=str(entry.get("name") or urlsplit(arm_endpoint).hostname),
        resource_manager=arm_endpoint,
        login_endpoint=login_endpoint,
        audiences=audiences,
        arc_config_endpoint=arc_config_endpoint,
        custom=True,
        identity_provider=str(authentication.get("identityProvider") or "AAD"),
        metadata=entry,
    )


def _pick_entry(document, arm_endpoint, source):
    if isinstance(document, dict):
        return document
    if not isinstance(document, list) or not all(isinstance(e, dict) for e in document):
        raise _malformed(source, "is neither a JSON object nor a list of objects")
    wanted = urlsplit(arm_endpoint).netloc.lower()
    for entry in document:
        if urlsplit(str(entry.get("resourceManager", ""))).netloc.lower() == wanted:
            return entry
    if len(document) == 1:
        return document[0]
    raise _malformed(source, f"lists no cloud whose resourceManager is {arm_endpoint}")


def _malformed(source, problem):
    return CloudError(
        f"The ARM metadata at {source} {problem}; check that cloud_environment is the ARM endpoint of the cloud."
    )


def check_trust(cloud, source, trust):
    """Refuse a custom cloud whose metadata would send a secret or a token where the user did not say."""
    arm_host = urlsplit(cloud.resource_manager).hostname.lower()
    login_host = urlsplit(cloud.login_endpoint).hostname.lower()
    entra = login_host in ENTRA_LOGIN_HOSTS
    if not (entra or login_host == arm_host or login_host in trust.login_hosts):
        raise CloudError(
            f"Refusing cloud_environment {cloud.resource_manager}: its metadata ({source}) names the login "
            f"endpoint {cloud.login_endpoint} on host {login_host}, which is neither the ARM host {arm_host} nor "
            "a Microsoft Entra ID login host, so no secret or token was sent. If it is your cloud's identity "
            f"provider (such as Azure Stack Hub's AD FS), add {login_host} to trusted_login_hosts "
            "(or ARCML_TRUSTED_LOGIN_HOSTS)."
        )
    audience = cloud.management_audience
    if entra and not _identifies_cloud(audience, arm_host, trust):
        raise CloudError(
            f"Refusing cloud_environment {cloud.resource_manager}: its metadata ({source}) asks Microsoft Entra "
            f"ID for a token to the audience {audience} on host {urlsplit(audience).hostname}, which does not "
            f"identify this cloud (ARM host {arm_host}), so no token was requested. If that audience is your "
            f"cloud's Resource Manager, add {urlsplit(audience).hostname} to trusted_audience_hosts "
            "(or ARCML_TRUSTED_AUDIENCE_HOSTS)."
        )


def _identifies_cloud(audience, arm_host, trust):
    """Whether an Entra ID token for `audience` is good only for this cloud (see the module notes)."""
    parts = urlsplit(audience)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host:
        return False
    if host == arm_host or host in trust.audience_hosts:
        return True
    microsoft = any(host == domain or host.endswith("." + domain) for domain in MICROSOFT_SERVICE_DOMAINS)
    # Azure Stack Hub registers its Resource Manager as https://management.<domain>/<GUID> (Entra ID or AD FS).
    azure_stack = host.startswith("management.") and _GUID.fullmatch(parts.path.strip("/") or "")
    return bool(azure_stack) and not microsoft
