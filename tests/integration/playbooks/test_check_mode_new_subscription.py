"""site.yml --check --diff in a new subscription, where no resource provider Arc needs was ever registered.

ARM answers every request for a resource of an unregistered namespace with 409 MissingSubscriptionRegistration, the
GETs too. In check mode the play's first step (resource_provider) only reports the registrations it would make, so
each later step reads before it writes against namespaces that are still unregistered: that answer must plan a
creation there, never fail the step. Outside check mode it stays an error. The tests run in order on one sandbox
(sites_new_subscription.yml: one new site, nothing of Arc registered) and build on each other.
"""

import json
from pathlib import Path

import pytest
from playbook_runner import run_playbook, run_tasks
from test_new_site_and_aksarc import EXTENSION_API, STEPS, cluster_state, step_outcomes
from test_site_playbooks import arm_writes, recap

from sandbox.testing import ArmSession, running_sandbox

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[3]
SITES = Path(__file__).resolve().parent / "sites_new_subscription.yml"
PLAYBOOKS = REPO / "playbooks"
SITE, RESOURCE_GROUP = "ns-new", "rg-ns-new"
WORKSPACE = "rg-ns-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw-ns"
# The workspace proves Machine Learning registered; the seed leaves the others as a new subscription has them.
UNREGISTERED = ("Microsoft.Kubernetes", "Microsoft.KubernetesConfiguration", "Microsoft.ExtendedLocation",
                "Microsoft.Relay")  # fmt: skip
PROVIDER_API = "2022-09-01"
CLUSTER_API = "2024-01-01"


@pytest.fixture(scope="module")
def sandbox(testbed_bin, tmp_path_factory):
    with running_sandbox(SITES, tmp_path_factory.mktemp("new-subscription")) as sandbox:
        sandbox.admin.settings(lro_seconds=0.5, provider_registration_seconds=0.5)
        yield sandbox


def play(sandbox, tmp_path, *args):
    return run_playbook(PLAYBOOKS / "site.yml", sandbox.env, tmp_path, "-i", str(sandbox.inventory), *args)


def registration_states(arm):
    return {
        ns: arm.call("GET", f"{arm.subscription}/providers/{ns}", PROVIDER_API).json()["registrationState"]
        for ns in UNREGISTERED
    }


def test_arm_refuses_a_read_under_an_unregistered_namespace_with_409_missing_subscription_registration(sandbox):
    # What ARM answers (the body as the Azure engineers quote it in
    # https://github.com/Azure/msrestazure-for-python/issues/53; azure-mgmt-core's
    # ARMAutoResourceProviderRegistrationPolicy reads the 409 and the code).
    arm = ArmSession(sandbox.env)
    assert set(registration_states(arm).values()) == {"NotRegistered"}

    answer = arm.call("GET", arm.cluster_id(RESOURCE_GROUP, SITE), CLUSTER_API)

    assert answer.status_code == 409
    message = (
        "The subscription is not registered to use namespace 'Microsoft.Kubernetes'. "
        "See https://aka.ms/rps-not-found for how to register subscriptions."
    )
    assert answer.json() == {
        "error": {
            "code": "MissingSubscriptionRegistration",
            "message": message,
            "details": [{"code": "MissingSubscriptionRegistration", "target": "Microsoft.Kubernetes",
                         "message": message}],
        }
    }  # fmt: skip


def test_check_diff_plans_every_step_and_writes_nothing(sandbox, tmp_path):
    api = sandbox.kube_api(SITE)
    before = cluster_state(api)
    mark = sandbox.admin.last_seq()

    run = play(sandbox, tmp_path, "--check", "--diff", "--limit", SITE)

    assert run.rc == 0, run.output[-3000:]
    assert recap(run.output)[SITE]["failed"] == 0
    # The registrations it would make (one loop item per subscription), then each step's plan.
    assert f"changed: [{SITE}] => (item={sandbox.env['AZURE_SUBSCRIPTION_ID']})" in run.output
    outcomes = step_outcomes(run.output, SITE)
    assert {step: outcomes.get(step) for step in STEPS} == dict.fromkeys(STEPS, "changed"), outcomes
    assert '"extension_type": "microsoft.azureml.kubernetes"' in run.output
    assert "MissingSubscriptionRegistration" not in run.output
    assert arm_writes(sandbox.admin, mark) == []
    # The reads that met the unregistered namespaces: the cluster (Arc step, and the extension step's cluster read)
    # and the extension.
    refused = {r["path"].rsplit("/providers/", 1)[-1] for r in sandbox.admin.requests(since=mark) if r["status"] == 409}
    assert refused == {
        "Microsoft.Kubernetes/connectedClusters/ns-new",
        "Microsoft.KubernetesConfiguration/extensions/azureml",
    }
    assert cluster_state(api) == before
    arm = ArmSession(sandbox.env)
    assert set(registration_states(arm).values()) == {"NotRegistered"}


def test_outside_check_mode_an_unregistered_namespace_stays_an_error(sandbox, tmp_path):
    api = sandbox.kube_api(SITE)
    before = cluster_state(api)
    mark = sandbox.admin.last_seq()
    connect = {"name": SITE, "resource_group": RESOURCE_GROUP, "location": "eastus",
               "kubeconfig": str(sandbox.kubeconfig(SITE))}  # fmt: skip

    run = run_tasks([{"hci.arc_ml.connected_cluster": connect}], sandbox.env, tmp_path)

    [result] = run.results
    assert result["failed"] is True and result["error_code"] == "MissingSubscriptionRegistration"
    assert result["status"] == 409
    assert "Register Microsoft.Kubernetes in this subscription (hci.arc_ml.resource_provider)" in result["msg"]
    assert arm_writes(sandbox.admin, mark) == []
    assert cluster_state(api) == before


def test_a_normal_run_then_registers_the_providers_and_converges(sandbox, tmp_path):
    run = play(sandbox, tmp_path, "--limit", SITE)

    assert run.rc == 0, run.output[-3000:]
    assert recap(run.output)[SITE]["failed"] == 0
    arm = ArmSession(sandbox.env)
    assert set(registration_states(arm).values()) == {"Registered"}
    cluster = arm.call("GET", arm.cluster_id(RESOURCE_GROUP, SITE), CLUSTER_API).json()
    assert cluster["properties"]["connectivityStatus"] == "Connected"
    extension_path = arm.cluster_id(RESOURCE_GROUP, SITE) + "/providers/Microsoft.KubernetesConfiguration/extensions"
    extension = arm.call("GET", extension_path + "/azureml", EXTENSION_API).json()
    assert extension["properties"]["provisioningState"] == "Succeeded"
    computes = arm.call("GET", f"{arm.subscription}/resourceGroups/{WORKSPACE}/computes", "2025-12-01").json()
    owners = [c["properties"]["resourceId"].lower() for c in computes["value"]]
    assert owners == [arm.cluster_id(RESOURCE_GROUP, SITE).lower()], json.dumps(computes)[:2000]
