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
"""

from __future__ import annotations

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


def metadata_url(arm_endpoint):
    return "{}/metadata/endpoints?api-version={}".format(arm_endpoint.rstrip("/"), METADATA_API_VERSION)


def resolve_cloud(value, fetch_json):
    """The Cloud that `cloud_environment` names.

    `fetch_json(url)` returns the parsed JSON of an unauthenticated GET; it is called only for a URL that
    is not a known cloud's ARM endpoint.
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
    return parse_metadata(fetch_json(url), arm_endpoint, url)


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
