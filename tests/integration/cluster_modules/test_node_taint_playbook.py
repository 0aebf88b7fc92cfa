"""hci.arc_ml.node_taint through ansible-playbook against a real kube-apiserver."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from cluster_helpers import FOREIGN_TAINT, OS_TAINT, dump, task

pytestmark = pytest.mark.testbed

WINDOWS = ["mixed-win-1", "mixed-win-2"]
LINUX = ["mixed-lin-1", "mixed-lin-2"]
FATAL = "fatal: [localhost]: FAILED! => "


def taint(cluster, **options):
    return task("node_taint", kubeconfig=cluster.kubeconfig, **options)


def test_check_mode_shows_a_diff_per_node_and_writes_nothing(pristine_taints, playbook):
    mixed = pristine_taints
    before = mixed.versions()

    run = playbook([taint(mixed)], "--check", "--diff")

    (result,) = run.results
    assert not result.get("failed"), dump(run)
    assert result["changed"] is True
    assert [n["name"] for n in result["changed_nodes"]] == WINDOWS
    assert result["changed_nodes"][0]["taints"] == [FOREIGN_TAINT, OS_TAINT]
    assert result["changed_nodes"][1]["added"] == ["node.kubernetes.io/os=windows:NoSchedule"]
    assert result["msg"] == "Would taint 2 of 2 nodes matching kubernetes.io/os=windows."
    assert result["diff"] == [
        {
            "before_header": "node/mixed-win-1 taints",
            "after_header": "node/mixed-win-1 taints",
            "before": {"taints": [FOREIGN_TAINT]},
            "after": {"taints": [FOREIGN_TAINT, OS_TAINT]},
        },
        {
            "before_header": "node/mixed-win-2 taints",
            "after_header": "node/mixed-win-2 taints",
            "before": {"taints": []},
            "after": {"taints": [OS_TAINT]},
        },
    ]
    for name in WINDOWS:
        assert f"--- before: node/{name} taints\n+++ after: node/{name} taints\n" in run.output, run.output
    assert '+            "key": "node.kubernetes.io/os",' in run.output
    assert mixed.versions() == before, "check mode wrote to a node"


def test_windows_nodes_get_the_taint_others_survive_and_a_second_run_changes_nothing(pristine_taints, playbook):
    mixed = pristine_taints
    linux_before = {name: mixed.node(name) for name in LINUX}

    run = playbook([taint(mixed), taint(mixed)], "-vvvv")

    first, second = run.results
    assert not first.get("failed"), dump(run)
    assert first["changed"] is True
    assert first["matched_nodes"] == WINDOWS
    assert [n["name"] for n in first["changed_nodes"]] == WINDOWS
    assert mixed.taints() == {
        "mixed-lin-1": [],
        "mixed-lin-2": [],
        "mixed-win-1": [FOREIGN_TAINT, OS_TAINT],
        "mixed-win-2": [OS_TAINT],
    }
    for name in LINUX:
        assert mixed.node(name)["metadata"]["resourceVersion"] == linux_before[name]["metadata"]["resourceVersion"]

    assert second["changed"] is False, dump(run)
    assert second["changed_nodes"] == []
    assert second["msg"] == "All 2 nodes matching kubernetes.io/os=windows already carry the taints: nothing to change."
    for secret in mixed.secrets():
        assert secret not in run.output


def test_absent_removes_only_our_taint(pristine_taints, playbook):
    mixed = pristine_taints
    same_key_other_effect = dict(OS_TAINT, effect="PreferNoSchedule")
    mixed.set_taints("mixed-win-1", [FOREIGN_TAINT, OS_TAINT])
    mixed.set_taints("mixed-win-2", [OS_TAINT, same_key_other_effect])
    mixed.set_taints("mixed-lin-1", [OS_TAINT])  # outside the selector: must stay

    run = playbook([taint(mixed, state="absent"), taint(mixed, state="absent")], "--diff")

    first, second = run.results
    assert not first.get("failed"), dump(run)
    assert first["changed"] is True
    assert [(n["name"], n["removed"]) for n in first["changed_nodes"]] == [
        ("mixed-win-1", ["node.kubernetes.io/os=windows:NoSchedule"]),
        ("mixed-win-2", ["node.kubernetes.io/os=windows:NoSchedule"]),
    ]
    assert first["msg"] == "Removed the taints from 2 of 2 nodes matching kubernetes.io/os=windows."
    assert mixed.taints() == {
        "mixed-lin-1": [OS_TAINT],
        "mixed-lin-2": [],
        "mixed-win-1": [FOREIGN_TAINT],
        "mixed-win-2": [same_key_other_effect],
    }
    assert second["changed"] is False, dump(run)
    assert "diff" not in second or second["diff"] == []


def test_custom_taints_and_selector_update_a_value_in_place(pristine_taints, playbook):
    mixed = pristine_taints
    mixed.set_taints("mixed-lin-1", [{"key": "example.com/dedicated", "value": "web", "effect": "NoSchedule"}])
    gpu = [
        {"key": "example.com/dedicated", "value": "azureml", "effect": "NoSchedule"},
        {"key": "example.com/spot", "effect": "PreferNoSchedule"},
    ]

    run = playbook([taint(mixed, label_selector="kubernetes.io/hostname=mixed-lin-1", taints=gpu)])

    (result,) = run.results
    assert not result.get("failed"), dump(run)
    assert result["changed_nodes"] == [
        {
            "name": "mixed-lin-1",
            "added": ["example.com/dedicated=azureml:NoSchedule", "example.com/spot:PreferNoSchedule"],
            "removed": ["example.com/dedicated=web:NoSchedule"],
            "taints": gpu,
        }
    ]
    assert mixed.taints()["mixed-lin-1"] == gpu


def test_a_site_without_windows_nodes_is_not_an_error(small, playbook):
    before = small.versions()
    defaults = {"group/hci.arc_ml.kubernetes": {"kubeconfig": small.kubeconfig}}

    run = playbook([dict(task("node_taint"), module_defaults=defaults)], ignore_errors=False)

    assert run.rc == 0, dump(run)
    (result,) = run.results
    assert result["changed"] is False
    assert result["matched_nodes"] == []
    assert result["msg"] == "No node matches the label selector 'kubernetes.io/os=windows': nothing to change."
    assert small.versions() == before


def test_missing_rights_fail_with_one_line_even_in_check_mode(mixed, playbook, tmp_path):
    nobody = mixed.cluster.user_kubeconfig("nobody", path=tmp_path / "nobody.kubeconfig")
    reader = mixed.cluster.user_kubeconfig("node-reader", path=tmp_path / "reader.kubeconfig")
    before = mixed.versions()

    run = playbook(
        [
            task("node_taint", kubeconfig=str(nobody)),
            task("node_taint", kubeconfig=str(reader)),
        ],
        "--check",
        "-vvvv",
    )

    cannot_list, cannot_patch = run.results
    assert cannot_list["failed"] is True, dump(run)
    assert cannot_list["msg"] == (
        "Cannot list nodes matching 'kubernetes.io/os=windows': nodes is forbidden: User \"nobody\" cannot list "
        'resource "nodes" in API group "" at the cluster scope (HTTP 403)'
    )
    # The reader may list nodes but not patch them: the server-side dry run of check mode says so.
    assert cannot_patch["failed"] is True, dump(run)
    assert cannot_patch["msg"].startswith("Cannot change the taints of node mixed-win-1: "), cannot_patch["msg"]
    assert 'User "node-reader" cannot patch resource "nodes"' in cannot_patch["msg"]
    assert "Traceback" not in run.output
    for result in run.results:
        assert "\n" not in result["msg"]
        # ansible-core 2.19 registers every failure with this placeholder unless tracebacks are enabled.
        assert result.get("exception") in (None, "(traceback unavailable)")
    for secret in mixed.secrets(nobody) + mixed.secrets(reader):
        assert secret not in run.output
    assert mixed.versions() == before


def test_two_runs_at_once_keep_both_writers_taints(pristine_taints, playbook, tmp_path):
    """Two playbooks taint the same nodes at the same time with different keys: neither taint is lost."""
    from playbook_runner import run_tasks

    mixed = pristine_taints
    keys = ["example.com/first", "example.com/second"]

    def run(key):
        directory = tmp_path / key.split("/")[1]
        directory.mkdir()
        tasks = [taint(mixed, taints=[{"key": key, "value": "x"}])]
        return run_tasks(tasks, {}, directory)

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(run, keys))

    for each in runs:
        assert each.rc == 0 and not each.results[0].get("failed"), dump(each)
    expected_extra = [{"key": key, "value": "x", "effect": "NoSchedule"} for key in keys]
    taints = mixed.taints()
    assert taints["mixed-win-2"] in (expected_extra, expected_extra[::-1]), json.dumps(taints)
    assert taints["mixed-win-1"][0] == FOREIGN_TAINT
    assert sorted(t["key"] for t in taints["mixed-win-1"][1:]) == keys


def test_a_write_between_read_and_patch_is_detected_by_the_real_server_and_kept(pristine_taints):
    """The guarded patch on a real kube-apiserver: a stale read is refused, re-read, and nobody's taint is lost."""
    from ansible_collections.hci.arc_ml.plugins.module_utils._kube.connection import KubeConnection, api_client
    from ansible_collections.hci.arc_ml.plugins.module_utils._nodes.api import ClusterApi
    from ansible_collections.hci.arc_ml.plugins.module_utils._nodes.taints import change_taints

    mixed = pristine_taints
    other = {"key": "example.com/other-writer", "value": "1", "effect": "NoSchedule"}
    api = ClusterApi(api_client(KubeConnection.from_params({"kubeconfig": mixed.kubeconfig})))
    listed = api.list_nodes("kubernetes.io/hostname=mixed-win-1")[0]
    patches = []
    real_patch = api.patch_node

    def racing_patch(name, operations, dry_run=False):
        patches.append(operations[0]["value"])
        if len(patches) == 1:  # another client appends its taint after our read, before our patch
            mixed.api.patch(
                f"/api/v1/nodes/{name}",
                [{"op": "add", "path": "/spec/taints/-", "value": other}],
                "application/json-patch+json",
            )
        return real_patch(name, operations, dry_run)

    api.patch_node = racing_patch
    before, after, changed = change_taints(api, listed, [OS_TAINT], "present")

    assert changed is True
    assert len(patches) == 2 and patches[0] != patches[1], "the stale patch was not refused and retried"
    assert before == [FOREIGN_TAINT, other]
    assert after == mixed.taints()["mixed-win-1"] == [FOREIGN_TAINT, other, OS_TAINT]
