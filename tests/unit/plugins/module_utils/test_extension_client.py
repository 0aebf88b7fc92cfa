"""The extension's request path: every name in it is checked before sign-in and before any request."""

from types import SimpleNamespace

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.resource_id import InvalidNameError
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.client import extension_client

SUB = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"


class NoAzure:
    """A module whose Azure must never be reached: names are checked before sign-in."""

    def __init__(self, subscription_id=SUB, **params):
        self.params = {
            "resource_group": "rg-hci",
            "cluster_type": "connectedClusters",
            "cluster_name": "hci-1",
            **params,
        }
        self.subscription_id = subscription_id
        self.signed_in = False

    def azure(self):
        self.signed_in = True
        return SimpleNamespace(subscription_id=self.subscription_id, arm=object())


def path_breakers(valid, max_length):
    return ["..", ".", valid + "\n", valid + "#b", valid + "?b", valid + "/b", "a" * (max_length + 1)]


CASES = (
    [("name", value) for value in path_breakers("azureml", 253)]
    + [("cluster_name", value) for value in path_breakers("hci-1", 63)]
    + [("resource_group", value) for value in path_breakers("rg-hci", 90)]
)


@pytest.mark.parametrize(("option", "value"), CASES)
def test_a_name_that_would_change_the_extension_path_is_refused_before_sign_in(option, value):
    module = NoAzure(**({} if option == "name" else {option: value}))
    with pytest.raises(InvalidNameError, match="Nothing was sent to Azure") as failed:
        extension_client(module, value if option == "name" else "azureml")
    assert f"{option} {value!r} is not a valid" in str(failed.value)
    assert module.signed_in is False


def test_a_subscription_with_a_final_newline_is_refused_before_any_request():
    with pytest.raises(InvalidNameError, match=r"subscription_id '.*\\n' is not a valid subscription id"):
        extension_client(NoAzure(subscription_id=SUB + "\n"), "azureml")


def test_valid_names_build_the_path_and_listing_needs_no_name():
    client = extension_client(NoAzure(), "azureml")
    assert client.path.endswith(
        "/connectedClusters/hci-1/providers/Microsoft.KubernetesConfiguration/extensions/azureml"
    )
    assert extension_client(NoAzure(), "").collection_path.endswith("/extensions")
