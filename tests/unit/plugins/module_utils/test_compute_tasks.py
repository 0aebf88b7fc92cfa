"""ml_compute's attach and detach flows against a fake compute API: actions, changed, check mode."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import AzureApiError
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.spec import desired_compute
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.tasks import attach, detach
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.workspace import Workspace

SUB = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
WORKSPACE = Workspace(SUB, "rg-ml", "mlw-prod")
CLUSTER = f"/subscriptions/{SUB}/resourceGroups/rg-hci/providers/Microsoft.Kubernetes/connectedClusters/hci-seattle"


class FakeModule:
    def __init__(self, check_mode=False, force_reattach=False):
        self.check_mode = check_mode
        self.params = {"force_reattach": force_reattach}
        self.result = {"changed": False, "actions": []}
        self.warnings = []

    def waiter(self, required=False):
        return "waiter"

    def warn(self, message):
        self.warnings.append(message)

    def act(self, action):
        self.result["actions"].append(action)
        self.set_changed()

    def set_changed(self, changed=True):
        self.result["changed"] = self.result["changed"] or bool(changed)

    def set_diff(self, before, after):
        self.result["diff"] = {"before": before, "after": after}


class FakeComputes:
    """One workspace's computes; `refuse` makes the attach answer HTTP 400."""

    def __init__(self, refuse=False):
        self.workspace = WORKSPACE
        self.refuse = refuse
        self.calls = []

    def read_workspace(self):
        return {"location": "eastus"}

    def wait_until_settled(self, name, compute, waiter):
        return compute

    def attach(self, desired, body, waiter):
        self.calls.append(("attach", desired.name))
        if self.refuse:
            raise AzureApiError("PUT", "/computes/arccompute", 400, "UserError", "extension not installed")
        return attached(desired.name)

    def detach(self, name, waiter):
        self.calls.append(("detach", name))

    def get(self, name):
        return None


def attached(name="arccompute", namespace="default"):
    return {
        "name": name,
        "properties": {
            "computeType": "Kubernetes",
            "resourceId": CLUSTER,
            "provisioningState": "Succeeded",
            "properties": {"namespace": namespace},
        },
    }


def desired(namespace="default"):
    params = {
        "name": "arccompute",
        "cluster_name": "hci-seattle",
        "cluster_resource_group": "rg-hci",
        "namespace": namespace,
    }
    return desired_compute(params, WORKSPACE)


def test_a_new_compute_is_attached_and_that_is_the_action():
    module, computes = FakeModule(), FakeComputes()
    attach(module, computes, desired(), None)
    assert computes.calls == [("attach", "arccompute")]
    assert module.result["actions"] == ["attach compute arccompute to workspace mlw-prod"]
    assert module.result["changed"] is True


def test_an_attached_compute_that_matches_is_no_action():
    module, computes = FakeModule(), FakeComputes()
    attach(module, computes, desired(), attached())
    assert computes.calls == []
    assert module.result["actions"] == []
    assert module.result["changed"] is False


def test_a_drifted_compute_is_only_reported_without_force_reattach():
    module, computes = FakeModule(), FakeComputes()
    attach(module, computes, desired(namespace="ml"), attached())
    assert computes.calls == []
    assert module.result["actions"] == []
    assert module.result["drift"][0]["field"] == "namespace"


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_reattach_is_a_detach_then_an_attach(check_mode):
    module, computes = FakeModule(check_mode=check_mode, force_reattach=True), FakeComputes()
    attach(module, computes, desired(namespace="ml"), attached())
    assert module.result["actions"] == ["detach compute arccompute", "attach compute arccompute to workspace mlw-prod"]
    assert module.result["changed"] is True
    assert computes.calls == ([] if check_mode else [("detach", "arccompute"), ("attach", "arccompute")])


def test_a_refused_attach_is_no_action_and_no_change():
    module, computes = FakeModule(), FakeComputes(refuse=True)
    with pytest.raises(AzureApiError):
        attach(module, computes, desired(), None)
    assert module.result["actions"] == []
    assert module.result["changed"] is False


@pytest.mark.parametrize("check_mode", [False, True])
def test_detach(check_mode):
    module, computes = FakeModule(check_mode=check_mode), FakeComputes()
    detach(module, computes, "arccompute", attached())
    assert module.result["actions"] == ["detach compute arccompute"]
    assert module.result["diff"]["after"] == {}
    assert computes.calls == ([] if check_mode else [("detach", "arccompute")])


def test_detaching_what_is_not_attached_is_no_action():
    module, computes = FakeModule(), FakeComputes()
    detach(module, computes, "arccompute", None)
    assert module.result["actions"] == []
    assert module.result["changed"] is False
