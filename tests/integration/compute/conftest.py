"""A sandbox of its own for the ml_compute / instance_type tests, with the Azure ML extension on one cluster.

`python -m sandbox up` on sites.yml here: two AKS Arc clusters (already connected), `ml-ready` and
`ml-bare`, and the workspace `mlw-compute`. The extension is installed on `ml-ready` by a raw ARM PUT
(as `az k8s-extension create` sends it), independent of the collection's extension modules; the
stand-in extension agent then installs the Azure ML release, with the InstanceType CRD, into the
cluster. `ml-bare` never gets it.
"""

from pathlib import Path

import pytest
from compute_support import EXTENSION_API, READY, cluster_id
from playbook_runner import run_tasks

from sandbox.testing import ArmSession, Sandbox, read_env_file, sandbox_cli, wait_for

SITES = Path(__file__).resolve().parent / "sites.yml"
EXTENSION_TIMEOUT = 90.0
# Short emulated operations: each attach or detach then takes about one Retry-After (1 s).
LRO_SECONDS = 0.5


@pytest.fixture(scope="module")
def ml_sandbox(testbed_bin, tmp_path_factory):
    directory = tmp_path_factory.mktemp("compute-sandbox")
    sandbox_cli("up", "--sites", str(SITES), "--dir", str(directory))
    try:
        sandbox = Sandbox(directory, read_env_file(directory / "env.sh"))
        sandbox.admin.settings(lro_seconds=LRO_SECONDS)
        yield sandbox
    finally:
        sandbox_cli("down", "--dir", str(directory), check=False)


@pytest.fixture(scope="module")
def arm(ml_sandbox):
    return ArmSession(ml_sandbox.env)


@pytest.fixture(scope="module")
def extension_id(ml_sandbox, arm):
    """The Azure ML extension on ml-ready, Succeeded, with its InstanceType CRD served by the cluster."""
    ml_sandbox.admin.settings(provider_registration_seconds=0.2)
    arm.register("Microsoft.KubernetesConfiguration")
    extension = cluster_id(arm, READY) + "/providers/Microsoft.KubernetesConfiguration/extensions/azureml"
    body = {
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "extensionType": "Microsoft.AzureML.Kubernetes",
            "autoUpgradeMinorVersion": True,
            "releaseTrain": "stable",
            "scope": {"cluster": {"releaseNamespace": "azureml"}},
            "configurationSettings": {"enableTraining": "True"},
        },
    }
    arm.call("PUT", extension, EXTENSION_API, json=body).raise_for_status()

    def state():
        return arm.call("GET", extension, EXTENSION_API).json()["properties"]["provisioningState"]

    wait_for(lambda: state() in ("Succeeded", "Failed"), "the Azure ML extension", timeout=EXTENSION_TIMEOUT)
    assert state() == "Succeeded"
    kube = ml_sandbox.kube_api(READY["site"])
    wait_for(lambda: kube.exists("/apis/amlarc.azureml.com/v1alpha1"), "the InstanceType CRD to be served")
    return extension


@pytest.fixture
def playbook(ml_sandbox, tmp_path):
    """run(tasks, *ansible_playbook_args) against this module's sandbox; see playbook_runner.run_tasks."""

    def run(tasks, *args, **kwargs):
        return run_tasks(tasks, ml_sandbox.env, tmp_path, *args, **kwargs)

    return run
