"""hci.arc_ml.connected_cluster and connected_cluster_info through ansible-playbook against the sandbox.

The stand-in agents turn a cluster Connected only when the chart in it holds the private key whose public
half ARM keeps, so "Connected" here proves the whole onboarding, key included. Each test names the
situation of the detection table it covers (plugins/module_utils/_arc_detect.py).

Tests run in file order on one cluster, cc-one: connect, re-run, change, break and repair, disconnect, then
the other rows of the table from a disconnected cluster. Where a test runs several tasks in one playbook
(ansible-playbook start-up dominates the suite's time), the request log is split per task by the
correlation id each module run sends.
"""

import re

import pytest
from arc_onboarding_helpers import AKSARC, ARM_API, ONE, by_task, pem_fragments, writes

from sandbox.testing import new_onboarding_key, wait_for

pytestmark = [pytest.mark.sandbox, pytest.mark.testbed]

CLUSTERS = "/providers/Microsoft.Kubernetes/connectedClusters/"
DATA_PLANE = [
    "POST /arc-config/azure-arc-k8sagents/healthCheck",
    "POST /arc-config/azure-arc-k8sagents/GetHelmSettings",
]


def onboarding_writes(path):
    """healthCheck, the PUT, then GetHelmSettings with the PUT's answer, as New-AzConnectedKubernetes does."""
    return [DATA_PLANE[0], f"PUT {path}", DATA_PLANE[1]]


def connect(arc_sandbox, site, name=None, **options):
    args = {
        "name": name or site.name,
        "resource_group": site.resource_group,
        "location": site.location,
        "kubeconfig": str(arc_sandbox.kubeconfig(site.name)),
        "wait_sleep": 1,
        "wait_timeout": 120,
    }
    args.update(options)
    return {"name": f"Connect {args['name']}", "hci.arc_ml.connected_cluster": args}


def disconnect(arc_sandbox, site, name=None, **options):
    return connect(arc_sandbox, site, name, state="absent", **options)


def info(**options):
    return {"name": "Read connected clusters", "hci.arc_ml.connected_cluster_info": options}


def resource_path(arc_sandbox, site, name=None):
    subscription = arc_sandbox.env["AZURE_SUBSCRIPTION_ID"]
    return f"/subscriptions/{subscription}/resourceGroups/{site.resource_group}{CLUSTERS}{name or site.name}"


def ok(run, index=0):
    assert len(run.results) > index, run.output
    result = run.results[index]
    assert not result.get("failed"), run.output
    return result


def failure_message(run, index=0):
    assert len(run.results) > index, run.output
    result = run.results[index]
    assert result.get("failed"), run.output
    assert "\n" not in result["msg"]
    assert "Traceback" not in run.output
    return result["msg"]


def task_writes(arc_sandbox, mark):
    """The writes of each module run since `mark`, one list per task that reached Azure."""
    return [writes(entries) for entries in by_task(arc_sandbox.log_since(mark))]


# cc-one: the life of one connection.


def test_fresh_connect_then_a_second_run_that_changes_nothing(arc_sandbox, play, helm_recorder):
    view = arc_sandbox.view(ONE)
    assert view.release() is None
    mark = arc_sandbox.mark()

    run = play([connect(arc_sandbox, ONE, tags={"site": "one"}), connect(arc_sandbox, ONE, tags={"site": "one"})],
               "-vvvv")  # fmt: skip

    first, second = ok(run, 0), ok(run, 1)
    assert first["changed"] is True
    assert first["detected"] == "not_onboarded"
    assert first["connected_cluster"]["connectivity_status"] == "Connected"
    assert first["connected_cluster"]["provisioning_state"] == "Succeeded"
    assert first["connected_cluster"]["tags"] == {"site": "one"}
    assert first["helm_release"]["status"] == "deployed"
    assert first["helm_release"]["private_key_delivery"] == "secret_and_value"  # the sandbox chart is 1.26.0
    assert second["changed"] is False
    assert second["detected"] == "onboarded"
    assert second["actions"] == []

    resource = arc_sandbox.resource(ONE)
    assert resource["properties"]["provisioningState"] == "Succeeded"
    assert resource["properties"]["connectivityStatus"] == "Connected"
    assert resource["properties"]["distribution"] == "aks_workload"
    assert resource["properties"]["infrastructure"] == "azure_stack_hci"
    release = view.release()
    assert (release["namespace"], release["status"], release["version"]) == ("azure-arc-release", "deployed", 1)
    config = view.config()
    assert (config["AZURE_RESOURCE_GROUP"], config["AZURE_RESOURCE_NAME"]) == (ONE.resource_group, ONE.name)

    # The data plane's health, ARM, the helm settings, then helm; the second run writes nothing and only lists
    # the release.
    assert task_writes(arc_sandbox, mark) == [onboarding_writes(resource_path(arc_sandbox, ONE)), []]
    assert helm_recorder.commands() == ["version", "list", "pull", "upgrade", "version", "list"]

    # The private key: in the cluster, nowhere else.
    fragments = pem_fragments(view.private_key())
    assert len(fragments) > 40  # RSA-4096
    assert not [f for f in fragments if f in run.output], "the onboarding private key appears in the -vvvv output"
    assert not [f for f in fragments if f in "\n".join(helm_recorder.lines())], "the private key was on helm's argv"
    modes = [line.split()[1] for line in helm_recorder.lines() if line.startswith("values-file:")]
    assert modes == ["600"], helm_recorder.lines()
    assert not list(play.scratch.glob("hci-arc-ml-*")), "a values file or chart was left behind"
    assert arc_sandbox.env["AZURE_CLIENT_SECRET"] not in run.output


def test_check_diff_on_a_changed_tag_writes_nothing_and_applying_it_patches_without_helm(
    arc_sandbox, play, helm_recorder
):
    before = arc_sandbox.resource(ONE)
    tags = {"site": "one", "owner": "ml-team"}
    mark = arc_sandbox.mark()

    check = dict(connect(arc_sandbox, ONE, tags=tags), check_mode=True, diff=True)
    run = play([check, connect(arc_sandbox, ONE, tags=tags)])

    planned, applied = ok(run, 0), ok(run, 1)
    assert planned["changed"] is True
    assert planned["actions"] == ["update connected cluster cc-one (tags)"]
    assert planned["diff"]["before"]["tags"] == {"site": "one"}
    assert planned["diff"]["after"]["tags"] == tags
    assert planned["diff"]["before"]["properties"] == planned["diff"]["after"]["properties"]
    assert '+        "owner": "ml-team"' in run.output  # the diff callback showed it
    assert applied["changed"] is True
    assert task_writes(arc_sandbox, mark) == [[], [f"PATCH {resource_path(arc_sandbox, ONE)}"]]
    after = arc_sandbox.resource(ONE)
    assert after["tags"] == tags
    assert after["properties"]["agentPublicKeyCertificate"] == before["properties"]["agentPublicKeyCertificate"]
    assert arc_sandbox.view(ONE).release()["version"] == 1
    assert "upgrade" not in helm_recorder.commands()


def test_a_tag_added_behind_our_back_survives_a_site_run_and_goes_only_with_append_tags_false(arc_sandbox, play):
    path = resource_path(arc_sandbox, ONE)
    ours = arc_sandbox.resource(ONE)["tags"]
    # Azure Policy's modify effect (or a person with az resource tag) adds a tag through ARM, not through us.
    arc_sandbox.arm().call("PATCH", path, ARM_API, json={"tags": {**ours, "CostCenter": "4711"}}).raise_for_status()
    wait_for(lambda: arc_sandbox.resource(ONE)["properties"]["provisioningState"] == "Succeeded", "the tag PATCH")
    mark = arc_sandbox.mark()

    # site.yml imports the arc_connect role with its defaults: arc_connect_tags {} and arc_connect_append_tags true.
    site_vars = {
        "arc_connect_cluster_name": ONE.name,
        "arc_connect_resource_group": ONE.resource_group,
        "arc_connect_location": ONE.location,
        "arc_connect_kubeconfig": str(arc_sandbox.kubeconfig(ONE.name)),
    }
    role = {
        "name": "Connect as site.yml does",
        "ansible.builtin.include_role": {"name": "hci.arc_ml.arc_connect"},
        "vars": site_vars,
    }
    role_result = {"name": "The role's result", "ansible.builtin.debug": {"var": "arc_connect_result"}}
    replace = connect(arc_sandbox, ONE, tags=ours, append_tags=False)
    run = play([role, role_result, dict(replace, check_mode=True, diff=True), replace, role, role_result])

    kept, planned, replaced = ok(run, 1)["arc_connect_result"], ok(run, 2), ok(run, 3)
    after_replace = ok(run, 5)["arc_connect_result"]
    assert kept["changed"] is False and kept["actions"] == [], run.output
    assert kept["connected_cluster"]["tags"] == {**ours, "CostCenter": "4711"}
    assert planned["changed"] is True
    assert planned["actions"] == ["update connected cluster cc-one (tags)"]
    assert planned["diff"]["before"]["tags"] == {**ours, "CostCenter": "4711"}
    assert planned["diff"]["after"]["tags"] == ours
    assert '-        "CostCenter": "4711"' in run.output  # --check --diff showed the tag going
    assert replaced["changed"] is True
    assert after_replace["changed"] is False  # {} merged into what is left changes nothing
    # Only the replace wrote: one PATCH with exactly the task's tags.
    patches = [e for e in arc_sandbox.log_since(mark) if e["method"] in ("PUT", "PATCH")]
    assert [(e["method"], e["path"], e["body"]) for e in patches] == [("PATCH", path, {"tags": ours})]
    assert arc_sandbox.resource(ONE)["tags"] == ours


def test_a_setting_patch_cannot_change_is_re_put_with_the_existing_public_key(arc_sandbox, play):
    before = arc_sandbox.resource(ONE)
    mark = arc_sandbox.mark()

    result = ok(play([connect(arc_sandbox, ONE, agent_auto_upgrade=False, infrastructure="generic")]))

    assert result["changed"] is True
    # An auto-upgrade change also upgrades the agents' release, as az connectedk8s update --auto-upgrade does
    # (this test pinned "the agents are not reinstalled" before: the chart's autoUpdate value stayed true).
    assert result["actions"] == [
        "replace connected cluster cc-one (infrastructure, agentAutoUpgrade)",
        "update the Arc agents (helm upgrade of release azure-arc in namespace azure-arc-release: agentAutoUpgrade)",
    ]
    entries = [e for e in arc_sandbox.log_since(mark) if e["method"] in ("PUT", "PATCH")]
    assert [e["method"] for e in entries] == ["PUT"]
    sent = entries[0]["body"]
    assert sent["properties"]["agentPublicKeyCertificate"] == before["properties"]["agentPublicKeyCertificate"]
    assert sent["properties"]["arcAgentProfile"] == {"agentAutoUpgrade": "Disabled"}
    assert sent["properties"]["infrastructure"] == "generic"
    assert sent["tags"] == before["tags"]  # tags not given: kept
    assert arc_sandbox.view(ONE).release()["version"] == 2
    assert arc_sandbox.view(ONE).config()["AZURE_ARC_AUTOUPDATE"] == "false"
    assert arc_sandbox.resource(ONE)["properties"]["connectivityStatus"] == "Connected"


PROXY_PASSWORD = "pr0xy-s3cret-pw"


def test_a_proxy_change_on_a_connected_cluster_is_applied_as_az_connectedk8s_update_does(
    arc_sandbox, play, helm_recorder
):
    view = arc_sandbox.view(ONE)
    version = view.release()["version"]
    key = view.private_key()
    proxy = {"https_proxy": f"http://ops:{PROXY_PASSWORD}@proxy.example:3128", "no_proxy": ["10.96.0.0/12", ".svc"]}
    task = connect(arc_sandbox, ONE, infrastructure="generic", proxy=proxy)
    mark = arc_sandbox.mark()

    run = play([dict(task, check_mode=True, diff=True), task, dict(task, diff=True)], "-vvvv")

    planned, applied, again = ok(run, 0), ok(run, 1), ok(run, 2)
    update = "update the Arc agents (helm upgrade of release azure-arc in namespace azure-arc-release: proxy)"
    assert planned["changed"] is True
    assert planned["actions"] == ["replace connected cluster cc-one (arcAgentryConfigurations)", update]
    assert planned["diff"]["after"]["agent_proxy"]["isProxyEnabled"] is True
    assert applied["changed"] is True and applied["actions"] == planned["actions"]
    assert again["changed"] is False and again["actions"] == []
    path = resource_path(arc_sandbox, ONE)
    assert task_writes(arc_sandbox, mark) == [[], [DATA_PLANE[0], f"PUT {path}", DATA_PLANE[1]], []]
    sent = next(e for e in arc_sandbox.log_since(mark) if e["method"] == "PUT")["body"]
    # What az connectedk8s update sends to ARM for a proxy: feature "proxy", no secret, no protectedSettings.
    assert sent["properties"]["arcAgentryConfigurations"] == [{"feature": "proxy", "settings": {}}]
    assert view.release()["version"] == version + 1
    assert view.config()["IS_PROXY_ENABLED"] == "true"
    assert view.release_values()["global"]["httpsProxy"] == proxy["https_proxy"]
    assert view.private_key() == key  # the release kept its values, the key included
    assert arc_sandbox.resource(ONE)["properties"]["connectivityStatus"] == "Connected"
    assert PROXY_PASSWORD not in run.output
    assert PROXY_PASSWORD not in "\n".join(helm_recorder.lines())


def test_failed_release_is_repaired_with_the_key_the_cluster_holds(arc_sandbox, play):
    view = arc_sandbox.view(ONE)
    key = view.private_key()
    version = view.release()["version"]
    view.set_release_status("failed")
    mark = arc_sandbox.mark()

    result = ok(play([connect(arc_sandbox, ONE, infrastructure="generic")]))

    assert result["changed"] is True
    assert result["detected"] == "release_failed"
    assert view.release()["status"] == "deployed" and view.release()["version"] == version + 1
    assert view.private_key() == key
    # The key in the cluster still fits the resource: no ARM write, only the data plane.
    assert task_writes(arc_sandbox, mark) == [DATA_PLANE]
    assert result["connected_cluster"]["connectivity_status"] == "Connected"


def test_release_with_an_operation_in_progress_is_refused_unless_forced(arc_sandbox, play):
    view = arc_sandbox.view(ONE)
    view.set_release_status("pending-upgrade")
    mark = arc_sandbox.mark()

    run = play([connect(arc_sandbox, ONE, infrastructure="generic"),
                connect(arc_sandbox, ONE, infrastructure="generic", force=True)])  # fmt: skip

    message = failure_message(run, 0)
    assert "is pending-upgrade" in message and "force: true" in message
    assert run.results[0]["detected"] == "release_busy"
    forced = ok(run, 1)
    assert forced["detected"] == "release_busy"  # still busy when the forced run looked
    assert forced["actions"][0].startswith("remove the stale Arc agents")
    assert task_writes(arc_sandbox, mark)[0] == []
    assert view.release() == {"namespace": "azure-arc-release", "status": "deployed", "version": 1}
    assert forced["connected_cluster"]["connectivity_status"] == "Connected"


def test_agents_whose_key_no_longer_matches_azure_are_reinstalled_with_a_new_key(arc_sandbox, play):
    arm = arc_sandbox.arm()
    body = arc_sandbox.resource(ONE)
    _pem, foreign = new_onboarding_key()
    replaced = {"location": body["location"], "tags": body["tags"], "identity": {"type": "SystemAssigned"},
                "properties": {**body["properties"], "agentPublicKeyCertificate": foreign}}  # fmt: skip
    arm.call("PUT", arm.cluster_id(ONE.resource_group, ONE.name), ARM_API, json=replaced).raise_for_status()
    wait_for(
        lambda: arc_sandbox.resource(ONE)["properties"]["connectivityStatus"] != "Connected",
        "the agents to lose the connection",
        timeout=30,
    )

    result = ok(play([connect(arc_sandbox, ONE, infrastructure="generic")]))

    assert result["detected"] == "key_mismatch"
    assert result["connected_cluster"]["connectivity_status"] == "Connected"
    from sandbox.cluster_view import public_key_certificate

    in_cluster = public_key_certificate(arc_sandbox.view(ONE).private_key().encode())
    assert arc_sandbox.resource(ONE)["properties"]["agentPublicKeyCertificate"] == in_cluster != foreign


def test_refusals_and_reads_write_nothing(arc_sandbox, play):
    """Onboarded as another resource, a wrong kubeconfig context, and the _info module."""
    mark = arc_sandbox.mark()

    run = play(
        [
            connect(arc_sandbox, ONE, name="cc-one-again"),
            connect(arc_sandbox, ONE, context="no-such-context"),
            info(name=ONE.name, resource_group=ONE.resource_group),
            info(resource_group=AKSARC.resource_group),
            info(),
            info(name="nowhere", resource_group=ONE.resource_group),
        ]
    )

    elsewhere = failure_message(run, 0)
    assert "already onboarded to Azure Arc as connected cluster 'cc-one' in resource group 'rg-cc-one'" in elsewhere
    assert run.results[0]["detected"] == "onboarded_elsewhere"
    assert arc_sandbox.resource(ONE, name="cc-one-again") is None

    wrong_context = failure_message(run, 1)
    assert wrong_context == (
        f"Context no-such-context is not in the kubeconfig {arc_sandbox.kubeconfig(ONE.name)} "
        f"(its contexts: admin@{ONE.name})."
    )

    one, group, subscription, missing = (ok(run, i) for i in range(2, 6))
    (cluster,) = one["connected_clusters"]
    assert (cluster["name"], cluster["resource_group"]) == (ONE.name, ONE.resource_group)
    assert cluster["connectivity_status"] == "Connected" and cluster["agent_version"] == "1.26.0"
    assert (cluster["total_node_count"], cluster["total_core_count"]) == (2, 8)
    assert cluster["infrastructure"] == "generic" and cluster["agent_auto_upgrade"] == "Disabled"
    assert [c["name"] for c in group["connected_clusters"]] == [AKSARC.name]
    assert group["connected_clusters"][0]["platform_managed"] is True
    assert {ONE.name, AKSARC.name} <= {c["name"] for c in subscription["connected_clusters"]}
    assert missing["connected_clusters"] == []

    assert task_writes(arc_sandbox, mark) == [[]] * 6


def test_disconnect_deletes_the_resource_then_removes_everything_from_the_cluster(arc_sandbox, play):
    view = arc_sandbox.view(ONE)
    assert view.arc_crds(), "the agent chart installs the connectedclusters CRD"
    mark = arc_sandbox.mark()

    run = play([disconnect(arc_sandbox, ONE), disconnect(arc_sandbox, ONE)])

    assert ok(run, 0)["changed"] is True
    assert ok(run, 1)["changed"] is False
    assert task_writes(arc_sandbox, mark) == [[f"DELETE {resource_path(arc_sandbox, ONE)}"], []]
    (delete,) = [e for e in arc_sandbox.log_since(mark) if e["method"] == "DELETE"]
    assert set(delete["query"]) == {"api-version"}, "DELETE connectedClusters (2026-05-01) defines no force query"
    assert arc_sandbox.resource(ONE) is None
    assert view.release() is None
    assert not {"azure-arc", "azure-arc-release"} & view.namespaces()
    # az connectedk8s delete removes the Arc CRDs only with --force (crd_cleanup_force_delete).
    assert view.arc_crds(), "a disconnect without force leaves the Arc CRDs, as az connectedk8s delete does"


# cc-one again, disconnected: the other rows of the detection table.


def test_existing_resource_without_agents_is_refused_unless_forced(arc_sandbox, play):
    arm = arc_sandbox.arm()
    _pem, public = new_onboarding_key()
    body = {"location": ONE.location, "identity": {"type": "SystemAssigned"},
            "properties": {"agentPublicKeyCertificate": public, "distribution": "generic"}}  # fmt: skip
    arm.call("PUT", arm.cluster_id(ONE.resource_group, "cc-one-b"), ARM_API, json=body).raise_for_status()
    mark = arc_sandbox.mark()

    run = play([connect(arc_sandbox, ONE, name="cc-one-b"), connect(arc_sandbox, ONE, name="cc-one-b", force=True)])

    message = failure_message(run, 0)
    assert "'cc-one-b' in resource group 'rg-cc-one' already exists" in message and "force: true" in message
    assert run.results[0]["detected"] == "resource_without_release"
    adopted = ok(run, 1)
    assert adopted["detected"] == "resource_without_release"
    assert adopted["connected_cluster"]["connectivity_status"] == "Connected"
    refused_writes, adopted_writes = task_writes(arc_sandbox, mark)
    assert refused_writes == []
    assert adopted_writes == onboarding_writes(resource_path(arc_sandbox, ONE, "cc-one-b"))
    assert arc_sandbox.resource(ONE, "cc-one-b")["properties"]["agentPublicKeyCertificate"] != public


def test_agents_of_a_deleted_resource_are_removed_only_with_force_and_the_cluster_onboarded_again(arc_sandbox, play):
    # Issue 17: the agents name cc-one-b, whose resource is gone. Nothing proves they are cc-one's, so a run for
    # cc-one without force removes nothing (it used to clean them up, as az connectedk8s connect does) and names
    # cc-one-b; with force it cleans them up and onboards.
    arm = arc_sandbox.arm()
    arm.call("DELETE", arm.cluster_id(ONE.resource_group, "cc-one-b"), ARM_API)
    wait_for(lambda: arc_sandbox.resource(ONE, "cc-one-b") is None, "the resource to be deleted", timeout=30)
    view = arc_sandbox.view(ONE)
    before = (view.release(), view.private_key(), view.arc_crds())
    mark = arc_sandbox.mark()

    run = play([connect(arc_sandbox, ONE)])

    message = failure_message(run, 0)
    assert "connected cluster 'cc-one-b' in resource group 'rg-cc-one'" in message
    assert "nothing was removed" in message and "force: true" in message
    assert run.results[0]["detected"] == "stale_release"
    assert task_writes(arc_sandbox, mark) == [[]]
    assert (view.release(), view.private_key(), view.arc_crds()) == before
    assert view.config()["AZURE_RESOURCE_NAME"] == "cc-one-b"
    assert arc_sandbox.resource(ONE) is None

    result = ok(play([connect(arc_sandbox, ONE, force=True)]))

    assert result["detected"] == "stale_release"
    assert result["actions"][0].startswith("remove the stale Arc agents")
    assert result["connected_cluster"]["connectivity_status"] == "Connected"
    assert arc_sandbox.view(ONE).release()["version"] == 1  # installed afresh, not upgraded
    assert arc_sandbox.view(ONE).config()["AZURE_RESOURCE_NAME"] == ONE.name


def test_release_without_its_configmap_is_refused_unless_forced(arc_sandbox, play):
    view = arc_sandbox.view(ONE)
    view.delete_config()
    mark = arc_sandbox.mark()

    run = play([connect(arc_sandbox, ONE), connect(arc_sandbox, ONE, force=True)])

    message = failure_message(run, 0)
    assert "azure-arc/azure-clusterconfig is missing" in message and "force: true" in message
    assert task_writes(arc_sandbox, mark)[0] == []
    forced = ok(run, 1)
    assert forced["detected"] == "release_without_config"
    assert view.config()["AZURE_RESOURCE_NAME"] == ONE.name
    assert forced["connected_cluster"]["connectivity_status"] == "Connected"


def test_an_onboarding_stopped_after_the_azure_resource_is_finished_by_the_next_run(arc_sandbox, play):
    # A 400 is final (a 5xx would be retried): the run stops after the resource exists, before helm. The key
    # Secret, written (adoptable by helm) before the PUT, proves the resource is this cluster's, so the next run
    # installs the agents with that key without force.
    arc_sandbox.admin.add_faults({"method": "POST", "path": "GetHelmSettings$", "status": 400, "count": 1})
    try:
        stopped = play([disconnect(arc_sandbox, ONE), connect(arc_sandbox, ONE)])
    finally:
        arc_sandbox.admin.clear_faults()
    ok(stopped, 0)
    message = failure_message(stopped, 1)
    assert "GetHelmSettings failed: HTTP 400" in message and "x-ms-request-id" in message
    view = arc_sandbox.view(ONE)
    assert arc_sandbox.resource(ONE) is not None and view.release() is None and view.private_key()
    stored = view.private_key()
    mark = arc_sandbox.mark()

    result = ok(play([connect(arc_sandbox, ONE)]))

    assert result["detected"] == "unfinished_onboarding"
    assert result["connected_cluster"]["connectivity_status"] == "Connected"
    assert result["helm_release"]["private_key_delivery"] == "secret_and_value"
    assert task_writes(arc_sandbox, mark) == [DATA_PLANE]  # the resource already holds the key: no PUT
    # helm adopted the Secret written before the PUT and rendered the same key into it from the value.
    assert view.private_key() == stored
    assert view.release_values()["global"]["onboardingPrivateKey"] == stored
    secret = view.api.get("/api/v1/namespaces/azure-arc/secrets/azure-arc-connect-privatekey")
    assert secret["metadata"]["annotations"]["meta.helm.sh/release-name"] == "azure-arc"


def test_a_newer_chart_gets_the_key_as_a_value_too(arc_sandbox, play, newer_chart, helm_recorder):
    run = play([disconnect(arc_sandbox, ONE), connect(arc_sandbox, ONE, chart_ref=str(newer_chart))], "-vvvv")

    ok(run, 0)
    result = ok(run, 1)
    assert result["helm_release"]["private_key_delivery"] == "secret_and_value"
    assert result["helm_release"]["chart_version"] == "1.36.0"
    assert result["connected_cluster"]["connectivity_status"] == "Connected"
    assert "pull" not in helm_recorder.commands()
    view = arc_sandbox.view(ONE)
    assert view.release_values()["global"]["onboardingPrivateKey"] == view.private_key()
    assert not [f for f in pem_fragments(view.private_key()) if f in run.output]
    assert not [f for f in pem_fragments(view.private_key()) if f in "\n".join(helm_recorder.lines())]


def test_a_registry_mirror_without_a_version_pulls_the_version_the_data_plane_chose(arc_sandbox, play, helm_recorder):
    registry = arc_sandbox.env["ARCML_SANDBOX_URL"].split("://", 1)[1]
    mirror = f"oci://{registry}/azurearck8s/stable/v2/azure-arc-k8sagents"

    run = play([disconnect(arc_sandbox, ONE), connect(arc_sandbox, ONE, chart_ref=mirror, wait=False)])

    result = ok(run, 1)
    assert result["helm_release"]["chart_version"] == "1.26.0"
    (pull,) = [line for line in helm_recorder.lines() if line.startswith("argv: pull")]
    assert re.search(rf"pull {re.escape(mirror)} --version 1\.26\.0 ", pull)
    (upgrade,) = [line for line in helm_recorder.lines() if line.startswith("argv: upgrade")]
    assert "--wait" not in upgrade
    assert arc_sandbox.view(ONE).release()["status"] == "deployed"
    assert arc_sandbox.resource(ONE)["properties"]["provisioningState"] == "Succeeded"


def test_disconnect_uninstalls_a_release_in_a_shared_namespace_and_leaves_that_namespace(
    arc_sandbox, play, helm_recorder
):
    # Issue 17: helm reports the release in namespace shared-tools, which holds other things too. The release is
    # uninstalled from there; only azure-arc and azure-arc-release are deleted, as az connectedk8s delete does.
    view = arc_sandbox.view(ONE)
    view.api.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shared-tools"}})
    marker = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep-me"}, "data": {"a": "b"}}
    view.api.post("/api/v1/namespaces/shared-tools/configmaps", marker)
    view.move_release("shared-tools")
    assert view.release()["namespace"] == "shared-tools"
    helm_recorder.clear()

    result = ok(play([disconnect(arc_sandbox, ONE)]))

    assert result["changed"] is True
    assert arc_sandbox.resource(ONE) is None and view.release() is None
    (uninstall,) = [line for line in helm_recorder.lines() if line.startswith("argv: uninstall")]
    assert " --namespace shared-tools" in uninstall
    assert "shared-tools" in view.namespaces() and not {"azure-arc", "azure-arc-release"} & view.namespaces()
    assert view.api.exists("/api/v1/namespaces/shared-tools/configmaps/keep-me")


# cc-aksarc: an AKS Arc cluster, connected by the platform.


def test_provisioned_cluster_is_reported_connected_and_never_touched(arc_sandbox, play, helm_recorder):
    view = arc_sandbox.view(AKSARC)
    release = view.release()
    mark = arc_sandbox.mark()

    run = play([connect(arc_sandbox, AKSARC, tags={"changed": "no"}), disconnect(arc_sandbox, AKSARC)])

    result = ok(run, 0)
    assert result["changed"] is False
    assert result["detected"] == "platform_managed"
    assert result["connected_cluster"]["platform_managed"] is True
    assert result["connected_cluster"]["connectivity_status"] == "Connected"
    skipped = ok(run, 1)
    assert skipped["changed"] is False and skipped["actions"] == []
    assert skipped["msg"].startswith("Skipped: ") and "owned by AKS Arc" in skipped["msg"]
    assert task_writes(arc_sandbox, mark) == [[], []]
    assert helm_recorder.commands() == []
    assert view.release() == release
    assert arc_sandbox.resource(AKSARC) is not None
