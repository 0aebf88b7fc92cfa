"""The Azure ML stand-in release refuses the values the extension cannot run with, so Succeeded means something.

The rules come from az k8s-extension's validation of Microsoft.AzureML.Kubernetes (AzureMLKubernetes.py,
https://github.com/Azure/azure-cli-extensions/blob/main/src/k8s-extension/azext_k8s_extension/partner_extensions/AzureMLKubernetes.py)
and from what the scoring front end needs: one service type, matching inferenceRouterServiceType. The emulated
agents (extensions.azureml_release_error) and the stand-in chart (helm `fail`) apply the same rules.
"""

import glob
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from sandbox.agents import _nested
from sandbox.emulator import extensions

CHART = Path(extensions.__file__).resolve().parents[1] / "charts" / "azureml"
HTTP = {"enableTraining": "True", "enableInference": "True", "allowInsecureConnections": "True"}
VALID = (
    {"enableTraining": "True", "enableInference": "False"},
    {**HTTP, "inferenceRouterServiceType": "LoadBalancer"},
    {**HTTP, "inferenceRouterServiceType": "NodePort", "scoringFe.serviceType.nodePort": "True"},
    {
        **HTTP,
        "inferenceRouterServiceType": "LoadBalancer",
        "internalLoadBalancerProvider": "azure",
        "scoringFe.serviceType.internalLoadBalancer": "True",
        "scoringFe.serviceType.nodePort": "False",
    },
    # What az k8s-extension update leaves after NodePort -> LoadBalancer: the flag written false.
    {**HTTP, "inferenceRouterServiceType": "LoadBalancer", "scoringFe.serviceType.nodePort": "False"},
    # Training only: the scoring front end is not deployed, its settings are not read.
    {"enableTraining": "True", "inferenceRouterServiceType": "", "scoringFe.serviceType.nodePort": "True"},
)
INVALID = (
    ({"enableTraining": "False", "enableInference": "false"}, "either enable Machine Learning training or inference"),
    ({}, "either enable Machine Learning training or inference"),
    (HTTP, "To use inference, please specify inferenceRouterServiceType=ClusterIP"),
    ({**HTTP, "inferenceRouterServiceType": "Ingress"}, "To use inference, please specify"),
    (
        {
            **HTTP,
            "inferenceRouterServiceType": "NodePort",
            "scoringFe.serviceType.nodePort": "True",
            "scoringFe.serviceType.internalLoadBalancer": "True",
        },
        "scoringFe.serviceType.nodePort and scoringFe.serviceType.internalLoadBalancer are both true",
    ),
    # A PATCH NodePort -> LoadBalancer that left the stored nodePort flag true.
    (
        {**HTTP, "inferenceRouterServiceType": "LoadBalancer", "scoringFe.serviceType.nodePort": "True"},
        "scoringFe.serviceType.nodePort is True but inferenceRouterServiceType is LoadBalancer",
    ),
    (
        {**HTTP, "inferenceRouterServiceType": "NodePort"},
        "scoringFe.serviceType.nodePort is (unset) but inferenceRouterServiceType is NodePort",
    ),
)


@pytest.mark.parametrize("settings", VALID)
def test_settings_az_would_send_are_accepted(settings):
    assert extensions.azureml_release_error(settings) is None


@pytest.mark.parametrize(("settings", "message"), INVALID)
def test_missing_or_inconsistent_settings_fail_the_release(settings, message):
    assert message in extensions.azureml_release_error(settings)


def _helm():
    found = shutil.which("helm") or sorted(glob.glob(str(Path.home() / ".cache/hci-arc-ml/testbed/*/bin/helm")))
    if not found:
        pytest.skip("no helm binary (build the testbed: bash sandbox/k8s/build.sh)")
    return found if isinstance(found, str) else found[-1]


def _template(helm, settings, tmp_path):
    values = tmp_path / "values.json"
    values.write_text(json.dumps(_nested(settings)))
    return subprocess.run(
        [helm, "template", "azureml", str(CHART), "--namespace", "azureml", "--values", str(values)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_stand_in_chart_applies_the_same_rules(tmp_path):
    helm = _helm()
    for settings in VALID:
        rendered = _template(helm, settings, tmp_path)
        assert rendered.returncode == 0, rendered.stderr
    for settings, message in INVALID:
        rendered = _template(helm, settings, tmp_path)
        assert rendered.returncode != 0, settings
        # helm template adds a hint line after the error; install and upgrade end with the error line.
        (error,) = [line for line in rendered.stderr.splitlines() if line.startswith("Error: ")]
        assert message in error
