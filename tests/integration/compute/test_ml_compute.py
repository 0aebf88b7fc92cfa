"""ml_compute, ml_compute_info and instance_type through ansible-playbook against a sandbox of their own.

The lifecycle tests run in file order on one compute, `arccompute` on cluster ml-ready: check mode,
attach, a second run, drift, re-attach, detach. Each asserts what reached Azure (the emulator's
request log) and the cluster (its API server), not only what the task says.
"""

import json
from datetime import datetime

import pytest
from compute_support import (
    BARE,
    CLUSTER_API,
    EXTENSION_API,
    ML_API,
    READY,
    WORKSPACE,
    arm_log,
    cluster_id,
    dump,
    writes,
)

pytestmark = pytest.mark.sandbox

COMPUTE = "arccompute"
SUCCEEDED = 'Provisioning operation finished, operation "Succeeded"'
INSTANCE_TYPE = "gpu-large"
INSTANCE_TYPES = "/apis/amlarc.azureml.com/v1alpha1/instancetypes"
# Nothing listens on the discard port: any request the module sent there would fail, not pass.
UNREACHABLE = "https://127.0.0.1:9"
GPU_LARGE = {
    "node_selector": {"gpu": "true"},
    "requests": {"cpu": "2", "memory": "8Gi"},
    "limits": {"cpu": "4", "memory": "16Gi", "gpu": 1},
}


def compute_task(name=COMPUTE, site=READY, **options):
    arguments = {
        "name": name,
        **WORKSPACE,
        "cluster_name": site["site"],
        "cluster_resource_group": site["resource_group"],
        # Longer than the sandbox's Retry-After (1 s), so a poll 1 s after the PUT proves Retry-After won.
        "wait_sleep": 5,
        "wait_timeout": 60,
    }
    arguments.update(options)
    return {"name": f"ml_compute {name}", "hci.arc_ml.ml_compute": arguments}


def instance_type_task(sandbox, site, name=INSTANCE_TYPE, **options):
    arguments = {"kubeconfig": str(sandbox.kubeconfig(site["site"])), "name": name, **options}
    return {"name": f"instance_type {name}", "hci.arc_ml.instance_type": arguments}


def compute_path(name=COMPUTE):
    workspace = (
        "/resourceGroups/{resource_group}/providers/Microsoft.MachineLearningServices/workspaces/{workspace_name}"
    )
    return workspace.format(**WORKSPACE) + f"/computes/{name}"


def get_compute(arm, name=COMPUTE):
    return arm.call("GET", arm.subscription + compute_path(name), ML_API)


def instance_type(sandbox, site, name=INSTANCE_TYPE):
    kube = sandbox.kube_api(site["site"])
    return kube.get(f"{INSTANCE_TYPES}/{name}") if kube.exists(f"{INSTANCE_TYPES}/{name}") else None


def seconds(entry):
    """When the emulator received a request (its log's ISO 8601 time)."""
    return datetime.fromisoformat(entry["time"]).timestamp()


def test_before_the_extension_attach_fails_with_guidance(ml_sandbox, playbook, arm, extension_id):
    """ml-bare has no Azure ML extension (ml-ready has one, so the guidance is per cluster)."""
    # An invalid name fails before any request: with an unreachable cloud, a request would fail differently.
    invalid = compute_task("1-compute-9", BARE, cloud_environment=UNREACHABLE)
    mark = ml_sandbox.admin.last_seq()

    run = playbook(
        [
            invalid,
            compute_task("barecompute", BARE),
            instance_type_task(ml_sandbox, BARE, **GPU_LARGE),
            instance_type_task(ml_sandbox, BARE, state="absent"),
        ]
    )

    bad_name, attach, create_type, remove_type = run.results
    assert bad_name["failed"], dump(run)
    assert bad_name["msg"].startswith("Compute name '1-compute-9' is invalid: it does not start with a letter; it ")
    assert "nothing was sent to Azure" in bad_name["msg"]
    assert not [e for e in ml_sandbox.admin.requests(since=mark) if "1-compute-9" in e["path"]]

    assert attach["failed"] and attach["changed"] is False, dump(run)
    message = attach["msg"]
    assert f"the Azure ML extension is not installed on cluster {cluster_id(arm, BARE)}" in message
    assert "Compute attach failed: extension not installed" in message  # the service's own words
    assert (
        "az k8s-extension create --name azureml --extension-type Microsoft.AzureML.Kubernetes --config "
        "enableTraining=True --cluster-type connectedClusters --cluster-name ml-bare --resource-group rg-compute-bare"
    ) in message
    assert f"x-ms-request-id: {attach['request_id']}" in message
    assert [(method, path) for method, path, _ in writes(arm_log(ml_sandbox, mark))] == [
        ("PUT", arm.subscription + compute_path("barecompute"))
    ]
    assert get_compute(arm, "barecompute").status_code == 404

    assert create_type["failed"], dump(run)
    assert "instancetypes.amlarc.azureml.com is missing" in create_type["msg"]
    assert "Azure ML extension (Microsoft.AzureML.Kubernetes) is not installed" in create_type["msg"]
    assert not remove_type.get("failed") and remove_type["changed"] is False, dump(run)


def test_check_mode_with_diff_writes_nothing(ml_sandbox, playbook, arm, extension_id):
    mark = ml_sandbox.admin.last_seq()

    run = playbook([compute_task(), instance_type_task(ml_sandbox, READY, **GPU_LARGE)], "--check", "--diff")

    attach, create_type = run.results
    assert attach["changed"] is True and not attach.get("failed"), dump(run)
    assert attach["msg"] == f"Would attach compute {COMPUTE} to workspace mlw-compute (check mode)."
    assert attach["diff"]["before"] == {}
    assert attach["diff"]["after"]["cluster_resource_id"] == cluster_id(arm, READY)
    assert attach["diff"]["after"]["namespace"] == "default"
    assert create_type["changed"] is True and create_type["diff"]["after"]["spec"]["resources"]["limits"] == {
        "cpu": "4",
        "memory": "16Gi",
        "nvidia.com/gpu": 1,
    }
    assert writes(arm_log(ml_sandbox, mark)) == []
    assert get_compute(arm).status_code == 404
    assert instance_type(ml_sandbox, READY) is None


def test_attach_after_the_extension_succeeds(ml_sandbox, playbook, arm, extension_id):
    mark = ml_sandbox.admin.last_seq()

    run = playbook([compute_task(), instance_type_task(ml_sandbox, READY, **GPU_LARGE)])

    attach, create_type = run.results
    assert attach["changed"] is True and not attach.get("failed"), dump(run)
    assert attach["msg"] == f"Attached compute {COMPUTE} to workspace mlw-compute: {SUCCEEDED}"
    compute = attach["compute"]
    assert compute["provisioning_state"] == "Succeeded"
    assert compute["cluster_resource_id"] == cluster_id(arm, READY)
    assert compute["namespace"] == "default"
    assert attach["drift"] == []
    stored = get_compute(arm).json()
    assert stored["properties"]["provisioningState"] == "Succeeded"
    assert stored["properties"]["computeType"] == "Kubernetes"
    assert stored["location"] == "eastus"  # the workspace's, as azure-ai-ml sends it
    assert stored["properties"]["computeLocation"] == "eastus"  # azure-ai-ml sends it as computeLocation too

    entries = [e for e in ml_sandbox.admin.requests(since=mark) if e["path"].lower().startswith("/subscriptions/")]
    assert [(e["method"], e["path"]) for e in entries if e["method"] != "GET"] == [
        ("PUT", arm.subscription + compute_path())
    ]
    put = next(e for e in entries if e["method"] == "PUT")
    assert put["body"]["location"] == put["body"]["properties"]["computeLocation"] == "eastus"
    polls = [e for e in entries if "/computeOperationsStatus/" in e["path"]]
    assert polls, "the attach was not followed to its end"
    # The first status poll waits for Retry-After (1 s), not wait_sleep (5 s), and not nothing.
    assert 0.9 <= seconds(polls[0]) - seconds(put) < 4.5

    assert create_type["changed"] is True, dump(run)
    created = instance_type(ml_sandbox, READY)
    assert created["spec"] == {
        "nodeSelector": {"gpu": "true"},
        "resources": {
            "requests": {"cpu": "2", "memory": "8Gi"},
            "limits": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": 1},
        },
    }


def test_a_second_run_changes_nothing_and_drift_is_only_reported(ml_sandbox, playbook, arm, tmp_path):
    config_dir = tmp_path / "ml-project"
    (config_dir / ".azureml").mkdir(parents=True)
    (config_dir / "notebooks").mkdir()
    config = config_dir / ".azureml" / "config.json"
    config.write_text(
        json.dumps(
            {
                "subscription_id": ml_sandbox.env["AZURE_SUBSCRIPTION_ID"],
                "resource_group": WORKSPACE["resource_group"],
                "workspace_name": WORKSPACE["workspace_name"],
            }
        )
    )
    by_config = compute_task()
    for option in WORKSPACE:
        del by_config["hci.arc_ml.ml_compute"][option]
    by_config["hci.arc_ml.ml_compute"]["workspace_config"] = str(config)
    info = {
        "name": "ml_compute_info, config.json found from a subdirectory",
        "hci.arc_ml.ml_compute_info": {"workspace_config": str(config_dir / "notebooks"), "name": COMPUTE},
    }
    version = instance_type(ml_sandbox, READY)["metadata"]["resourceVersion"]
    mark = ml_sandbox.admin.last_seq()

    run = playbook(
        [
            compute_task(),
            instance_type_task(ml_sandbox, READY, **GPU_LARGE),
            by_config,
            info,
            compute_task(namespace="azureml-jobs"),
        ]
    )

    again, _same_type, with_config, read, drifted = run.results
    for result in run.results:
        assert result["changed"] is False and not result.get("failed"), dump(run)
    assert again["msg"] == f"Compute {COMPUTE} is attached to workspace mlw-compute as requested (Succeeded)."
    assert with_config["compute"]["id"].endswith(compute_path())
    assert with_config["workspace"]["config_file"] == str(config)
    assert read["workspace"]["config_file"] == str(config)
    (found,) = read["computes"]
    assert (found["name"], found["provisioning_state"], found["namespace"]) == (COMPUTE, "Succeeded", "default")

    assert drifted["drift"] == [{"field": "namespace", "attached": "default", "requested": "azureml-jobs"}]
    (warning,) = drifted["warnings"]
    assert "namespace is 'default', the task asks for 'azureml-jobs'" in warning
    assert "set force_reattach: true" in warning

    log = arm_log(ml_sandbox, mark)
    assert writes(log) == []
    # One read per task proves it: the compute's GET.
    assert [(method, path) for method, path, _ in log] == [("GET", arm.subscription + compute_path())] * 4
    assert instance_type(ml_sandbox, READY)["metadata"]["resourceVersion"] == version
    assert get_compute(arm).json()["properties"]["properties"]["namespace"] == "default"


def test_force_reattach_fixes_the_drift(ml_sandbox, playbook, arm):
    bigger = dict(GPU_LARGE, limits={"cpu": "8", "memory": "32Gi", "gpu": 2})
    mark = ml_sandbox.admin.last_seq()

    run = playbook(
        [
            compute_task(namespace="azureml-jobs", force_reattach=True),
            instance_type_task(ml_sandbox, READY, **bigger),
        ],
        "--diff",
        "-vvvv",
    )

    reattach, change_type = run.results
    assert reattach["changed"] is True and not reattach.get("failed"), dump(run)
    assert reattach["msg"] == f"Re-attached compute {COMPUTE} to workspace mlw-compute: {SUCCEEDED}"
    assert reattach["compute"]["namespace"] == "azureml-jobs"
    assert reattach["drift"] == []
    assert (reattach["diff"]["before"]["namespace"], reattach["diff"]["after"]["namespace"]) == (
        "default",
        "azureml-jobs",
    )
    path = arm.subscription + compute_path()
    assert writes(arm_log(ml_sandbox, mark)) == [
        ("DELETE", path, {"underlyingResourceAction": "Detach", "api-version": ML_API}),
        ("PUT", path, {"api-version": ML_API}),
    ]
    assert get_compute(arm).json()["properties"]["properties"]["namespace"] == "azureml-jobs"

    assert change_type["changed"] is True, dump(run)
    assert change_type["diff"]["before"]["spec"]["resources"]["limits"]["memory"] == "16Gi"
    changed = instance_type(ml_sandbox, READY)
    assert changed["spec"]["resources"]["limits"] == {"cpu": "8", "memory": "32Gi", "nvidia.com/gpu": 2}
    assert changed["spec"]["nodeSelector"] == {"gpu": "true"}
    assert ml_sandbox.env["AZURE_CLIENT_SECRET"] not in run.output


def test_detach_leaves_the_cluster_and_the_extension(ml_sandbox, playbook, arm, extension_id):
    mark = ml_sandbox.admin.last_seq()
    absent = {"state": "absent"}

    run = playbook(
        [
            compute_task(**absent),
            compute_task(**absent),
            instance_type_task(ml_sandbox, READY, **absent),
            instance_type_task(ml_sandbox, READY, **absent),
            {"name": "read it back", "hci.arc_ml.ml_compute_info": {**WORKSPACE, "name": COMPUTE}},
        ],
        "--diff",
    )

    detach, detach_again, remove_type, remove_again, read = run.results
    assert detach["changed"] is True and not detach.get("failed"), dump(run)
    assert "underlyingResourceAction=Detach" in detach["msg"]
    assert detach["diff"]["after"] == {} and detach["diff"]["before"]["namespace"] == "azureml-jobs"
    assert detach["compute"] is None
    assert detach_again["changed"] is False
    assert remove_type["changed"] is True and remove_again["changed"] is False, dump(run)
    assert read["computes"] == []

    path = arm.subscription + compute_path()
    assert writes(arm_log(ml_sandbox, mark)) == [
        ("DELETE", path, {"underlyingResourceAction": "Detach", "api-version": ML_API})
    ]
    assert get_compute(arm).status_code == 404
    cluster = arm.call("GET", cluster_id(arm, READY), CLUSTER_API).json()
    assert cluster["properties"]["connectivityStatus"] == "Connected"
    extension = arm.call("GET", extension_id, EXTENSION_API).json()
    assert extension["properties"]["provisioningState"] == "Succeeded"
    kube = ml_sandbox.kube_api(READY["site"])
    assert instance_type(ml_sandbox, READY) is None
    assert kube.exists("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/instancetypes.amlarc.azureml.com")
    assert kube.exists("/api/v1/namespaces/azureml/configmaps/azureml-extension-settings")
