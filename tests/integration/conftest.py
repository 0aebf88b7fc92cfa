"""Fixtures shared by the integration tests: the Kubernetes testbed."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def testbed_bin() -> Path:
    """The directory of the testbed binaries, built (or found in the cache) by sandbox/k8s/build.sh."""
    out = subprocess.run(
        ["bash", str(REPO / "sandbox" / "k8s" / "build.sh")], check=True, stdout=subprocess.PIPE, text=True
    )
    return Path(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def testbed_env(testbed_bin) -> dict:
    """The environment with the testbed's helm and kubectl first on PATH."""
    return {**os.environ, "PATH": f"{testbed_bin}{os.pathsep}{os.environ['PATH']}"}


@pytest.fixture(scope="session")
def start_cluster(testbed_bin, tmp_path_factory):
    """A factory that starts testbed clusters; every one is stopped at the end of the session."""
    from sandbox.k8s.controlplane import start_cluster as start

    started = []

    def _start(name: str):
        cluster = start(name, tmp_path_factory.mktemp(f"cluster-{name}"), testbed_bin)
        started.append(cluster)
        return cluster

    yield _start
    for cluster in started:
        cluster.stop()
