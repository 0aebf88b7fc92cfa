"""What a sandbox directory says about the sandbox: ready file, pids, log."""

import json
import os
from pathlib import Path

from .k8s.controlplane import _pid_alive, stop_cluster_dir

READY = "ready.json"
SUPERVISOR_PID = "supervisor.pid"


def pid_alive(pid: int) -> bool:
    return _pid_alive(pid)


def supervisor_pid(directory: Path):
    path = Path(directory) / SUPERVISOR_PID
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def write_supervisor_pid(directory: Path) -> None:
    (Path(directory) / SUPERVISOR_PID).write_text(str(os.getpid()))


def read_ready(directory: Path):
    path = Path(directory) / READY
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write_ready(directory: Path, info: dict) -> None:
    tmp = Path(directory) / (READY + ".tmp")
    tmp.write_text(json.dumps(info, indent=2))
    tmp.replace(Path(directory) / READY)


def clear_ready(directory: Path) -> None:
    (Path(directory) / READY).unlink(missing_ok=True)


def running(directory: Path):
    ready = read_ready(directory)
    if ready and supervisor_pid(directory):
        return ready
    return None


def log_tail(directory: Path, lines: int = 40) -> str:
    path = Path(directory) / "sandbox.log"
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def cluster_dirs(directory: Path):
    root = Path(directory) / "clusters"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []


def stop_leftovers(directory: Path) -> list:
    """Stop processes a killed supervisor left running; return what was stopped."""
    stopped = []
    for d in cluster_dirs(directory):
        if (d / "pids.json").exists():
            stop_cluster_dir(d)
            stopped.append(f"cluster {d.name}")
    from .supervisor import stop_emulator_dir

    if stop_emulator_dir(Path(directory) / "azure"):
        stopped.append("emulator")
    (Path(directory) / SUPERVISOR_PID).unlink(missing_ok=True)
    return stopped


def status(directory: Path) -> dict:
    ready = running(directory)
    if not ready:
        return {"running": False, "dir": str(directory)}
    sites = []
    for site in ready["sites"]:
        agent_file = Path(directory) / "agents" / f"{site['name']}.json"
        try:
            agent = json.loads(agent_file.read_text())
        except (OSError, ValueError):
            agent = {}
        sites.append({**site, **agent})
    return {
        "running": True,
        "dir": str(directory),
        "pid": supervisor_pid(directory),
        "url": ready["url"],
        "sites": sites,
    }
