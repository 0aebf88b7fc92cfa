"""Where the agent chart comes from and pulling it."""

import io
import tarfile

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import chart
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError

CHART_YAML = "apiVersion: v2\nname: azure-arc-k8sagents\nversion: 1.36.0\nappVersion: 1.36.0\n"


def test_no_chart_version_changes_how_the_key_is_delivered():
    # Every az connectedk8s helm_install_release and New-AzConnectedKubernetes pass global.onboardingPrivateKey,
    # whatever chart version the data plane names: there is no version gate to apply.
    assert not hasattr(chart, "key_in_values") and not hasattr(chart, "KEY_SECRET_ONLY_FROM")


def test_an_oci_chart_ref_with_or_without_a_version():
    pinned = chart.parse_chart_ref("oci://mirror.example.com:5000/azurearck8s/stable/v2/azure-arc-k8sagents:1.26.0")
    assert pinned.oci_url == "oci://mirror.example.com:5000/azurearck8s/stable/v2/azure-arc-k8sagents"
    assert pinned.version == "1.26.0" and pinned.path is None
    floating = chart.parse_chart_ref("oci://mirror.example.com:5000/azurearck8s/stable/v2/azure-arc-k8sagents")
    assert floating.version is None and floating.describe() == floating.oci_url
    assert chart.parse_chart_ref(None) is None


@pytest.mark.parametrize("bad", ["oci://registry-only", "oci://registry/", "https://example.com/chart.tgz"])
def test_chart_refs_that_name_no_chart_are_refused(bad):
    with pytest.raises(ArcMLError, match="chart_ref"):
        chart.parse_chart_ref(bad)


def test_a_local_chart_ref_must_exist(tmp_path):
    assert chart.parse_chart_ref(str(tmp_path)).path == str(tmp_path)
    with pytest.raises(ArcMLError, match="does not exist on the controller"):
        chart.parse_chart_ref(str(tmp_path / "missing.tgz"))


def test_chart_metadata_from_a_directory_and_from_a_package(tmp_path):
    directory = tmp_path / "azure-arc-k8sagents"
    directory.mkdir()
    (directory / "Chart.yaml").write_text(CHART_YAML)
    assert chart.chart_metadata(str(directory))["version"] == "1.36.0"
    package = tmp_path / "azure-arc-k8sagents-1.36.0.tgz"
    with tarfile.open(package, "w:gz") as archive:
        for name, text in (
            ("azure-arc-k8sagents/Chart.yaml", CHART_YAML),
            ("azure-arc-k8sagents/charts/sub/Chart.yaml", "version: 9.9.9\n"),
        ):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    assert chart.chart_metadata(str(package))["version"] == "1.36.0"


def test_a_chart_without_a_version_is_refused(tmp_path):
    (tmp_path / "Chart.yaml").write_text("name: x\n")
    with pytest.raises(ArcMLError, match=r"no Chart\.yaml with a version"):
        chart.chart_metadata(str(tmp_path))
    with pytest.raises(ArcMLError, match="Cannot read the chart"):
        chart.chart_metadata(str(tmp_path / "nothing"))


class FakeHelm:
    def __init__(self, unpack=True):
        self.calls = []
        self.unpack = unpack

    def run(self, args):
        self.calls.append(args)
        if self.unpack:
            target = args[args.index("--untardir") + 1]
            import os

            os.makedirs(os.path.join(target, "azure-arc-k8sagents"))
            with open(os.path.join(target, "azure-arc-k8sagents", "Chart.yaml"), "w") as handle:
                handle.write(CHART_YAML)


def test_pull_untars_into_the_private_directory_and_trusts_the_ca_bundle(tmp_path):
    helm = FakeHelm()
    source = chart.ChartSource(oci_url="oci://reg/azurearck8s/stable/v2/azure-arc-k8sagents")
    path = chart.pull(helm, source, "1.26.0", str(tmp_path), ca_file="/etc/ca.pem")
    assert path == str(tmp_path / "azure-arc-k8sagents")
    assert helm.calls == [
        [
            "pull",
            source.oci_url,
            "--version",
            "1.26.0",
            "--untar",
            "--untardir",
            str(tmp_path),
            "--ca-file",
            "/etc/ca.pem",
        ]
    ]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ArcMLError, match="did not unpack one chart"):
        chart.pull(FakeHelm(unpack=False), source, "1.26.0", str(empty))
