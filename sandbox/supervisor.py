"""The background process behind `sandbox up`: clusters, emulator, stand-in agents.

It starts one testbed cluster per site (in parallel), the Azure emulator as a
child process, registers the sites' nodes, writes inventory/env/kubeconfigs,
runs the stand-in agents, announces readiness in ready.json and stops
everything on SIGTERM.
"""

import json
import logging
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import outputs, state
from . import sites as sites_file
from .emulator import cluster_access
from .k8s.controlplane import _pid_alive, _pid_cmdline, free_port, port_is_free, start_cluster
from .k8s.nodes import register_nodes

log = logging.getLogger("sandbox")
EMULATOR_READY_TIMEOUT = 60.0


def _emulator_port(azure_dir: Path) -> int:
    """The port of the previous run when it is free, so an env.sh users already sourced stays valid."""
    port_file = azure_dir / "port"
    try:
        port = int(port_file.read_text())
    except (OSError, ValueError):
        port = 0
    if not port or not port_is_free(port):
        port = free_port()
    port_file.write_text(str(port))
    return port


def _start_emulator(azure_dir: Path, sites_path: Path):
    info_file = azure_dir / "emulator.json"
    info_file.unlink(missing_ok=True)
    azure_dir.mkdir(parents=True, exist_ok=True)
    log_file = open(azure_dir / "emulator.log", "ab")  # noqa: SIM115 - the child owns it
    try:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sandbox.emulator",
                "--dir",
                str(azure_dir),
                "--port",
                str(_emulator_port(azure_dir)),
                "--sites",
                str(sites_path),
                "--agent-mode",
                "external",
            ],
            cwd=Path(__file__).resolve().parent.parent,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log_file.close()
    (azure_dir / "emulator.pid").write_text(str(proc.pid))
    deadline = time.monotonic() + EMULATOR_READY_TIMEOUT
    while not info_file.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"the Azure emulator exited with {proc.returncode}; see {azure_dir / 'emulator.log'}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the Azure emulator was not ready in {EMULATOR_READY_TIMEOUT:.0f}s")
        time.sleep(0.05)
    return proc, json.loads(info_file.read_text())


def _site_access(site, cluster) -> dict:
    """What the emulator needs to reach a site's API server (emulator/cluster_access.py): paths, no key material."""
    pki = cluster.dir / "pki"
    return {
        "resource_group": site.resource_group,
        "name": site.name,
        "server": cluster.server,
        "ca_cert": pki / "ca.crt",
        "admin_cert": pki / "admin.crt",
        "admin_key": pki / "admin.key",
    }


def stop_emulator_dir(azure_dir: Path, timeout: float = 10.0) -> bool:
    pid_file = azure_dir / "emulator.pid"
    try:
        pid = int(pid_file.read_text())
    except (OSError, ValueError):
        return False
    stopped = False
    if _pid_alive(pid) and "sandbox.emulator" in _pid_cmdline(pid):
        import os

        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        stopped = True
    pid_file.unlink(missing_ok=True)
    return stopped


def serve(sites_path: Path, directory: Path, bin_dir: Path) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)
    started_at = time.monotonic()
    directory = Path(directory).resolve()
    state.write_supervisor_pid(directory)
    sites = sites_file.load(sites_path)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    clusters, emulator, agents = {}, None, None
    try:
        emulator, info = _start_emulator(directory / "azure", sites_path)
        log.info("emulator at %s", info["url"])

        def bring_up(site):
            cluster = start_cluster(site.name, directory / "clusters" / site.name, bin_dir)
            register_nodes(cluster.api(), site.nodes)
            return site.name, cluster

        with ThreadPoolExecutor(max_workers=min(4, len(sites.sites))) as pool:
            for name, cluster in pool.map(bring_up, sites.sites):
                clusters[name] = cluster
                log.info("cluster %s at %s", name, cluster.server)

        contexts = {}
        for name, cluster in clusters.items():
            outputs.write_kubeconfig(directory, name, cluster.kubeconfig)
            contexts[name] = cluster.context
        cluster_access.write(directory / "azure", [_site_access(site, clusters[site.name]) for site in sites.sites])
        outputs.write_inventory(sites, directory, contexts)
        from .agents import Agents
        from .emulator.env import client_env

        env = client_env(directory / "azure", sandbox_dir=directory)
        outputs.write_env(directory, env, bin_dir)
        agents = Agents(sites, clusters, info, directory, bin_dir)
        for site in sites.sites:
            if site.provisioned:
                agents.preinstall_provisioned(
                    site, clusters[site.name], env["AZURE_SUBSCRIPTION_ID"], env["AZURE_TENANT_ID"]
                )
        agents.start()
        state.write_ready(
            directory,
            {
                "url": info["url"],
                "sites_file": str(Path(sites_path).resolve()),
                "startup_seconds": time.monotonic() - started_at,
                "sites": [
                    {"name": n, "server": c.server, "kubeconfig": str(outputs.kubeconfig_path(directory, n))}
                    for n, c in clusters.items()
                ],
            },
        )
        log.info("ready in %.1fs", time.monotonic() - started_at)
        while not stop.wait(0.5):
            if emulator.poll() is not None:
                log.error("the emulator exited with %s; stopping", emulator.returncode)
                return 1
        return 0
    except Exception:
        log.exception("sandbox failed")
        return 1
    finally:
        state.clear_ready(directory)
        if agents:
            agents.stop()
        stop_emulator_dir(directory / "azure")
        for cluster in clusters.values():
            cluster.stop()
        for d in state.cluster_dirs(directory):
            from .k8s.controlplane import stop_cluster_dir

            stop_cluster_dir(d)
        (directory / state.SUPERVISOR_PID).unlink(missing_ok=True)
        log.info("stopped")
