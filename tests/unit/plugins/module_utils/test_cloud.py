"""cloud_environment: known clouds, ARM endpoint URLs and their /metadata/endpoints documents."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.cloud import (
    CloudError,
    Trust,
    parse_metadata,
    resolve_cloud,
)

SANDBOX = "https://127.0.0.1:8443"


def metadata(**overrides):
    """A 2022-09-01 metadata document for a custom cloud, shaped like Azure Stack Hub's."""
    document = {
        "name": "SandboxCloud",
        "resourceManager": SANDBOX + "/",
        "authentication": {
            "loginEndpoint": "https://127.0.0.1:8443/login/",
            "audiences": ["https://management.sandbox.local/", "https://127.0.0.1:8443/"],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "suffixes": {"storage": "sandbox.local"},
        "dataplaneEndpoints": {"arcConfigEndpoint": "https://127.0.0.1:8443/arc-config/"},
    }
    document.update(overrides)
    return document


def no_fetch(url):
    raise AssertionError(f"no metadata request expected, got {url}")


@pytest.mark.parametrize(
    ("value", "name", "login", "scope"),
    [
        (
            "AzureCloud",
            "AzureCloud",
            "https://login.microsoftonline.com",
            "https://management.core.windows.net/.default",
        ),
        (
            "azurecloud",
            "AzureCloud",
            "https://login.microsoftonline.com",
            "https://management.core.windows.net/.default",
        ),
        (None, "AzureCloud", "https://login.microsoftonline.com", "https://management.core.windows.net/.default"),
        (
            "AzureUSGovernment",
            "AzureUSGovernment",
            "https://login.microsoftonline.us",
            "https://management.core.usgovcloudapi.net/.default",
        ),
        (
            "AzureChinaCloud",
            "AzureChinaCloud",
            "https://login.chinacloudapi.cn",
            "https://management.core.chinacloudapi.cn/.default",
        ),
    ],
)
def test_known_clouds_resolve_without_a_request(value, name, login, scope):
    cloud = resolve_cloud(value, no_fetch)
    assert (cloud.name, cloud.login_endpoint, cloud.arm_scope) == (name, login, scope)
    assert not cloud.custom


def test_a_known_clouds_arm_url_needs_no_request_either():
    cloud = resolve_cloud("https://management.usgovcloudapi.net/", no_fetch)
    assert cloud.name == "AzureUSGovernment"


@pytest.mark.parametrize(
    ("cloud", "location", "expected"),
    [
        ("AzureCloud", "East US", "https://eastus.dp.kubernetesconfiguration.azure.com"),
        ("AzureUSGovernment", "usgovvirginia", "https://usgovvirginia.dp.kubernetesconfiguration.azure.us"),
        ("AzureChinaCloud", "chinaeast2", "https://chinaeast2.dp.kubernetesconfiguration.azure.cn"),
    ],
)
def test_known_clouds_derive_the_regional_arc_config_endpoint(cloud, location, expected):
    assert resolve_cloud(cloud, no_fetch).arc_config_endpoint_for(location) == expected


def test_url_reads_the_2022_09_01_metadata_document():
    fetched = []

    def fetch(url):
        fetched.append(url)
        return metadata()

    cloud = resolve_cloud(SANDBOX + "/", fetch)
    assert fetched == [SANDBOX + "/metadata/endpoints?api-version=2022-09-01"]
    assert cloud.resource_manager == SANDBOX
    assert cloud.login_endpoint == "https://127.0.0.1:8443/login"
    assert cloud.audiences == ("https://management.sandbox.local/", "https://127.0.0.1:8443/")
    assert cloud.arm_scope == "https://management.sandbox.local/.default"
    assert cloud.arc_config_endpoint_for("eastus") == "https://127.0.0.1:8443/arc-config"
    assert cloud.custom
    assert cloud.name == "SandboxCloud"


def test_url_with_a_path_keeps_it():
    fetched = []
    document = metadata(authentication={"loginEndpoint": "https://hub.local:30024/login/", "audiences": ["https://a/"]})
    resolve_cloud("https://hub.local:30024/arm/", lambda url: fetched.append(url) or document)
    assert fetched == ["https://hub.local:30024/arm/metadata/endpoints?api-version=2022-09-01"]


def test_list_shaped_metadata_picks_the_cloud_of_the_endpoint():
    other = metadata(name="Other", resourceManager="https://elsewhere.example/")
    mine = metadata(name="Mine")
    cloud = parse_metadata([other, mine], SANDBOX, "test")
    assert cloud.name == "Mine"


def test_without_dataplane_endpoints_the_arc_endpoint_is_derived_from_the_login_domain():
    document = metadata()
    del document["dataplaneEndpoints"]
    document["authentication"]["loginEndpoint"] = "https://adfs.local.azurestack.external/adfs"
    cloud = parse_metadata(document, SANDBOX, "test")
    assert cloud.arc_config_endpoint is None
    assert cloud.arc_config_endpoint_for("local") == "https://local.dp.kubernetesconfiguration.azure.external"


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("not json", "neither a JSON object nor a list"),
        ([1, 2], "neither a JSON object nor a list"),
        ({"name": "x"}, "no 'authentication' object"),
        ({"authentication": {"audiences": ["https://a/"]}}, "loginEndpoint"),
        ({"authentication": {"loginEndpoint": "http://login.local", "audiences": ["https://a/"]}}, "loginEndpoint"),
        ({"authentication": {"loginEndpoint": "https://login.local", "audiences": []}}, "audiences"),
        ({"authentication": {"loginEndpoint": "https://login.local", "audiences": "https://a/"}}, "audiences"),
        (
            {
                "authentication": {"loginEndpoint": "https://login.local", "audiences": ["https://a/"]},
                "dataplaneEndpoints": {"arcConfigEndpoint": "ftp://x"},
            },
            "arcConfigEndpoint",
        ),
        (
            [metadata(resourceManager="https://a.example/"), metadata(resourceManager="https://b.example/")],
            "lists no cloud whose resourceManager",
        ),
    ],
)
def test_malformed_metadata_fails_naming_the_problem_and_the_url(document, problem):
    with pytest.raises(CloudError) as caught:
        parse_metadata(document, SANDBOX, "https://127.0.0.1:8443/metadata/endpoints?api-version=2022-09-01")
    assert problem in caught.value.message
    assert "https://127.0.0.1:8443/metadata/endpoints" in caught.value.message


@pytest.mark.parametrize("value", ["AzureGermanCloud", "http://127.0.0.1:8080", "https://"])
def test_unknown_names_and_non_https_urls_are_refused(value):
    with pytest.raises(CloudError):
        resolve_cloud(value, no_fetch)


# What a custom cloud's metadata may make us do: where the secret goes (login endpoint) and what the token we
# hand to the ARM host is good for (audience). Azure Stack Hub's real documents must pass without options.
HUB = "https://management.local.azurestack.external"
HUB_APP = "https://management.contoso.onmicrosoft.com/81ad4e2b-2b4b-4a8c-9a3f-7f0b6d1c2e3f"


def hub_document(login, audience):
    """/metadata/endpoints of an Azure Stack Hub (the 2022-09-01 single-object shape)."""
    return {
        "name": "AzureStack-User-81ad4e2b",
        "resourceManager": HUB + "/",
        "authentication": {"loginEndpoint": login, "audiences": [audience], "tenant": "common"},
        "suffixes": {"storage": "local.azurestack.external"},
    }


def resolve(value, document, trust=None):
    fetched = []
    cloud = resolve_cloud(value, lambda url: fetched.append(url) or document, trust)
    assert len(fetched) == 1
    return cloud


@pytest.mark.parametrize("login", ["https://login.microsoftonline.com/", "https://login.windows.net/"])
def test_azure_stack_hub_with_entra_id_needs_no_option(login):
    cloud = resolve(HUB, hub_document(login, HUB_APP))
    assert cloud.arm_scope == HUB_APP + "/.default"
    assert cloud.login_endpoint == login.rstrip("/")


def test_azure_stack_hub_with_ad_fs_on_another_host_needs_trusted_login_hosts():
    document = hub_document(
        "https://adfs.local.azurestack.external/adfs/", "https://management.adfs.azurestack.local/7c1"
    )
    with pytest.raises(CloudError) as caught:
        resolve(HUB, document)
    message = caught.value.message
    assert "https://adfs.local.azurestack.external/adfs" in message
    assert "host adfs.local.azurestack.external" in message
    assert "trusted_login_hosts" in message and "ARCML_TRUSTED_LOGIN_HOSTS" in message
    assert "\n" not in message

    cloud = resolve(HUB, document, Trust.from_params({"trusted_login_hosts": ["ADFS.local.azurestack.external"]}))
    assert cloud.login_endpoint == "https://adfs.local.azurestack.external/adfs"


def test_trust_is_read_from_the_options_lower_cased():
    trust = Trust.from_params({"trusted_login_hosts": [" ADFS.Example. "], "trusted_audience_hosts": None})
    assert trust == Trust(login_hosts=("adfs.example",), audience_hosts=())


def test_a_login_endpoint_on_a_foreign_host_is_refused_before_anything_is_sent():
    document = metadata(authentication={"loginEndpoint": "https://login.evil.example/", "audiences": [SANDBOX + "/"]})
    with pytest.raises(CloudError) as caught:
        resolve(SANDBOX, document)
    message = caught.value.message
    assert message.startswith(f"Refusing cloud_environment {SANDBOX}: its metadata (")
    assert "login endpoint https://login.evil.example on host login.evil.example" in message
    assert "neither the ARM host 127.0.0.1 nor a Microsoft Entra ID login host" in message
    assert "no secret or token was sent" in message


def test_a_login_endpoint_on_the_arm_host_needs_no_option():
    cloud = resolve(SANDBOX, metadata())
    assert cloud.login_endpoint == "https://127.0.0.1:8443/login"


@pytest.mark.parametrize(
    "audience",
    [
        "https://graph.microsoft.com/",
        "https://vault.azure.net",
        "https://management.core.windows.net/",
        "https://management.azure.com/",
        "https://management.core.windows.net/81ad4e2b-2b4b-4a8c-9a3f-7f0b6d1c2e3f",
        "https://management.core.usgovcloudapi.net/",
        "https://storage.azure.com/",
        "https://api.contoso.example/",
    ],
)
def test_an_entra_token_for_another_service_is_never_asked_for(audience):
    document = hub_document("https://login.microsoftonline.com/", audience)
    with pytest.raises(CloudError) as caught:
        resolve(HUB, document)
    message = caught.value.message
    assert f"audience {audience}" in message
    assert "trusted_audience_hosts" in message and "ARCML_TRUSTED_AUDIENCE_HOSTS" in message
    assert "no token was requested" in message


def test_an_entra_audience_on_the_arm_host_or_trusted_is_accepted():
    assert resolve(HUB, hub_document("https://login.microsoftonline.us/", HUB + "/")).arm_scope == HUB + "/.default"
    proxied = hub_document("https://login.microsoftonline.com/", "https://management.core.windows.net/")
    trust = Trust(audience_hosts=("management.core.windows.net",))
    assert resolve(HUB, proxied, trust).arm_scope == "https://management.core.windows.net/.default"


def test_the_cloud_s_own_login_endpoint_may_name_any_https_audience():
    # The sandbox: its login endpoint shares the ARM origin, its audience is an identifier of its own.
    document = metadata(authentication={"loginEndpoint": SANDBOX, "audiences": ["https://management.sandbox.local/"]})
    assert resolve(SANDBOX, document).arm_scope == "https://management.sandbox.local/.default"


@pytest.mark.parametrize(
    "audience", ["http://127.0.0.1:8443/", "api://81ad4e2b", "81ad4e2b-2b4b-4a8c-9a3f-7f0b6d1c2e3f"]
)
def test_an_audience_that_is_not_an_https_url_is_refused(audience):
    document = metadata(authentication={"loginEndpoint": SANDBOX, "audiences": [audience]})
    with pytest.raises(CloudError, match="audiences' entry that is not an https URL"):
        resolve(SANDBOX, document)
