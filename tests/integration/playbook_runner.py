"""Run ansible-playbook the way a user does, and collect each task's registered result.

Integration tests build a play from a list of tasks (or point at a playbook file), run it with the
environment a user has after sourcing the sandbox's env.sh, and read back every task's result, the
whole output (for secret scans at -vvvv) and the return code.
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".build" / "collections"
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
PLAYBOOK_TIMEOUT = 600
# Variables of the developer's own shell that would point a playbook somewhere else.
FOREIGN_PREFIXES = ("AZURE_", "ARCML_", "ANSIBLE_", "K8S_AUTH_", "REQUESTS_CA_BUNDLE", "ARM_")


@dataclass
class PlaybookRun:
    rc: int
    output: str
    results: list

    @property
    def failed(self):
        return [r for r in self.results if r.get("failed")]


def playbook_env(base_env: dict, tmp_path: Path, extra=None) -> dict:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_PREFIXES)}
    environ.update(base_env)
    environ.update(
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_DEPRECATION_WARNINGS="0",
    )
    environ.update(extra or {})
    return environ


def run_tasks(tasks, base_env, tmp_path, *args, env=None, ignore_errors=True, hosts="localhost",
              inventory="localhost,", play_vars=None) -> PlaybookRun:  # fmt: skip
    """Run `tasks` as one play; every task's result is registered and saved in order."""
    results_file = tmp_path / "results.jsonl"
    results_file.unlink(missing_ok=True)
    steps = []
    for index, task in enumerate(tasks):
        steps.append(dict(task, register=f"result_{index}", ignore_errors=ignore_errors))
        steps.append({
            "name": f"Save result {index}",
            "ansible.builtin.lineinfile": {
                # The index keeps two identical results from collapsing into one line.
                "path": str(results_file),
                "line": f"{{{{ {{'index': {index}, 'result': result_{index}}} | to_json }}}}",
                "create": True,
            },
            "check_mode": False,
            "diff": False,
            # A no_log task's result holds secrets (cluster_credentials' kubeconfig): saving it must not print it.
            "no_log": bool(task.get("no_log")),
        })  # fmt: skip
    play = [{"name": "Integration test", "hosts": hosts, "connection": "local", "gather_facts": False,
             "vars": play_vars or {}, "tasks": steps}]  # fmt: skip
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(json.dumps(play))
    run = run_playbook(playbook, base_env, tmp_path, "-i", str(inventory), *args, env=env)
    lines = results_file.read_text().splitlines() if results_file.exists() else []
    results = [entry["result"] for entry in sorted((json.loads(line) for line in lines), key=lambda e: e["index"])]
    return PlaybookRun(run.rc, run.output, results)


def run_playbook(playbook, base_env, tmp_path, *args, env=None) -> PlaybookRun:
    completed = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), str(playbook), *args],
        env=playbook_env(base_env, tmp_path, env), cwd=tmp_path, capture_output=True, text=True,
        timeout=PLAYBOOK_TIMEOUT, check=False,
    )  # fmt: skip
    return PlaybookRun(completed.returncode, completed.stdout + completed.stderr, [])
