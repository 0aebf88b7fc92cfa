"""The helm commands connected_cluster runs for the Arc agents, pinned to the ones az connectedk8s runs.

az connectedk8s (https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/_utils.py):
`helm_install_release` runs `helm upgrade --install azure-arc <chart> ... --namespace azure-arc-release
--create-namespace --output json [--wait --timeout <n>s]`, `delete_arc_agents` runs
`helm delete azure-arc --namespace <ns> [--no-hooks]` (delete is helm 3's alias of uninstall) and
`get_release_namespace` runs `helm list -a --all-namespaces --output json`; each with `--kubeconfig` and
`--kube-context` when given. Ours always passes `--kubeconfig` with the task's resolved connection (one context,
current), so helm needs no `--kube-context`. The values go in a 0600 file instead of `--set` (test_helm.py),
which helm merges the same.
"""

import subprocess

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._arc.cluster import RELEASE_NAME, RELEASE_NAMESPACE
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.connection import InlineKubeconfig, KubeConnection
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.helm import HelmRunner

CONNECTION_DOCUMENT = {
    "clusters": [{"name": "site1", "cluster": {"server": "https://192.0.2.10:6443"}}],
    "users": [{"name": "admin", "user": {"token": "site1-admin-token"}}],
    "contexts": [{"name": "site1-admin", "context": {"cluster": "site1", "user": "admin"}}],
}


@pytest.fixture
def helm():
    """A HelmRunner whose processes are recorded, not run; `.argv` lists each command after the binary."""
    commands = []

    def run_process(argv, **_options):
        commands.append(argv[1:])
        return subprocess.CompletedProcess(argv, 0, stdout='{"name": "azure-arc", "info": {}}', stderr="")

    connection = KubeConnection.from_params(
        {"kubeconfig": InlineKubeconfig(CONNECTION_DOCUMENT), "context": "site1-admin"}, {}
    )
    runner = HelmRunner("/usr/bin/helm", connection, run_process=run_process, environ={})
    runner.argv = commands
    runner.connection_flags = ["--kubeconfig", connection.kubeconfig_path()]
    return runner


def test_the_release_and_its_namespace_are_az_connectedk8s_s():
    assert (RELEASE_NAME, RELEASE_NAMESPACE) == ("azure-arc", "azure-arc-release")


def test_install_is_upgrade_install_into_the_release_namespace_creating_it_and_waiting(helm):
    helm.upgrade_install(RELEASE_NAME, "/tmp/chart/azure-arc-k8sagents", RELEASE_NAMESPACE, values={}, timeout=1200)
    (argv,) = helm.argv
    values_file = argv[argv.index("--values") + 1]
    assert argv == [
        "upgrade",
        "azure-arc",
        "/tmp/chart/azure-arc-k8sagents",
        "--install",
        "--namespace",
        "azure-arc-release",
        "--create-namespace",
        "--wait",
        "--timeout",
        "1200s",
        "--output",
        "json",
        *helm.connection_flags,
        "--values",
        values_file,
    ]


def test_without_waiting_there_is_no_wait_and_no_timeout(helm):
    helm.upgrade_install(RELEASE_NAME, "/tmp/chart", RELEASE_NAMESPACE, values={}, wait=False)
    assert "--wait" not in helm.argv[0] and "--timeout" not in helm.argv[0]


def test_uninstall_is_az_s_helm_delete_with_no_hooks_only_when_asked(helm):
    helm.uninstall(RELEASE_NAME, RELEASE_NAMESPACE, no_hooks=True, wait=False)
    helm.uninstall(RELEASE_NAME, RELEASE_NAMESPACE, wait=False)
    assert helm.argv == [
        ["uninstall", "azure-arc", "--namespace", "azure-arc-release", "--no-hooks", *helm.connection_flags],
        ["uninstall", "azure-arc", "--namespace", "azure-arc-release", *helm.connection_flags],
    ]
