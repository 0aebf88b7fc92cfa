# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Where the Arc agent chart comes from, and fetching it.

By default the chart is the one the config data plane names, pulled from its OCI registry (MCR in the
public clouds). `chart_ref` overrides that for registry mirrors (`oci://mirror/.../azure-arc-k8sagents`,
optionally with `:<version>`) and air-gapped sites (a chart directory or .tgz on the controller).

Every chart version gets the onboarding private key the same way, as the helm value
`global.onboardingPrivateKey` (see _arc.onboarding.Onboarding.install_agents): no client gates it on the chart
version.
"""

from __future__ import annotations

import os
import tarfile

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError, import_optional, one_line


class ChartSource:
    """`oci_url` + `version` to pull (version None: the one the data plane chose), or a local `path`."""

    def __init__(self, oci_url=None, version=None, path=None):
        self.oci_url = oci_url
        self.version = version
        self.path = path

    def describe(self):
        if self.path:
            return self.path
        return f"{self.oci_url}:{self.version}" if self.version else self.oci_url


def parse_chart_ref(chart_ref):
    """The ChartSource a `chart_ref` option names, or None when it is not set."""
    if not chart_ref:
        return None
    if chart_ref.startswith("oci://"):
        rest = chart_ref[len("oci://") :]
        last = rest.rsplit("/", 1)[-1]
        if "/" not in rest or not last:
            raise ArcMLError(
                f"chart_ref {chart_ref!r} must look like oci://<registry>/<repository>/<chart>[:<version>]."
            )
        if ":" in last:
            chart, version = last.split(":", 1)
            return ChartSource(oci_url="oci://" + rest[: len(rest) - len(last)] + chart, version=version)
        return ChartSource(oci_url=chart_ref)
    if "://" in chart_ref:
        raise ArcMLError(f"chart_ref {chart_ref!r} must be an oci:// reference or a path on the controller.")
    path = os.path.abspath(os.path.expanduser(chart_ref))
    if not (os.path.isdir(path) or os.path.isfile(path)):
        raise ArcMLError(f"chart_ref {chart_ref} does not exist on the controller: give a chart directory or .tgz.")
    return ChartSource(path=path)


def pull(helm, source, version, directory, ca_file=None):
    """`helm pull --untar` `source` at `version` into `directory` (private, removed by the caller); the chart path."""
    args = ["pull", source.oci_url, "--version", version, "--untar", "--untardir", directory]
    if ca_file:
        args += ["--ca-file", ca_file]
    helm.run(args)
    entries = [os.path.join(directory, name) for name in sorted(os.listdir(directory))]
    charts = [path for path in entries if os.path.isfile(os.path.join(path, "Chart.yaml"))]
    if len(charts) != 1:
        raise ArcMLError(f"helm pull {source.oci_url} --version {version} did not unpack one chart.")
    return charts[0]


def chart_metadata(path):
    """Chart.yaml of a chart directory or packaged chart (.tgz), as a dict."""
    yaml = import_optional("yaml", "PyYAML")
    try:
        if os.path.isdir(path):
            with open(os.path.join(path, "Chart.yaml"), encoding="utf-8") as handle:
                text = handle.read()
        else:
            text = _packaged_chart_yaml(path)
        metadata = yaml.safe_load(text)
    except (OSError, tarfile.TarError, yaml.YAMLError) as exc:
        raise ArcMLError(f"Cannot read the chart at {path}: {one_line(exc, limit=200)}.") from None
    if not isinstance(metadata, dict) or not metadata.get("version"):
        raise ArcMLError(f"The chart at {path} has no Chart.yaml with a version.")
    return metadata


def _packaged_chart_yaml(path):
    with tarfile.open(path, "r:*") as archive:
        for member in archive.getmembers():
            parts = member.name.split("/")
            if len(parts) == 2 and parts[1] == "Chart.yaml" and member.isfile():
                return archive.extractfile(member).read().decode("utf-8")
    raise OSError(f"no <chart>/Chart.yaml in {os.path.basename(path)}")
