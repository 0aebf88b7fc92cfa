"""What the benchmark and the reliability tests measure: a run's processes, its ARM and Kubernetes calls.

- `run_measured` runs one command (ansible-playbook) in its own session with a bounded time, and returns its
  wall time, the CPU time and peak RSS of the whole process tree (os.wait4: the command and every descendant
  it waited for) and the peak summed RSS of the tree sampled from /proc.
- `ArmLog` reads the emulator's request log from a mark and sorts the calls: ARM, login, metadata, Arc data
  plane, chart registry; per site (by resource group or compute name in the path, or by the module run's
  correlation id for operation-status URLs) or per run; and the 429s of ARM's token buckets with their waits.
- `AuditLog` reads a site's kube-apiserver audit log (opt-in, ARCML_SANDBOX_AUDIT_USERS) from a mark.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COLLECTIONS = REPO / ".build" / "collections"
CALLBACKS = REPO / "bench" / "callback_plugins"
# The settings the README tells users to run the playbooks with (pipelining among them); --forks still wins.
FLEET_CONFIG = REPO / "playbooks" / "ansible.cfg"
# Variables of the developer's own shell that would point a run somewhere else.
FOREIGN_PREFIXES = ("AZURE_", "ARCML_", "ANSIBLE_", "K8S_AUTH_", "REQUESTS_CA_BUNDLE", "ARM_")
WRITE_METHODS = ("PUT", "PATCH", "POST", "DELETE")
KUBE_WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
# Created, but stored nowhere: questions to the API server, not changes.
KUBE_REVIEWS = ("selfsubjectaccessreviews", "selfsubjectreviews", "selfsubjectrulesreviews", "tokenreviews",
                "subjectaccessreviews", "localsubjectaccessreviews")  # fmt: skip
# POST actions on ARM that read (list keys or secrets) rather than change anything.
ARM_READ_ACTIONS = ("/listkeys", "/listclusterusercredential", "/listsecrets", "/listusercredential")
PAGE = os.sysconf("SC_PAGE_SIZE")


def read_env_file(path: Path) -> dict:
    """The variables an env.sh exports (PATH resolved against this process's PATH)."""
    env = {}
    for line in Path(path).read_text().splitlines():
        if not line.startswith("export "):
            continue
        name, _, value = line[len("export ") :].partition("=")
        env[name] = shlex.split(value.replace('"$PATH"', os.environ["PATH"]))[0]
    return env


def ansible_env(sandbox_env: dict, work: Path, record_file: Path | None = None, extra: dict | None = None) -> dict:
    """The environment of an ansible-playbook run: env.sh's variables, our collection, the record callback."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_PREFIXES)}
    environ.update(sandbox_env)
    environ.update(
        ANSIBLE_CONFIG=str(FLEET_CONFIG),
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_LOCAL_TEMP=str(work / "ansible-local"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_DEPRECATION_WARNINGS="0",
        ANSIBLE_HOST_KEY_CHECKING="0",
    )
    if record_file is not None:
        environ.update(
            ANSIBLE_CALLBACK_PLUGINS=str(CALLBACKS),
            ANSIBLE_CALLBACKS_ENABLED="arcml_record",
            ARCML_RECORD_FILE=str(record_file),
        )
    environ.update(extra or {})
    return environ


# Processes


def _children_map() -> dict:
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the ppid is the 2nd field after it.
        ppid = int(stat.rsplit(b")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def tree_pids(root: int) -> list:
    """`root` and every live descendant."""
    children = _children_map()
    pids, pending = [], [root]
    while pending:
        pid = pending.pop()
        pids.append(pid)
        pending.extend(children.get(pid, ()))
    return pids


def kill_tree(root: int) -> list:
    """SIGKILL `root` and every descendant (Ansible's workers run in sessions of their own, so a process
    group signal would miss them and their module processes); return the pids signalled."""
    pids = tree_pids(root)
    for pid in pids:
        with _suppress_lookup():
            os.kill(pid, signal.SIGKILL)
    return pids


def tree_rss(root: int) -> int:
    """The summed resident memory (bytes) of `root` and its descendants."""
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except OSError:
            continue
    return total


class _TreeSampler(threading.Thread):
    def __init__(self, root: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self.root, self.interval, self.peak = root, interval, 0
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            self.peak = max(self.peak, tree_rss(self.root))
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join(timeout=5)


@dataclass
class Measured:
    argv: list
    rc: int
    wall: float
    cpu_user: float
    cpu_system: float
    max_rss: int  # bytes, the largest single process of the tree (getrusage ru_maxrss)
    peak_tree_rss: int  # bytes, the largest sampled sum over the tree
    output: str
    started: float  # wall clock (time.time()) at start
    timed_out: bool = False

    @property
    def cpu(self) -> float:
        return self.cpu_user + self.cpu_system


def run_measured(argv, env, cwd, timeout: float, on_start=None, sample_interval: float = 0.5) -> Measured:
    """Run `argv` in its own session; the whole session is killed if it outlives `timeout`.

    `on_start(popen)` is called once the process runs (the reliability tests use it to kill a run).
    """
    started_wall = time.time()
    start = time.monotonic()
    proc = subprocess.Popen(
        argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    chunks = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: proc.stdout.read(65536), b"")), daemon=True)
    reader.start()
    sampler = _TreeSampler(proc.pid, sample_interval)
    sampler.start()
    if on_start is not None:
        on_start(proc)
    deadline = start + timeout
    timed_out = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            timed_out = True
            kill_tree(proc.pid)
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.05)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    sampler.stop()
    reader.join(timeout=30)
    proc.stdout.close()
    # Whatever the run left behind in its own process group (nothing, normally) goes with it.
    with _suppress_lookup():
        os.killpg(proc.pid, signal.SIGKILL)
    return Measured(
        argv=list(argv),
        rc=proc.returncode,
        wall=wall,
        cpu_user=usage.ru_utime,
        cpu_system=usage.ru_stime,
        max_rss=usage.ru_maxrss * 1024,
        peak_tree_rss=sampler.peak,
        output=b"".join(chunks).decode("utf-8", "replace"),
        started=started_wall,
        timed_out=timed_out,
    )


class _suppress_lookup:
    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        return kind is not None and issubclass(kind, (ProcessLookupError, PermissionError))


# The emulator's request log


def category(path: str) -> str:
    p = path.lower()
    if p.startswith(("/subscriptions", "/providers/")):
        return "arm"
    if p.startswith("/metadata/"):
        return "metadata"
    if "/oauth2/" in p or "/.well-known/" in p or "/discovery/" in p or p.startswith("/common/"):
        return "login"
    if p.startswith("/arc-config"):
        return "dataplane"
    if p.startswith("/v2/"):
        return "registry"
    return "other"


def header(entry: dict, name: str):
    for key, value in (entry.get("headers") or {}).items():
        if key.lower() == name:
            return value
    return None


@dataclass
class ArmCalls:
    """The request-log entries of one run, sorted."""

    entries: list
    sites: dict
    by_site: dict = field(default_factory=dict)  # site -> [entries] (ARM only)
    per_run: list = field(default_factory=list)  # ARM entries no site can be named for
    counts: dict = field(default_factory=dict)  # category -> count

    @classmethod
    def sort(cls, entries, sites: dict):
        """`sites`: site name -> (its resource group, its compute name), how a path names the site."""
        markers = []
        for name, (resource_group, compute) in sites.items():
            markers.append((f"/resourcegroups/{resource_group.lower()}/", name))
            markers.append((f"/computes/{compute.lower()}/", name))
        calls = cls(entries=entries, sites=dict(sites), by_site={s: [] for s in sites})

        def site_of(path):
            path = path.lower().rstrip("/") + "/"
            return next((name for marker, name in markers if marker in path), None)

        correlation_site = {}
        for entry in entries:
            site = site_of(entry["path"])
            correlation = header(entry, "x-ms-correlation-request-id")
            if site and correlation:
                correlation_site[correlation] = site
        for entry in entries:
            kind = category(entry["path"])
            calls.counts[kind] = calls.counts.get(kind, 0) + 1
            if kind != "arm":
                continue
            site = site_of(entry["path"]) or correlation_site.get(header(entry, "x-ms-correlation-request-id"))
            if site:
                calls.by_site[site].append(entry)
            else:
                calls.per_run.append(entry)
        return calls

    def arm_per_site(self) -> dict:
        counts = [len(v) for v in self.by_site.values()]
        if not counts:
            return {"mean": 0, "max": 0, "min": 0}
        return {"mean": sum(counts) / len(counts), "max": max(counts), "min": min(counts)}

    def writes(self):
        return arm_writes(self.entries)

    def throttling(self) -> dict:
        """The 429s ARM's token buckets served in this run (injected faults aside) and the waits they asked for.

        `wait_seconds` adds up every Retry-After; sites run side by side, so what throttling adds to the run's
        wall time is about `slowest_site_wait_seconds`: the largest wait of one site plus the run's own waits.
        """
        per_run = _throttle_waits(self.per_run)
        site_waits = [_throttle_waits(entries)["wait_seconds"] for entries in self.by_site.values()]
        every = _throttle_waits(self.entries)
        return {
            **every,
            "slowest_site_wait_seconds": max(site_waits, default=0) + per_run["wait_seconds"],
        }


def _throttle_waits(entries) -> dict:
    throttled = [e["throttle"] for e in entries if e.get("throttle")]
    by_operation = {}
    for note in throttled:
        by_operation[note["operation"]] = by_operation.get(note["operation"], 0) + 1
    return {
        "responses": len(throttled),
        "by_operation": by_operation,
        "wait_seconds": sum(note["retryAfter"] for note in throttled),
    }


class ArmLog:
    """Marks in the emulator's request log (through the admin API)."""

    def __init__(self, admin):
        self.admin = admin
        self.seq = admin.last_seq()

    def mark(self):
        self.seq = self.admin.last_seq()
        return self.seq

    def since_mark(self) -> list:
        return self.admin.requests(since=self.seq)


# Kubernetes API audit logs


class AuditLog:
    """A site's kube-apiserver audit log (one JSON event per request) read from a mark."""

    def __init__(self, path: Path, user: str):
        self.path = Path(path)
        self.user = user
        self.offset = self._size()

    def _size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def mark(self):
        self.offset = self._size()

    def since_mark(self) -> list:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        events = []
        for line in data.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if (event.get("user") or {}).get("username") == self.user:
                events.append(event)
        return events


def arm_writes(entries) -> list:
    """The ARM requests that change something (PUT, PATCH, DELETE, and POST actions other than list-keys)."""
    return [
        e
        for e in entries
        if category(e["path"]) == "arm"
        and e["method"] in WRITE_METHODS
        and not (e["method"] == "POST" and e["path"].lower().endswith(ARM_READ_ACTIONS))
    ]


def kube_writes(events) -> list:
    return [
        e
        for e in events
        if e.get("verb") in KUBE_WRITE_VERBS and (e.get("objectRef") or {}).get("resource") not in KUBE_REVIEWS
    ]


def median(values):
    values = sorted(values)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
