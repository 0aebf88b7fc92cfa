"""Default compute names across a fleet: the compute_attach role through ansible-playbook, three sites at once.

Three Arc clusters whose names share their first 16 characters, contoso-store-0001 to -0003: the role's old default
named all three `contoso-store00`, so only the first was ever attached (or, with force_reattach, they took the
compute from each other on every run). Here 0001 was attached that way before (a PUT as the old role sent it); one
run of the role on all three keeps 0001's compute under its legacy name with a warning and attaches 0002 and 0003
under their own default names; a run with force_reattach and a check-mode run change nothing; a detach for one
cluster refuses another cluster's compute without a write. Each test asserts what reached Azure (the emulator's
request log and its computes), not only what the tasks say.

The clusters exist in Azure only (an ARM PUT, then what their agents would report, through the emulator's admin API,
as sandbox/tests/contract/test_contract_ml_compute.py does): attaching a compute reads nothing from the cluster.
"""

import base64
import json
import os

import pytest
import yaml
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.name import default_compute_name
from compute_support import CLUSTER_API, EXTENSION_API, ML_API, READY, WORKSPACE, arm_log, dump, writes
from playbook_runner import run_playbook

from sandbox.testing import wait_for

pytestmark = pytest.mark.sandbox

SITES = ("contoso-store-0001", "contoso-store-0002", "contoso-store-0003")
LEGACY = "contoso-store00"  # what the role named all three before
RESOURCE_GROUP = READY["resource_group"]


def compute_path(arm, name):
    workspace = (
        "/resourceGroups/{resource_group}/providers/Microsoft.MachineLearningServices/workspaces/{workspace_name}"
    )
    return arm.subscription + workspace.format(**WORKSPACE) + f"/computes/{name}"


def stored_compute(arm, name):
    response = arm.call("GET", compute_path(arm, name), ML_API)
    return response.json() if response.status_code == 200 else None


def attached_cluster(arm, name):
    return (stored_compute(arm, name) or {}).get("properties", {}).get("resourceId")


@pytest.fixture(scope="module")
def fleet(ml_sandbox, arm):
    """{site: cluster ARM id}: three connected clusters with a succeeded Azure ML extension; 0001's compute attached
    under the old role's name."""
    ml_sandbox.admin.settings(provider_registration_seconds=0.2)
    arm.register("Microsoft.KubernetesConfiguration")
    clusters = {}
    for site in SITES:
        cluster = arm.cluster_id(RESOURCE_GROUP, site)
        key = base64.b64encode(os.urandom(32)).decode()
        body = {"location": "eastus", "properties": {"agentPublicKeyCertificate": key}}
        arm.call("PUT", cluster, CLUSTER_API, json=body).raise_for_status()
        ml_sandbox.admin.report_cluster(cluster, connectivityStatus="Connected")
        extension = cluster + "/providers/Microsoft.KubernetesConfiguration/extensions/azureml"
        body = {
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "extensionType": "Microsoft.AzureML.Kubernetes",
                "configurationSettings": {"enableTraining": "True"},
            },
        }
        arm.call("PUT", extension, EXTENSION_API, json=body).raise_for_status()
        ml_sandbox.admin.report_extension(extension, "Succeeded")
        clusters[site] = cluster
    legacy = {
        "location": "eastus",
        "properties": {
            "computeType": "Kubernetes",
            "computeLocation": "eastus",
            "resourceId": clusters[SITES[0]],
            "properties": {"namespace": "default"},
        },
    }
    arm.call("PUT", compute_path(arm, LEGACY), ML_API, json=legacy).raise_for_status()
    wait_for(
        lambda: stored_compute(arm, LEGACY)["properties"]["provisioningState"] == "Succeeded",
        f"compute {LEGACY} attached",
    )
    return clusters


@pytest.fixture
def run_role(ml_sandbox, tmp_path):
    """run_role(*ansible_playbook_args) -> (run, {site: compute_attach_result}) for the role on the three sites."""
    inventory = {
        "hci_clusters": {
            "hosts": {site: {} for site in SITES},
            "vars": {
                "arcml_resource_group": RESOURCE_GROUP,
                "arcml_workspace_name": WORKSPACE["workspace_name"],
                "arcml_workspace_resource_group": WORKSPACE["resource_group"],
                "compute_attach_wait_timeout": 60,
            },
        }
    }
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    results = tmp_path / "results"
    results.mkdir()
    play = [
        {
            "name": "Attach the fleet",
            "hosts": "hci_clusters",
            "connection": "local",
            "gather_facts": False,
            "roles": ["hci.arc_ml.compute_attach"],
            "post_tasks": [
                {
                    "name": "Save the result",
                    "ansible.builtin.copy": {
                        "content": "{{ compute_attach_result | to_json }}",
                        "dest": f"{results}/{{{{ inventory_hostname }}}}.json",
                        "mode": "0600",
                    },
                    "check_mode": False,
                    "diff": False,
                }
            ],
        }
    ]
    (tmp_path / "fleet.yml").write_text(json.dumps(play))

    def run(*args):
        for old in results.iterdir():
            old.unlink()
        inventory_file = str(tmp_path / "inventory.yml")
        done = run_playbook(tmp_path / "fleet.yml", ml_sandbox.env, tmp_path, "-i", inventory_file, *args)
        by_site = {path.stem: json.loads(path.read_text()) for path in results.iterdir()}
        return done, by_site

    return run


def test_one_run_attaches_each_site_to_its_own_cluster_and_keeps_the_legacy_compute(ml_sandbox, arm, fleet, run_role):
    mark = ml_sandbox.admin.last_seq()

    run, results = run_role()

    assert run.rc == 0 and sorted(results) == list(SITES), run.output[-4000:]
    first, second, third = (results[site] for site in SITES)
    assert (first["name"], first["name_source"], first["changed"]) == (LEGACY, "legacy", False), run.output[-4000:]
    (warning,) = first["warnings"]
    assert f"Using compute {LEGACY} in workspace mlw-compute: it is this cluster's" in warning
    assert f"Its default name now is {default_compute_name(fleet[SITES[0]])}" in warning
    defaults = {}
    for site, result in ((SITES[1], second), (SITES[2], third)):
        assert result["changed"] is True and result["name_source"] == "default", run.output[-4000:]
        assert result["name"] == default_compute_name(fleet[site])
        assert result["name"].startswith("contoso-") and len(result["name"]) == 16
        assert result["compute"]["cluster_resource_id"] == fleet[site]
        defaults[site] = result["name"]
    assert len({LEGACY, *defaults.values()}) == 3

    # In Azure: each compute attached to its own cluster, and only the two new computes were written.
    assert attached_cluster(arm, LEGACY) == fleet[SITES[0]]
    for site, name in defaults.items():
        assert attached_cluster(arm, name) == fleet[site]
    assert sorted(path for method, path, _ in writes(arm_log(ml_sandbox, mark))) == sorted(
        compute_path(arm, name) for name in defaults.values()
    )
    assert {method for method, _path, _query in writes(arm_log(ml_sandbox, mark))} == {"PUT"}


def test_a_second_run_even_with_force_reattach_and_a_check_run_change_nothing(ml_sandbox, arm, fleet, run_role):
    mark = ml_sandbox.admin.last_seq()

    again, again_results = run_role("-e", "compute_attach_force_reattach=true")
    check, check_results = run_role("--check", "--diff")

    for run, results in ((again, again_results), (check, check_results)):
        assert run.rc == 0 and sorted(results) == list(SITES), run.output[-4000:]
        for site in SITES:
            assert results[site]["changed"] is False and results[site]["drift"] == [], (site, results[site])
        assert results[SITES[0]]["name"] == LEGACY
        assert results[SITES[1]]["name"] == default_compute_name(fleet[SITES[1]])
    assert writes(arm_log(ml_sandbox, mark)) == []
    assert attached_cluster(arm, LEGACY) == fleet[SITES[0]]


def test_absent_refuses_another_cluster_s_compute_and_detaches_its_own(ml_sandbox, arm, fleet, playbook, run_role):
    theirs = default_compute_name(fleet[SITES[1]])
    mine = default_compute_name(fleet[SITES[2]])
    refuse = {
        "name": "ml_compute absent, another cluster's compute",
        "hci.arc_ml.ml_compute": {
            "name": theirs,
            **WORKSPACE,
            "cluster_name": SITES[2],
            "cluster_resource_group": RESOURCE_GROUP,
            "state": "absent",
        },
    }
    mark = ml_sandbox.admin.last_seq()

    run = playbook([refuse])

    (refused,) = run.results
    assert refused["failed"] and refused["changed"] is False, dump(run)
    assert refused["msg"] == (
        f"Compute {theirs} in workspace mlw-compute (resource group {WORKSPACE['resource_group']}, subscription "
        f"{ml_sandbox.env['AZURE_SUBSCRIPTION_ID']}) is attached to cluster {fleet[SITES[1]]}, not to "
        f"{fleet[SITES[2]]}: this task detaches only the compute of its own cluster, so nothing was changed. Run it "
        "for that cluster, or give only name (no cluster options) to detach the compute whatever it is attached to."
    )
    assert writes(arm_log(ml_sandbox, mark)) == []
    assert attached_cluster(arm, theirs) == fleet[SITES[1]]

    # The role's detach for one site detaches that site's compute only.
    mark = ml_sandbox.admin.last_seq()
    detached, results = run_role("--limit", SITES[2], "-e", "compute_attach_state=absent")
    assert detached.rc == 0 and results[SITES[2]]["changed"] is True, detached.output[-4000:]
    assert results[SITES[2]]["name"] == mine
    assert writes(arm_log(ml_sandbox, mark)) == [
        ("DELETE", compute_path(arm, mine), {"underlyingResourceAction": "Detach", "api-version": ML_API})
    ]
    assert stored_compute(arm, mine) is None
    assert attached_cluster(arm, theirs) == fleet[SITES[1]] and attached_cluster(arm, LEGACY) == fleet[SITES[0]]
