"""Fixtures shared by the integration tests: the Kubernetes testbed and the whole sandbox."""

import os
import subprocess
from pathlib import Path

import pytest
from sandbox_support import REPO, SITES, Sandbox, read_env_file, sandbox_cli


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


@pytest.fixture(scope="session")
def sandbox(testbed_bin, tmp_path_factory):
    """The sandbox on tests/integration/sites.yml, shared by the session; stopped at the end."""
    directory = tmp_path_factory.mktemp("sandbox")
    sandbox_cli("up", "--sites", str(SITES), "--dir", str(directory))
    try:
        yield Sandbox(directory, read_env_file(directory / "env.sh"))
    finally:
        sandbox_cli("down", "--dir", str(directory), check=False)


@pytest.fixture
def sandbox_playbook(sandbox, tmp_path):
    """run(tasks, *ansible_playbook_args, env=None, ignore_errors=True) against the session sandbox.

    Tasks run on localhost with env.sh's variables; returns playbook_runner.PlaybookRun with every
    task's registered result in `.results` (in order), the full output and the return code.
    """
    from playbook_runner import run_tasks

    def run(tasks, *args, **kwargs):
        return run_tasks(tasks, sandbox.env, tmp_path, *args, **kwargs)

    return run
