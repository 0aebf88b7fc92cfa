"""cloud_environment: known clouds, ARM endpoint URLs and their /metadata/endpoints documents."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.cloud import CloudError, parse_metadata, resolve_cloud

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
    resolve_cloud("https://hub.local:30024/arm/", lambda url: fetched.append(url) or metadata())
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
