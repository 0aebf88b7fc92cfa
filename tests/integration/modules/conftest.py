"""Module integration tests: a fresh Azure emulator per test module, and ansible-playbook pointed at it.

The emulator runs as `python -m sandbox.emulator`; the playbook gets exactly the variables the sandbox's
env.sh exports (sandbox.emulator.client_env), so the modules reach it as a custom Azure cloud, the way
users reach Azure Stack Hub or a sovereign cloud.
"""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox.emulator import client_env
from sandbox.emulator.client import AdminClient

REPO = Path(__file__).resolve().parents[3]
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class Sandbox:
    """A running emulator: `env` is what env.sh exports, `admin` its /_sandbox/ API."""

    def __init__(self, directory, process):
        self.directory = directory
        self.process = process
        self.env = client_env(directory)
        self.admin = AdminClient.for_dir(directory)

    def requests_since(self, seq):
        """ARM and login requests after `seq` in the request log, as 'METHOD /path' lines."""
        return [f"{entry['method']} {entry['path']}" for entry in self.admin.requests(since=seq)]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    directory = tmp_path_factory.mktemp("azure") / "emulator"
    log_path = directory.parent / "emulator.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox.emulator", "--dir", str(directory), "--port", "0", "--lro-seconds", "0.5"],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while not (directory / "emulator.json").exists():
        if process.poll() is not None:
            pytest.fail(f"the emulator exited with {process.returncode}; see {log_path}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the emulator was not ready within {START_TIMEOUT}s; see {log_path}")
        time.sleep(0.05)
    running = Sandbox(directory, process)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def ansible_playbook(sandbox, tmp_path):
    """run(tasks, *args, env=None, ignore_errors=True): the tasks through ansible-playbook against this emulator.

    Returns playbook_runner.PlaybookRun (`.rc`, `.output`, `.results` with every task's registered result).
    """
    from playbook_runner import run_tasks

    def run(tasks, *args, env=None, ignore_errors=True):
        return run_tasks(tasks, sandbox.env, tmp_path, *args, env=env, ignore_errors=ignore_errors)

    return run
