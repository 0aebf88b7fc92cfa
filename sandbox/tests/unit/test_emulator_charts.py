"""The stand-in charts package reproducibly and publish as helm OCI artifacts."""

import gzip
import io
import json
import tarfile

import yaml

from sandbox.emulator import charts
from sandbox.emulator.registry import HELM_CHART_TYPE, HELM_CONFIG_TYPE, Registry


def test_the_agent_chart_is_azure_arc_k8sagents_and_packages_reproducibly():
    first, second = charts.package(charts.ARC_AGENT_CHART_DIR), charts.package(charts.ARC_AGENT_CHART_DIR)
    assert first.name == "azure-arc-k8sagents"
    assert first.archive == second.archive
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(first.archive))) as tar:
        names = tar.getnames()
    assert "azure-arc-k8sagents/Chart.yaml" in names
    assert all(n.startswith("azure-arc-k8sagents/") for n in names)
    assert json.loads(first.config)["version"] == first.version


def test_the_azureml_chart_carries_the_instance_type_crd():
    crd = yaml.safe_load((charts.AZUREML_CHART_DIR / "crds" / "instancetypes.amlarc.azureml.com.yaml").read_text())
    assert crd["metadata"]["name"] == "instancetypes.amlarc.azureml.com"
    assert crd["spec"]["names"]["kind"] == "InstanceType" and crd["spec"]["scope"] == "Cluster"
    assert [v["name"] for v in crd["spec"]["versions"]] == ["v1alpha1"]


def test_a_published_chart_is_a_helm_manifest_with_config_and_layer():
    chart = charts.package(charts.ARC_AGENT_CHART_DIR)
    registry = Registry()
    digest = registry.publish_chart("azurearck8s/stable/v2/azure-arc-k8sagents", chart)
    repo = registry.repositories["azurearck8s/stable/v2/azure-arc-k8sagents"]
    assert repo.tags == {chart.version: digest}
    manifest = json.loads(repo.manifests[digest])
    assert manifest["config"]["mediaType"] == HELM_CONFIG_TYPE
    assert [layer["mediaType"] for layer in manifest["layers"]] == [HELM_CHART_TYPE]
    assert repo.blobs[manifest["layers"][0]["digest"]] == chart.archive
