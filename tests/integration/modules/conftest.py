"""Module integration tests: a fresh Azure emulator per test module, and ansible-playbook pointed at it.

The emulator runs as `python -m sandbox.emulator`; the playbook gets exactly the variables the sandbox's
env.sh exports (sandbox.emulator.client_env), so the modules reach it as a custom Azure cloud, the way
users reach Azure Stack Hub or a sovereign cloud.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox.emulator import client_env
from sandbox.emulator.client import AdminClient

REPO = Path(__file__).resolve().parents[3]
COLLECTIONS = REPO / ".build" / "collections"
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
PLAYBOOK_TIMEOUT = 300
# Variables of the developer's own shell that would point a playbook somewhere else.
FOREIGN_PREFIXES = ("AZURE_", "ARCML_", "ANSIBLE_", "K8S_AUTH_", "REQUESTS_CA_BUNDLE", "ARM_")


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


class PlaybookRun:
    def __init__(self, completed, results):
        self.rc = completed.returncode
        self.output = completed.stdout + completed.stderr
        self.results = results


@pytest.fixture
def ansible_playbook(sandbox, tmp_path):
    """Run one playbook against the sandbox; each task that sets `register: result` has its result saved.

    `run(tasks, *args, env=None, ignore_errors=True)`: `tasks` is a list of task dicts, `args` extra
    ansible-playbook arguments, `env` overrides of the sandbox environment. Returns a PlaybookRun.
    """

    def run(tasks, *args, env=None, ignore_errors=True):
        results_file = tmp_path / "results.jsonl"
        results_file.unlink(missing_ok=True)
        play = [
            {
                "name": "Integration test",
                "hosts": "localhost",
                "connection": "local",
                "gather_facts": False,
                "tasks": [
                    step
                    for index, task in enumerate(tasks)
                    for step in (
                        dict(task, register=f"result_{index}", ignore_errors=ignore_errors),
                        {
                            "name": f"Save result {index}",
                            "ansible.builtin.lineinfile": {
                                "path": str(results_file),
                                "line": f"{{{{ result_{index} | to_json }}}}",
                                "create": True,
                            },
                            "check_mode": False,
                            "diff": False,
                        },
                    )
                ],
            }
        ]
        playbook = tmp_path / "playbook.yml"
        playbook.write_text(json.dumps(play))
        environ = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_PREFIXES)}
        environ.update(sandbox.env)
        environ.update(
            ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
            ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_RETRY_FILES_ENABLED="0",
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        )
        environ.update(env or {})
        completed = subprocess.run(
            [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", str(playbook), *args],
            env=environ,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=PLAYBOOK_TIMEOUT,
            check=False,
        )
        results = [json.loads(line) for line in results_file.read_text().splitlines()] if results_file.exists() else []
        return PlaybookRun(completed, results)

    return run
