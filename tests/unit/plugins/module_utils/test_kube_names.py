"""The Kubernetes name rules every domain checks names with before a request (_kube/names.py)."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.names import is_dns_label, is_dns_subdomain


@pytest.mark.parametrize("name", ["default", "azureml", "a", "team-1", "x" * 63])
def test_namespace_names_the_api_server_accepts(name):
    assert is_dns_label(name)


@pytest.mark.parametrize("name", ["", "Default", "-a", "a-", "a.b", "a_b", "x" * 64, "default\n", None, 7])
def test_namespace_names_it_refuses(name):
    assert not is_dns_label(name)


@pytest.mark.parametrize("name", ["training-data", "a.b-c.d", "x" * 253, "default-datasets"])
def test_object_names_the_api_server_accepts(name):
    assert is_dns_subdomain(name)


@pytest.mark.parametrize("name", ["", "a..b", ".a", "a.", "A", "a/b", "x" * 254, "data\n"])
def test_object_names_it_refuses(name):
    assert not is_dns_subdomain(name)
