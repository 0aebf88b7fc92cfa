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
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.instance_type_api import InstanceTypeApi, with_spec
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.client import KubernetesError

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


class Answer:
    def __init__(self, status, data):
        self.status, self.reason = status, "scripted"
        self.data = data.encode() if isinstance(data, str) else data


class FakeInstanceTypes:
    """The API server's connection pool for one InstanceType: scripted errors per call, the last body kept."""

    def __init__(self, stored, errors=None):
        self.call_names = {"GET": "get", "POST": "create", "PUT": "replace", "DELETE": "delete"}
        self.stored = stored
        self.errors = dict(errors or {})
        self.calls = []
        self.requests = []

    def request(self, method, url, body=None, headers=None, **kwargs):
        call = self.call_names[method]
        self.calls.append(call)
        self.requests.append((method, url, headers.get("Content-Type")))
        pending = self.errors.get(call) or []
        if pending:
            status, payload = pending.pop(0)
            return Answer(status, payload)
        if body is not None:
            body = json.loads(body)
            self.stored = dict(body, metadata=dict(body["metadata"], resourceVersion="2"))
        return Answer(200, json.dumps(self.stored))


def api_with(fake):
    from kubernetes import client

    api = InstanceTypeApi(client.ApiClient(client.Configuration(host="https://k8s")))
    api.kube.api_client.rest_client.pool_manager = fake
    return api


OBJECT_MISSING = json.dumps({"kind": "Status", "details": {"name": "it", "kind": "instancetypes"}, "code": 404})


def test_a_missing_crd_is_told_apart_from_a_missing_object():
    with pytest.raises(KubernetesError) as failure:
        api_with(FakeInstanceTypes({}, {"get": [(404, "404 page not found\n")]})).get("it")
    missing_type = failure.value
    assert missing_type.unknown_type is True and missing_type.status == 404
    assert "instancetypes.amlarc.azureml.com is missing" in missing_type.message
    assert "Azure ML extension" in missing_type.message
    status = '{"kind":"Status","reason":"NotFound","details":{"name":"it","kind":"instancetypes"},"code":404}'
    with pytest.raises(KubernetesError) as failure:
        api_with(FakeInstanceTypes({}, {"create": [(404, status)]})).create("it", {})
    missing_object = failure.value
    assert missing_object.unknown_type is False
    assert missing_object.status == 404
    assert "is missing" not in missing_object.message


def test_forbidden_says_what_to_grant():
    fake = FakeInstanceTypes({}, {"create": [(403, '{"message": "no"}')]})
    with pytest.raises(KubernetesError) as failure:
        api_with(fake).create("it", {})
    assert failure.value.status == 403
    assert "no (HTTP 403); grant this identity the right to create instancetypes.amlarc.azureml.com" in (
        failure.value.message
    )


def test_the_requests_are_the_custom_objects_api_ones():
    fake = FakeInstanceTypes({"metadata": {"name": "it", "resourceVersion": "1"}, "spec": {}})
    api = api_with(fake)
    current = api.get("it")
    api.replace_spec("it", current, {"resources": {}})
    api.create("it", {"resources": {}})
    assert api.delete("it") is True
    path = "https://k8s/apis/amlarc.azureml.com/v1alpha1/instancetypes"
    assert fake.requests == [
        ("GET", f"{path}/it", None),
        ("PUT", f"{path}/it", "application/json"),
        ("POST", path, "application/json"),
        ("DELETE", f"{path}/it", None),
    ]


def test_a_delete_of_a_missing_object_is_false_and_of_a_missing_type_an_error():
    assert api_with(FakeInstanceTypes({}, {"delete": [(404, OBJECT_MISSING)]})).delete("it") is False
    with pytest.raises(KubernetesError, match="is missing"):
        api_with(FakeInstanceTypes({}, {"delete": [(404, "404 page not found")]})).delete("it")


def test_instance_type_api_does_not_import_the_typed_client():
    import subprocess
    import sys
    from pathlib import Path

    collections = Path(__file__).resolve().parents[4] / ".build" / "collections"
    probe = (
        f"import sys; sys.path.insert(0, {str(collections)!r})\n"
        "from kubernetes import client\n"
        "from ansible_collections.hci.arc_ml.plugins.module_utils._compute.instance_type_api import InstanceTypeApi\n"
        "InstanceTypeApi(client.ApiClient(client.Configuration(host='https://192.0.2.1:6443')))\n"
        "print(sorted(m for m in sys.modules if m.startswith('kubernetes.client.api.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_get_tells_a_missing_object_from_a_missing_crd():
    assert api_with(FakeInstanceTypes({}, {"get": [(404, OBJECT_MISSING)]})).get("it") is None
    with pytest.raises(KubernetesError) as failure:
        api_with(FakeInstanceTypes({}, {"get": [(404, "404 page not found")]})).get("it")
    assert failure.value.unknown_type is True


def test_replace_rereads_and_retries_on_conflict():
    current = {"metadata": {"name": "it", "resourceVersion": "1"}, "spec": {"resources": {}}}
    fake = FakeInstanceTypes(current, {"replace": [(409, '{"message": "the object has been modified"}')]})
    result = api_with(fake).replace_spec("it", current, {"resources": {"requests": {"cpu": "1"}}})
    assert fake.calls == ["replace", "get", "replace"]
    assert result["spec"] == {"resources": {"requests": {"cpu": "1"}}}


def test_replace_gives_up_after_repeated_conflicts():
    conflict = (409, '{"message": "the object has been modified"}')
    current = {"metadata": {"name": "it", "resourceVersion": "1"}, "spec": {}}
    fake = FakeInstanceTypes(current, {"replace": [conflict] * 5})
    with pytest.raises(KubernetesError, match="HTTP 409"):
        api_with(fake).replace_spec("it", current, {"resources": {}})
    assert fake.calls.count("replace") == 3
