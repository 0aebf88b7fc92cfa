"""hci.arc_ml.ml_compute's compute name and ownership through the whole module against a scripted Azure: the
argument spec, the ARM pipeline, and which requests are sent (only the network and the clock are fake)."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.name import default_compute_name
from ansible_collections.hci.arc_ml.plugins.modules import ml_compute
from ansible_collections.hci.arc_ml.tests.unit.plugins.conftest import FAKE_AUTH, FAKE_SUBSCRIPTION, run_module

ARM = "https://127.0.0.1:8443"
LOGIN = ARM + "/login"
SUBSCRIPTION = FAKE_SUBSCRIPTION
AUTH = FAKE_AUTH
RESOURCE_GROUP = f"/subscriptions/{SUBSCRIPTION}/resourceGroups"
WORKSPACE = f"{RESOURCE_GROUP}/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw"
STORES = f"{RESOURCE_GROUP}/rg-stores/providers/Microsoft.Kubernetes/connectedClusters"


class FakeArm:
    """The workspace's computes by name; GET answers them (404 otherwise), anything else is recorded and refused."""

    def __init__(self, computes):
        self.computes = computes
        self.log = []

    def __call__(self, request, reply):
        path = request.url[len(ARM) :].partition("?")[0]
        self.log.append((request.method, path))
        name = path.rpartition("/computes/")[2]
        if request.method == "GET" and name in self.computes:
            return reply(200, self.computes[name])
        if request.method == "GET":
            return reply(404, {"error": {"code": "NotFound", "message": f"{name} not found"}})
        return reply(400, {"error": {"code": "UserError", "message": "no write expected"}})


def run(capsys, **args):
    arguments = {**AUTH, "workspace_name": "mlw", "resource_group": "rg-ml", **args}
    return run_module(capsys, ml_compute, arguments)


def kubernetes_compute(name, cluster):
    return {
        "id": f"{WORKSPACE}/computes/{name}",
        "name": name,
        "properties": {"computeType": "Kubernetes", "resourceId": cluster, "provisioningState": "Succeeded"},
    }


def test_without_name_or_cluster_the_module_fails_before_any_request(fake_azure, capsys):
    arm = fake_azure(FakeArm({}))
    result = run(capsys, state="absent")
    assert result["failed"] is True
    assert "one of the following is required: name, cluster_resource_id, cluster_name" in result["msg"]
    assert arm.log == []


@pytest.mark.parametrize("check_mode", [False, True])
def test_absent_refuses_a_compute_attached_to_another_cluster_and_sends_no_write(fake_azure, capsys, check_mode):
    owner, mine = f"{STORES}/contoso-store-0001", f"{STORES}/contoso-store-0002"
    arm = fake_azure(FakeArm({"arccompute": kubernetes_compute("arccompute", owner.lower())}))
    result = run(capsys, name="arccompute", cluster_resource_id=mine, state="absent", _ansible_check_mode=check_mode)
    assert result["failed"] is True and result["changed"] is False
    assert f"is attached to cluster {owner.lower()}, not to {mine}" in result["msg"]
    assert result["actions"] == []
    assert [method for method, _path in arm.log] == ["GET"]


def test_present_without_a_name_reports_the_default_name(fake_azure, capsys):
    cluster = f"{STORES}/contoso-store-0002"
    default = default_compute_name(cluster)
    arm = fake_azure(FakeArm({default: kubernetes_compute(default, cluster)}))
    result = run(capsys, cluster_resource_id=cluster)
    assert not result.get("failed"), result
    assert (result["name"], result["name_source"], result["changed"]) == (default, "default", False)
    assert arm.log == [("GET", f"{WORKSPACE}/computes/{default}")]
