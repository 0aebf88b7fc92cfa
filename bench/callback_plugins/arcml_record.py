# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record every task result of a run as one JSON line: the benchmark's timings, the reliability tests' verdicts.

Enable it with ANSIBLE_CALLBACK_PLUGINS=<this directory>, ANSIBLE_CALLBACKS_ENABLED=arcml_record and
ARCML_RECORD_FILE=<path>. Each line: {"event": "result", "task", "action", "role", "host", "start", "end",
"status" (ok|changed|failed|skipped|unreachable|rescued), "changed", "failed", "msg"} with wall-clock
times; plus one {"event": "task_start"} line per task and {"event": "stats"} at the end. The message is
what Ansible itself shows (already masked by no_log); nothing else from the result is written.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: arcml_record
type: aggregate
short_description: write task results and timings as JSON lines (hci.arc_ml benchmark and tests)
description:
  - Writes one JSON line per task result to the file named by the ARCML_RECORD_FILE environment variable.
requirements:
  - enable in configuration
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "arcml_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._path = os.environ.get("ARCML_RECORD_FILE")
        self._starts = {}

    def _write(self, entry):
        if not self._path:
            return
        with open(self._path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, default=str) + "\n")

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._write({"event": "task_start", "task": task.get_name(), "uuid": task._uuid, "time": time.time()})

    def v2_runner_on_start(self, host, task):
        self._starts[(host.get_name(), task._uuid)] = time.time()

    def _result(self, result, status):
        task = result._task
        host = result._host.get_name()
        data = result._result or {}
        changed = bool(data.get("changed"))
        if status == "ok" and changed:
            status = "changed"
        self._write(
            {
                "event": "result",
                "task": task.get_name(),
                "action": task.action,
                "role": task._role.get_name() if task._role else None,
                "host": host,
                "start": self._starts.pop((host, task._uuid), None),
                "end": time.time(),
                "status": status,
                "changed": changed,
                "failed": status in ("failed", "unreachable"),
                "ignored": bool(getattr(result, "_task_fields", {}).get("ignore_errors")),
                "msg": data.get("msg") if isinstance(data.get("msg"), str) else None,
                "exception": "Traceback" in str(data.get("exception") or ""),
                "loop": bool(data.get("results")),
            }
        )

    def v2_runner_on_ok(self, result):
        self._result(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._result(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._result(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        hosts = sorted(stats.processed.keys())
        self._write({"event": "stats", "time": time.time(), "hosts": {h: stats.summarize(h) for h in hosts}})


def read_records(path):
    """The records a run wrote (an empty list when it wrote none)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except FileNotFoundError:
        return []
