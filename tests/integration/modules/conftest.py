"""Module integration tests: a fresh Azure emulator per test module, and ansible-playbook pointed at it.

The emulator runs as `python -m sandbox.emulator`; the playbook gets exactly the variables the sandbox's
env.sh exports (sandbox.emulator.client_env), so the modules reach it as a custom Azure cloud, the way
users reach Azure Stack Hub or a sovereign cloud.
"""

import pytest

from sandbox.testing import RunningEmulator


class Sandbox(RunningEmulator):
    """A running emulator: `env` is what env.sh exports, `admin` its /_sandbox/ API."""

    def requests_since(self, seq):
        """ARM and login requests after `seq` in the request log, as 'METHOD /path' lines."""
        return [f"{entry['method']} {entry['path']}" for entry in self.admin.requests(since=seq)]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with Sandbox.start(tmp_path_factory.mktemp("azure") / "emulator", lro_seconds=0.5) as running:
        yield running


@pytest.fixture
def ansible_playbook(sandbox, tmp_path):
    """run(tasks, *args, env=None, ignore_errors=True): the tasks through ansible-playbook against this emulator.

    Returns playbook_runner.PlaybookRun (`.rc`, `.output`, `.results` with every task's registered result).
    """
    from playbook_runner import run_tasks

    def run(tasks, *args, env=None, ignore_errors=True):
        return run_tasks(tasks, sandbox.env, tmp_path, *args, env=env, ignore_errors=ignore_errors)

    return run
