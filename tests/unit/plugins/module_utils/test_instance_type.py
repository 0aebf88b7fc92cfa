"""Instance types: the documented rules, both shapes, comparison, and the InstanceType API's errors."""

import json
from decimal import Decimal

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.instance_type import (
    InstanceTypeError,
    build_spec,
    normalize,
    parse_quantity,
    same_instance_type,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.instance_type_api import (
    CrdMissing,
    InstanceTypeApi,
    InstanceTypeApiError,
    api_error,
    with_spec,
)

REQUESTS = {"cpu": "700m", "memory": "1500Mi"}
LIMITS = {"cpu": "1", "memory": "2Gi", "gpu": 1}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("700m", Decimal("0.7")),
        ("1", Decimal(1)),
        (2, Decimal(2)),
        (0.5, Decimal("0.5")),
        ("2Gi", Decimal(2 * 2**30)),
        ("1500Mi", Decimal(1500 * 2**20)),
        ("1G", Decimal(10**9)),
        ("1e3", Decimal(1000)),
        ("1E", Decimal(10**18)),
    ],
)
def test_quantities(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "1K", "two", "1.2.3", "Gi", True])
def test_not_quantities(text):
    with pytest.raises(ValueError):
        parse_quantity(text)


def test_the_documented_example_in_both_shapes():
    spec = build_spec("myinstancetypename", {"mylabel": "mylabelvalue"}, REQUESTS, LIMITS)
    assert spec.custom_resource_spec() == {
        "nodeSelector": {"mylabel": "mylabelvalue"},
        "resources": {"requests": REQUESTS, "limits": {"cpu": "1", "memory": "2Gi", "nvidia.com/gpu": 1}},
    }
    assert spec.compute_schema() == {
        "nodeSelector": {"mylabel": "mylabelvalue"},
        "resources": {"requests": REQUESTS, "limits": {"cpu": "1", "memory": "2Gi", "nvidia.com/gpu": "1"}},
    }


def test_no_node_selector_and_no_gpu():
    spec = build_spec("small", None, {"cpu": 1, "memory": "1Gi"}, {"cpu": 2, "memory": "1Gi", "gpu": None})
    assert spec.custom_resource_spec() == {
        "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "1Gi"}}
    }
    assert spec.compute_schema()["nodeSelector"] is None


@pytest.mark.parametrize(
    ("requests", "limits", "node_selector", "problem"),
    [
        (None, LIMITS, None, "requests.cpu is required"),
        ({"cpu": "1"}, LIMITS, None, "requests.memory is required"),
        ({"cpu": "0", "memory": "1Gi"}, LIMITS, None, "requests.cpu must be more than zero"),
        ({"cpu": "lots", "memory": "1Gi"}, LIMITS, None, "requests.cpu 'lots' is not a Kubernetes quantity"),
        ({"cpu": "2", "memory": "1Gi"}, LIMITS, None, "requests.cpu '2' is more than limits.cpu '1'"),
        (REQUESTS, {"cpu": "1", "memory": "1Gi"}, None, "requests.memory '1500Mi' is more than limits.memory '1Gi'"),
        (REQUESTS, {**LIMITS, "gpu": -1}, None, "limits.gpu must be 0 or more"),
        (REQUESTS, LIMITS, {"gpu": True}, 'must be a string (quote it, e.g. "true")'),
        (REQUESTS, LIMITS, {"bad key!": "x"}, "is not a Kubernetes label key"),
        (REQUESTS, LIMITS, {"zone": "not valid!"}, "is not a Kubernetes label value"),
    ],
)
def test_rules(requests, limits, node_selector, problem):
    with pytest.raises(InstanceTypeError) as failure:
        build_spec("it", node_selector, requests, limits)
    assert problem in failure.value.message


def test_all_problems_at_once_and_the_name():
    with pytest.raises(InstanceTypeError) as failure:
        build_spec("it", None, {"cpu": "0"}, {})
    message = failure.value.message
    for problem in ("requests.cpu must be more", "requests.memory is required", "limits.cpu is required"):
        assert problem in message
    with pytest.raises(InstanceTypeError, match="not a Kubernetes object name"):
        build_spec("Big_GPU", None, REQUESTS, LIMITS)


def test_label_keys_with_prefix_and_integer_values_are_fine():
    spec = build_spec("it", {"node.kubernetes.io/instance-type": "gpu", "zone": 3}, REQUESTS, LIMITS)
    assert spec.node_selector == {"node.kubernetes.io/instance-type": "gpu", "zone": "3"}


def test_same_instance_type_by_value():
    spec = build_spec("it", {"a": "b"}, REQUESTS, LIMITS).custom_resource_spec()
    equal = {
        "nodeSelector": {"a": "b"},
        "resources": {
            "requests": {"cpu": "0.7", "memory": "1536000Ki"},
            "limits": {"cpu": 1, "memory": "2048Mi", "nvidia.com/gpu": "1"},
        },
    }
    assert same_instance_type(normalize(spec), normalize(equal))
    equal["nodeSelector"] = {}
    assert not same_instance_type(normalize(spec), normalize(equal))
    equal["nodeSelector"] = {"a": "b"}
    del equal["resources"]["limits"]["nvidia.com/gpu"]
    assert not same_instance_type(normalize(spec), normalize(equal))


def test_replacing_the_spec_keeps_metadata_and_unknown_fields():
    current = {
        "apiVersion": "amlarc.azureml.com/v1alpha1",
        "kind": "InstanceType",
        "metadata": {"name": "it", "resourceVersion": "42", "labels": {"team": "ml"}, "managedFields": [{"x": 1}]},
        "spec": {"nodeSelector": {"old": "yes"}, "resources": {"requests": {"cpu": "1"}}, "futureField": True},
    }
    body = with_spec(current, {"resources": {"requests": {"cpu": "2"}}})
    assert body["metadata"] == {"name": "it", "resourceVersion": "42", "labels": {"team": "ml"}}
    assert body["spec"] == {"resources": {"requests": {"cpu": "2"}}, "futureField": True}
    assert current["metadata"]["managedFields"] == [{"x": 1}]


def test_a_missing_crd_is_told_apart_from_a_missing_object():
    missing_type = api_error("read InstanceType it", "https://k8s", 404, "Not Found", b"404 page not found\n")
    assert isinstance(missing_type, CrdMissing)
    assert "instancetypes.amlarc.azureml.com is missing" in missing_type.message
    assert "Azure ML extension" in missing_type.message
    status = b'{"kind":"Status","reason":"NotFound","details":{"name":"it","kind":"instancetypes"},"code":404}'
    missing_object = api_error("read InstanceType it", "https://k8s", 404, "Not Found", status)
    assert not isinstance(missing_object, CrdMissing)
    assert missing_object.status == 404


def test_forbidden_says_what_to_grant():
    error = api_error("create InstanceType it", "https://k8s", 403, "Forbidden", b'{"message": "no"}')
    assert isinstance(error, InstanceTypeApiError)
    assert "HTTP 403: no; grant this identity the right to create instancetypes.amlarc.azureml.com" in error.message


class FakeCustomObjects:
    """CustomObjectsApi for one InstanceType: scripted errors per call, the last body kept."""

    def __init__(self, stored, errors=None):
        self.stored = stored
        self.errors = dict(errors or {})
        self.calls = []

    def _answer(self, call, body=None):
        from kubernetes.client.exceptions import ApiException

        self.calls.append(call)
        pending = self.errors.get(call) or []
        if pending:
            status, payload = pending.pop(0)
            error = ApiException(status=status, reason="scripted")
            error.body = payload
            raise error
        if body is not None:
            self.stored = dict(body, metadata=dict(body["metadata"], resourceVersion="2"))
        return type("Response", (), {"data": json.dumps(self.stored).encode()})()

    def get_cluster_custom_object(self, group, version, plural, name, **kwargs):
        return self._answer("get")

    def replace_cluster_custom_object(self, group, version, plural, name, body, **kwargs):
        return self._answer("replace", body)


def api_with(fake):
    from kubernetes import client

    api = InstanceTypeApi(client.ApiClient(client.Configuration()))
    api._api = fake
    return api


OBJECT_MISSING = json.dumps({"kind": "Status", "details": {"name": "it", "kind": "instancetypes"}, "code": 404})


def test_get_tells_a_missing_object_from_a_missing_crd():
    assert api_with(FakeCustomObjects({}, {"get": [(404, OBJECT_MISSING)]})).get("it") is None
    with pytest.raises(CrdMissing):
        api_with(FakeCustomObjects({}, {"get": [(404, "404 page not found")]})).get("it")


def test_replace_rereads_and_retries_on_conflict():
    current = {"metadata": {"name": "it", "resourceVersion": "1"}, "spec": {"resources": {}}}
    fake = FakeCustomObjects(current, {"replace": [(409, '{"message": "the object has been modified"}')]})
    result = api_with(fake).replace_spec("it", current, {"resources": {"requests": {"cpu": "1"}}})
    assert fake.calls == ["replace", "get", "replace"]
    assert result["spec"] == {"resources": {"requests": {"cpu": "1"}}}


def test_replace_gives_up_after_repeated_conflicts():
    conflict = (409, '{"message": "the object has been modified"}')
    current = {"metadata": {"name": "it", "resourceVersion": "1"}, "spec": {}}
    fake = FakeCustomObjects(current, {"replace": [conflict] * 5})
    with pytest.raises(InstanceTypeApiError, match="HTTP 409"):
        api_with(fake).replace_spec("it", current, {"resources": {}})
    assert fake.calls.count("replace") == 3
