"""Fixtures shared by the integration tests: the Kubernetes testbed and the whole sandbox."""

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SITES = Path(__file__).resolve().parent / "sites.yml"


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


def read_env_file(path: Path) -> dict:
    """The variables an env.sh exports (PATH resolved against this process's PATH)."""
    env = {}
    for line in path.read_text().splitlines():
        if not line.startswith("export "):
            continue
        name, _, value = line[len("export ") :].partition("=")
        env[name] = shlex.split(value.replace('"$PATH"', os.environ["PATH"]))[0]
    return env


@dataclass
class Sandbox:
    """A running `python -m sandbox up`: its directory, the env.sh variables and the admin client."""

    dir: Path
    env: dict

    @property
    def inventory(self) -> Path:
        return self.dir / "inventory.yml"

    @property
    def admin(self):
        from sandbox.emulator.client import AdminClient

        return AdminClient(self.env["ARCML_SANDBOX_URL"], self.env["REQUESTS_CA_BUNDLE"])

    def kubeconfig(self, site: str) -> Path:
        return self.dir / f"kubeconfig-{site}.yaml"

    def kube_api(self, site: str):
        import json

        from sandbox.k8s.controlplane import Cluster

        state = json.loads((self.dir / "clusters" / site / "cluster.json").read_text())
        return Cluster(site, self.dir / "clusters" / site, state["ports"]["api"]).api()

    def process_env(self) -> dict:
        """This process's environment plus env.sh: what a user has after sourcing it."""
        return {**os.environ, **self.env}


def sandbox_cli(*args, check=True, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        cwd=REPO,
        check=check,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def sandbox(testbed_bin, tmp_path_factory):
    """The sandbox on tests/integration/sites.yml, shared by the session; stopped at the end."""
    directory = tmp_path_factory.mktemp("sandbox")
    sandbox_cli("up", "--sites", str(SITES), "--dir", str(directory))
    try:
        yield Sandbox(directory, read_env_file(directory / "env.sh"))
    finally:
        sandbox_cli("down", "--dir", str(directory), check=False)
