"""hci.arc_ml.instance_type against an in-memory API server: create, update, delete, check mode, actions."""

import json

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.modules import instance_type
from ansible_collections.hci.arc_ml.tests.unit.plugins.conftest import run_module

PATH = "/apis/amlarc.azureml.com/v1alpha1/instancetypes"
SMALL = {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}}


class Answer:
    def __init__(self, status, body):
        self.status, self.reason = status, "Reason"
        self.data = (body if isinstance(body, str) else json.dumps(body)).encode()


class FakeApiServer:
    """InstanceType objects in memory behind the ApiClient's pool; `crd` False answers like a cluster without it."""

    def __init__(self, crd=True):
        self.crd = crd
        self.objects = {}
        self.writes = []

    def request(self, method, url, body=None, headers=None, **kwargs):
        path = url.split("6443", 1)[1]
        if not self.crd:
            return Answer(404, "404 page not found\n")
        name = path[len(PATH) + 1 :]
        if method != "GET":
            self.writes.append(method)
        if method == "GET":
            found = self.objects.get(name)
            return Answer(200, found) if found else Answer(404, {"kind": "Status", "details": {"name": name}})
        if method in ("POST", "PUT"):
            item = json.loads(body)
            metadata = dict(item["metadata"], resourceVersion=str(len(self.writes)), managedFields=[{"x": 1}])
            self.objects[item["metadata"]["name"]] = dict(item, metadata=metadata)
            return Answer(200, self.objects[item["metadata"]["name"]])
        if method == "DELETE":
            self.objects.pop(name)
            return Answer(200, {"kind": "Status", "status": "Success"})
        raise AssertionError(f"unexpected {method} {path}")


@pytest.fixture
def server(monkeypatch):
    from kubernetes import client

    fake = FakeApiServer()

    def kube_client(self):
        api_client = client.ApiClient(client.Configuration(host="https://192.0.2.1:6443"))
        api_client.rest_client.pool_manager = fake
        return api_client

    monkeypatch.setattr(ArcMLModule, "kube_client", kube_client)
    return fake


def run(capsys, **args):
    return run_module(capsys, instance_type, args)


def test_create_then_nothing_to_do(server, capsys):
    created = run(capsys, name="small", **SMALL)
    assert created["changed"] is True and created["actions"] == ["create instance type small"]
    assert created["msg"] == "Created InstanceType small."
    assert created["instance_type"]["spec"]["resources"]["limits"] == {"cpu": "2", "memory": "4Gi"}
    assert "managedFields" not in created["instance_type"]["metadata"]

    again = run(capsys, name="small", requests={"cpu": "1000m", "memory": "2Gi"}, limits=SMALL["limits"])
    assert again["changed"] is False and again["actions"] == []
    assert again["msg"] == "InstanceType small is as requested."
    assert server.writes == ["POST"]


def test_check_mode_returns_the_resource_as_it_would_be_and_writes_nothing(server, capsys):
    result = run(capsys, name="small", _ansible_check_mode=True, _ansible_diff=True, **SMALL)
    assert result["changed"] is True and result["actions"] == ["create instance type small"]
    assert result["msg"] == "Would create InstanceType small (check mode)."
    assert result["instance_type"]["metadata"] == {"name": "small"}
    assert result["instance_type"]["spec"] == result["diff"]["after"]["spec"]
    assert server.writes == []


def test_an_update_says_what_changes(server, capsys):
    run(capsys, name="small", **SMALL)
    bigger = {"requests": SMALL["requests"], "limits": {"cpu": "2", "memory": "8Gi", "gpu": 1}}

    preview = run(capsys, name="small", node_selector={"pool": "gpu"}, _ansible_check_mode=True, **bigger)
    updated = run(capsys, name="small", node_selector={"pool": "gpu"}, **bigger)

    action = (
        "update instance type small (node_selector.pool unset -> gpu, limits.memory 4Gi -> 8Gi, "
        "limits.nvidia.com/gpu unset -> 1)"
    )
    assert preview["actions"] == updated["actions"] == [action]
    assert preview["instance_type"]["spec"] == updated["instance_type"]["spec"]
    assert updated["msg"] == "Updated InstanceType small."
    assert server.writes == ["POST", "PUT"]


def test_delete_and_delete_again(server, capsys):
    run(capsys, name="small", **SMALL)
    preview = run(capsys, name="small", state="absent", _ansible_check_mode=True)
    assert preview["actions"] == ["delete instance type small"] and preview["instance_type"] is None
    assert "small" in server.objects

    deleted = run(capsys, name="small", state="absent")
    assert deleted["changed"] is True and deleted["actions"] == ["delete instance type small"]
    assert deleted["msg"] == "Deleted InstanceType small." and deleted["instance_type"] is None

    again = run(capsys, name="small", state="absent")
    assert again["changed"] is False and again["actions"] == []
    assert again["msg"] == "InstanceType small does not exist."


def test_without_the_crd_present_fails_and_absent_changes_nothing(server, capsys):
    server.crd = False
    failed = run(capsys, name="small", **SMALL)
    assert failed["failed"] is True and failed["changed"] is False and failed["status"] == 404
    assert "instancetypes.amlarc.azureml.com is missing" in failed["msg"]
    assert "Azure ML extension (Microsoft.AzureML.Kubernetes) is not installed" in failed["msg"]

    absent = run(capsys, name="small", state="absent")
    assert not absent.get("failed") and absent["changed"] is False and absent["actions"] == []
    assert absent["msg"] == "There is no InstanceType small: the cluster has no InstanceType resources."


def test_check_mode_without_the_crd_plans_the_create_after_the_extension(server, capsys):
    # Check mode on a new site: the Azure ML extension that installs the CRD is only planned by the task before.
    server.crd = False
    preview = run(capsys, name="small", _ansible_check_mode=True, _ansible_diff=True, **SMALL)
    assert not preview.get("failed") and preview["changed"] is True
    assert preview["actions"] == ["create instance type small (after the Azure ML extension is installed)"]
    assert preview["diff"]["before"] == {} and preview["diff"]["after"]["spec"]["resources"]["limits"]["cpu"] == "2"
    assert server.writes == []
