"""The extension tests' own sandbox (sites.yml here), so their clusters and extensions collide with no one's.

One single-node Linux site onboarded to Arc by hand (sandbox.testing.connect_site), the providers the
extensions need registered, short emulated operations; torn down at the end of the test module.
"""

from pathlib import Path

import pytest
import yaml

from sandbox.testing import ArmSession, Sandbox, connect_site, read_env_file, sandbox_cli

SITES = Path(__file__).resolve().with_name("sites.yml")
((SITE, RESOURCE_GROUP),) = [(s["name"], s["resource_group"]) for s in yaml.safe_load(SITES.read_text())["sites"]]


@pytest.fixture(scope="module")
def ext_sandbox(testbed_bin, tmp_path_factory):
    directory = tmp_path_factory.mktemp("ext-sandbox")
    started = sandbox_cli("up", "--sites", str(SITES), "--dir", str(directory), check=False)
    if started.returncode != 0:
        pytest.fail(f"python -m sandbox up failed:\n{started.stdout}\n{started.stderr}")
    try:
        sandbox = Sandbox(directory, read_env_file(directory / "env.sh"))
        # Relay namespace operations take lro_seconds; extension operations end when the stand-in agents report.
        sandbox.admin.settings(lro_seconds=0.5, retry_after_seconds=1)
        ArmSession(sandbox.env).register("Microsoft.Relay")
        connect_site(sandbox, SITE, RESOURCE_GROUP)
        yield sandbox
    finally:
        sandbox_cli("down", "--dir", str(directory), check=False)


@pytest.fixture(scope="module")
def arm(ext_sandbox):
    return ArmSession(ext_sandbox.env)


@pytest.fixture
def play(ext_sandbox, tmp_path):
    """run(tasks, *ansible_playbook_args): one play on localhost against this module's sandbox."""
    from playbook_runner import run_tasks

    def run(tasks, *args):
        return run_tasks(tasks, ext_sandbox.env, tmp_path, *args)

    return run
