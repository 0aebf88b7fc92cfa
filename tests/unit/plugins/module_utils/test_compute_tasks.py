"""ml_compute's attach and detach flows against a fake compute API: actions, changed, check mode, the compute's
name when the task gives none, and that no task takes or detaches another cluster's compute."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import AzureApiError
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.client import ComputeError
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.name import default_compute_name
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.spec import desired_compute
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.tasks import attach, converge, detach
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.workspace import Workspace

SUB = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
WORKSPACE = Workspace(SUB, "rg-ml", "mlw-prod")
CLUSTER = f"/subscriptions/{SUB}/resourceGroups/rg-hci/providers/Microsoft.Kubernetes/connectedClusters/hci-seattle"
STORES = f"/subscriptions/{SUB}/resourceGroups/rg-stores/providers/Microsoft.Kubernetes/connectedClusters"
STORE_1, STORE_2 = f"{STORES}/contoso-store-0001", f"{STORES}/contoso-store-0002"


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

    def __init__(self, refuse=False, computes=None):
        self.workspace = WORKSPACE
        self.refuse = refuse
        self.calls = []
        self.computes = dict(computes or {})
        self.bodies = []

    def read_workspace(self):
        return {"location": "eastus"}

    def wait_until_settled(self, name, compute, waiter):
        return compute

    def attach(self, desired, body, waiter):
        self.calls.append(("attach", desired.name))
        self.bodies.append(body)
        if self.refuse:
            raise AzureApiError("PUT", "/computes/arccompute", 400, "UserError", "extension not installed")
        return attached(desired.name)

    def detach(self, name, waiter):
        self.calls.append(("detach", name))

    def get(self, name):
        self.calls.append(("get", name))
        return self.computes.get(name)


def attached(name="arccompute", namespace="default", cluster=CLUSTER):
    return {
        "name": name,
        "properties": {
            "computeType": "Kubernetes",
            "resourceId": cluster,
            "provisioningState": "Succeeded",
            "properties": {"namespace": namespace},
        },
    }


def desired(namespace="default", name="arccompute", cluster=CLUSTER):
    params = {"name": name, "cluster_resource_id": cluster, "namespace": namespace}
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


def test_a_reattach_gives_the_new_compute_the_tags_of_the_detached_one():
    module, computes = FakeModule(force_reattach=True), FakeComputes()
    drifted = dict(attached(), tags={"CostCenter": "4711"})  # added by Azure Policy
    attach(module, computes, desired(namespace="ml"), drifted)
    assert computes.bodies[0]["tags"] == {"CostCenter": "4711"}
    attach(FakeModule(), computes, desired(), None)
    assert "tags" not in computes.bodies[1]  # a new compute: none, as azure-ai-ml sends none


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


def writes(computes):
    return [call for call in computes.calls if call[0] != "get"]


def test_without_a_name_the_compute_gets_the_cluster_s_default_name():
    module, computes = FakeModule(), FakeComputes()
    converge(module, computes, None, STORE_1, desired(name=None, cluster=STORE_1))
    default = default_compute_name(STORE_1)
    assert module.result["name"] == default and module.result["name_source"] == "default"
    # The default name is free; then the legacy name (contoso-store00) is looked at, and left.
    assert computes.calls == [("get", default), ("get", "contoso-store00"), ("attach", default)]
    assert module.warnings == []


@pytest.mark.parametrize("force_reattach", [False, True])
def test_a_legacy_named_compute_of_this_cluster_is_kept_with_a_warning(force_reattach):
    old = attached("contoso-store00", cluster=STORE_1.replace("resourceGroups", "resourcegroups").upper())
    module, computes = FakeModule(force_reattach=force_reattach), FakeComputes(computes={"contoso-store00": old})
    converge(module, computes, None, STORE_1, desired(name=None, cluster=STORE_1))
    assert (module.result["name"], module.result["name_source"]) == ("contoso-store00", "legacy")
    assert writes(computes) == [] and module.result["changed"] is False
    (warning,) = module.warnings
    assert "Using compute contoso-store00 in workspace mlw-prod: it is this cluster's" in warning
    assert f"Its default name now is {default_compute_name(STORE_1)}" in warning


def test_a_legacy_named_compute_of_another_cluster_is_left_to_it():
    """The fleet bug: contoso-store-0002 used to find contoso-store00, attached to 0001, and drift (or steal it)."""
    theirs = attached("contoso-store00", cluster=STORE_1)
    module = FakeModule(force_reattach=True)
    computes = FakeComputes(computes={"contoso-store00": theirs})
    converge(module, computes, None, STORE_2, desired(name=None, cluster=STORE_2))
    default = default_compute_name(STORE_2)
    assert (module.result["name"], module.result["name_source"]) == (default, "default")
    assert writes(computes) == [("attach", default)]
    assert module.warnings == []


def test_a_default_name_attached_to_another_cluster_is_never_taken():
    default = default_compute_name(STORE_2)
    module = FakeModule(force_reattach=True)
    computes = FakeComputes(computes={default: attached(default, cluster=STORE_1)})
    with pytest.raises(ComputeError) as failure:
        converge(module, computes, None, STORE_2, desired(name=None, cluster=STORE_2))
    message = failure.value.message
    assert message.startswith(f"Compute {default} in workspace mlw-prod ")
    assert f"is attached to cluster {STORE_1}, not to {STORE_2}" in message
    assert "Set name to another compute name" in message
    assert writes(computes) == [] and module.result["changed"] is False


def test_an_explicit_name_still_wins_and_its_drift_is_reported_as_before():
    module, computes = FakeModule(), FakeComputes(computes={"arccompute": attached(cluster=STORE_1)})
    converge(module, computes, "arccompute", STORE_2, desired(cluster=STORE_2))
    assert (module.result["name"], module.result["name_source"]) == ("arccompute", "option")
    assert computes.calls == [("get", "arccompute")]
    assert module.result["drift"][0]["field"] == "cluster_resource_id"


@pytest.mark.parametrize("name", ["arccompute", None])
def test_absent_detaches_only_this_cluster_s_compute(name):
    compute_name = name or default_compute_name(STORE_2)
    module = FakeModule()
    computes = FakeComputes(computes={compute_name: attached(compute_name, cluster=STORE_1)})
    with pytest.raises(ComputeError) as failure:
        converge(module, computes, name, STORE_2, None)
    message = failure.value.message
    assert f"is attached to cluster {STORE_1}, not to {STORE_2}" in message
    assert "detaches only the compute of its own cluster, so nothing was changed" in message
    assert "\n" not in message
    assert writes(computes) == [] and module.result["changed"] is False


@pytest.mark.parametrize(
    "stored", [STORE_2, STORE_2.lower() + "/", STORE_2.replace("resourceGroups", "resourcegroups")]
)
def test_absent_detaches_this_cluster_s_compute_whatever_the_case_of_its_id(stored):
    module, computes = FakeModule(), FakeComputes(computes={"arccompute": attached(cluster=stored)})
    converge(module, computes, "arccompute", STORE_2, None)
    assert writes(computes) == [("detach", "arccompute")]


def test_absent_with_only_a_name_detaches_whatever_the_compute_is_attached_to():
    module, computes = FakeModule(), FakeComputes(computes={"arccompute": attached(cluster=STORE_1)})
    converge(module, computes, "arccompute", None, None)
    assert writes(computes) == [("detach", "arccompute")]


def test_absent_without_a_name_detaches_this_cluster_s_legacy_named_compute():
    module = FakeModule()
    computes = FakeComputes(computes={"contoso-store00": attached("contoso-store00", cluster=STORE_1)})
    converge(module, computes, None, STORE_1, None)
    assert writes(computes) == [("detach", "contoso-store00")]
    assert module.result["name_source"] == "legacy"


def test_absent_without_a_name_leaves_another_cluster_s_legacy_named_compute():
    module = FakeModule()
    computes = FakeComputes(computes={"contoso-store00": attached("contoso-store00", cluster=STORE_1)})
    converge(module, computes, None, STORE_2, None)
    assert writes(computes) == []
    assert module.result["msg"] == f"Compute {default_compute_name(STORE_2)} is not attached to workspace mlw-prod."
