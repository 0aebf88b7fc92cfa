"""hci.arc_ml.cluster_preflight through ansible-playbook against real kube-apiservers."""

import re
from pathlib import Path

import pytest
import yaml
from cluster_helpers import FOREIGN_TAINT, OS_TAINT, dump, task

from sandbox.k8s.controlplane import free_port

pytestmark = pytest.mark.testbed

CHECKS = ["api", "nodes", "linux_node", "architecture", "cluster_admin", "windows_taints"]


def preflight(kubeconfig=None, **options):
    if kubeconfig is not None:
        options["kubeconfig"] = str(kubeconfig)
    return task("cluster_preflight", **options)


def statuses(result):
    return {c["name"]: c["status"] for c in result["checks"]}


def test_mixed_site_passes_returns_facts_and_warns_until_windows_is_tainted(pristine_taints, playbook):
    mixed = pristine_taints
    before = mixed.versions()

    # The kubeconfig comes from kubernetes.core's environment name here.
    run = playbook(
        [preflight(), task("node_taint"), preflight()],
        env={"K8S_AUTH_KUBECONFIG": mixed.kubeconfig},
    )

    first, tainting, second = run.results
    assert not first.get("failed"), dump(run)
    assert first["changed"] is False
    assert first["passed"] is True
    assert first["unmet"] == []
    assert re.fullmatch(r"v1\.\d+\.\d+", first["kubernetes_version"])
    assert [c["name"] for c in first["checks"]] == CHECKS
    assert statuses(first) == dict.fromkeys(CHECKS, "passed") | {"windows_taints": "warning"}
    checks = {c["name"]: c["message"] for c in first["checks"]}
    assert checks["linux_node"] == "mixed-lin-1 has 8 vCPU and 32Gi allocatable (needs 4 vCPU and 8Gi)"
    assert checks["cluster_admin"] == (
        "the credentials in use may create clusterrolebindings (rbac.authorization.k8s.io)"
    )
    warning = "Windows nodes without a node.kubernetes.io/os taint: mixed-win-1, mixed-win-2"
    assert any(w.startswith(warning) for w in first["warnings"]), first["warnings"]

    nodes = {n["name"]: n for n in first["nodes"]}
    assert sorted(nodes) == ["mixed-lin-1", "mixed-lin-2", "mixed-win-1", "mixed-win-2"]
    assert nodes["mixed-lin-1"]["os"] == "linux" and nodes["mixed-win-2"]["os"] == "windows"
    assert {n["arch"] for n in nodes.values()} == {"amd64"}
    assert nodes["mixed-lin-1"]["allocatable"]["cpu"] == "8"
    assert nodes["mixed-lin-2"]["capacity"]["memory"] == "4Gi"
    assert nodes["mixed-win-1"]["taints"] == [FOREIGN_TAINT]
    assert nodes["mixed-win-1"]["ready"] is True and nodes["mixed-win-1"]["schedulable"] is True

    assert tainting["changed"] is True, dump(run)
    assert statuses(second)["windows_taints"] == "passed", dump(run)
    assert not second.get("warnings")
    assert {n["name"]: n["taints"] for n in second["nodes"]}["mixed-win-2"] == [OS_TAINT]
    assert {k: v for k, v in mixed.versions().items() if k.startswith("mixed-lin")} == {
        k: v for k, v in before.items() if k.startswith("mixed-lin")
    }


def test_too_small_site_fails_naming_the_node_the_need_and_the_shortfall(small, playbook):
    lowered = {"min_linux_cpu": "1500m", "min_linux_memory": 2147483648}
    run = playbook([preflight(small.kubeconfig), preflight(small.kubeconfig, fail_on_unmet=False, **lowered)])

    failing, reporting = run.results
    assert failing["failed"] is True, dump(run)
    message = failing["msg"]
    assert "\n" not in message
    assert message.startswith("Cluster preflight: 2 of 5 prerequisites unmet: [linux_node] no Linux node has the "), (
        message
    )
    assert "4 vCPU and 8Gi allocatable that Azure ML needs" in message
    assert "small-1 has 2 vCPU and 4Gi allocatable, short by 2 vCPU and 4Gi" in message
    assert "small-arm-1 is arm64, not amd64" in message
    assert "[architecture] the Arc agents and Azure ML components run on amd64 nodes only: small-arm-1 is arm64" in (
        message
    )
    assert failing["unmet"] == ["linux_node", "architecture"]
    assert {n["name"] for n in failing["nodes"]} == {"small-1", "small-arm-1"}
    assert "Traceback" not in run.output

    # Lower thresholds let small-1 qualify; with fail_on_unmet=false the arm64 node is only reported.
    assert not reporting.get("failed"), dump(run)
    assert reporting["passed"] is False
    assert reporting["unmet"] == ["architecture"]
    assert {c["name"]: c["message"] for c in reporting["checks"]}["linux_node"] == (
        "small-1 has 2 vCPU and 4Gi allocatable (needs 1.5 vCPU and 2Gi)"
    )
    assert any(w.startswith("Preflight check architecture unmet: ") for w in reporting["warnings"]), reporting


def test_credentials_without_cluster_admin_fail_the_permission_check(mixed, playbook, tmp_path):
    reader = mixed.cluster.user_kubeconfig("node-reader", path=tmp_path / "reader.kubeconfig")
    nobody = mixed.cluster.user_kubeconfig("nobody", path=tmp_path / "nobody.kubeconfig")

    run = playbook([preflight(reader), preflight(nobody)], "-vvvv")

    no_admin, no_rights = run.results
    assert no_admin["failed"] is True, dump(run)
    assert no_admin["unmet"] == ["cluster_admin"]
    assert no_admin["msg"] == (
        "Cluster preflight: 1 of 5 prerequisites unmet: [cluster_admin] user node-reader may not create "
        "clusterrolebindings (rbac.authorization.k8s.io): connecting a cluster to Azure Arc needs cluster-admin "
        "rights; use a kubeconfig or context of a cluster administrator"
    )
    assert len(no_admin["nodes"]) == 4

    assert no_rights["failed"] is True, dump(run)
    assert no_rights["unmet"] == ["nodes", "cluster_admin"]
    assert statuses(no_rights)["linux_node"] == "skipped"
    assert (
        '[nodes] Cannot list nodes: nodes is forbidden: User "nobody" cannot list resource "nodes" in API group "" '
        "at the cluster scope (HTTP 403)"
    ) in no_rights["msg"]
    assert "[cluster_admin] user nobody may not create clusterrolebindings" in no_rights["msg"]
    assert "Traceback" not in run.output
    for secret in mixed.secrets(reader) + mixed.secrets(nobody):
        assert secret not in run.output


def test_an_api_that_does_not_answer_fails_in_one_line(mixed, playbook, tmp_path):
    config = yaml.safe_load(Path(mixed.kubeconfig).read_text())
    config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{free_port()}"
    kubeconfig = tmp_path / "gone.kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))

    run = playbook([preflight(kubeconfig)])

    (failing,) = run.results
    assert failing["failed"] is True, dump(run)
    assert failing["msg"].startswith(
        "Cluster preflight: 1 of 5 prerequisites unmet: [api] Cannot read the Kubernetes version: the Kubernetes API "
        f"at {config['clusters'][0]['cluster']['server']} did not answer: "
    ), failing["msg"]
    assert "Connection refused" in failing["msg"]
    assert statuses(failing) == {"api": "failed"} | dict.fromkeys(CHECKS[1:], "skipped")
    assert "nodes" not in failing and "kubernetes_version" not in failing
