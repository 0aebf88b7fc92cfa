"""Start and stop isolated Kubernetes control planes on 127.0.0.1.

One cluster is etcd + kube-apiserver + kube-controller-manager (the namespace
controller makes deletions finish), each a child process with its own log under
the cluster's directory. Ports, certificates and etcd data live in that
directory, so a cluster restarted on the same directory keeps its state and its
kubeconfig stays valid.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import kubeconfig, pki
from .api import KubeApi, KubeApiError

BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager")
READY_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0
SERVICE_CIDR = "10.0.0.0/24"
# Opt-in API audit log: a comma-separated list of user names whose requests kube-apiserver records, one JSON
# line per request in logs/audit.log (the benchmark counts a run's Kubernetes calls with it). Unset: no audit.
AUDIT_USERS_ENV = "ARCML_SANDBOX_AUDIT_USERS"


class TestbedError(Exception):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # The Go servers listen with SO_REUSEADDR, so a port held only by
        # TIME_WAIT connections of a previous run is free for them too.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def find_binaries(bin_dir) -> dict:
    bin_dir = Path(bin_dir)
    paths = {name: bin_dir / name for name in BINARIES}
    missing = [name for name, path in paths.items() if not os.access(path, os.X_OK)]
    if missing:
        raise TestbedError(f"testbed binaries missing in {bin_dir}: {', '.join(missing)}; run sandbox/k8s/build.sh")
    return paths


def _write(path: Path, data: bytes, mode=0o644):
    path.write_bytes(data)
    path.chmod(mode)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie has exited: only its parent's wait() is missing.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return False


def _pid_cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@dataclass
class Cluster:
    """A running testbed cluster, as its directory describes it."""

    name: str
    dir: Path
    api_port: int
    processes: dict = field(default_factory=dict)

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def kubeconfig(self) -> Path:
        return self.dir / "admin.kubeconfig"

    @property
    def context(self) -> str:
        return f"admin@{self.name}"

    def pki(self, name) -> bytes:
        return (self.dir / "pki" / name).read_bytes()

    def api(self) -> KubeApi:
        return KubeApi(self.server, self.pki("ca.crt"), self.pki("admin.crt"), self.pki("admin.key"))

    def user_kubeconfig(self, user: str, groups=(), path=None) -> Path:
        """Write a kubeconfig for another identity (e.g. one without cluster-admin rights)."""
        ca = pki.KeyPair(self.pki("ca.crt"), self.pki("ca.key"))
        pair = pki.client_pair(ca, user, groups)
        path = Path(path or self.dir / f"{user}.kubeconfig")
        text = kubeconfig.render(self.name, self.server, ca.cert_pem, user, pair.cert_pem, pair.key_pem)
        _write(path, text.encode(), 0o600)
        return path

    def log_tail(self, component: str, lines: int = 30) -> str:
        path = self.dir / "logs" / f"{component}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def pids(self) -> dict:
        path = self.dir / "pids.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        stop_cluster_dir(self.dir, timeout)
        self.processes.clear()


def _prepare_pki(pki_dir: Path) -> None:
    if (pki_dir / "admin.key").exists():
        return
    pki_dir.mkdir(parents=True, exist_ok=True)
    ca = pki.new_ca("arcml-testbed-ca")
    serving = pki.serving_pair(
        ca,
        hostnames=("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"),
        ips=("127.0.0.1", "10.0.0.1"),
    )
    admin = pki.client_pair(ca, "admin", ("system:masters",))
    sa_key, sa_pub = pki.signing_key()
    _write(pki_dir / "ca.crt", ca.cert_pem)
    _write(pki_dir / "ca.key", ca.key_pem, 0o600)
    _write(pki_dir / "apiserver.crt", serving.cert_pem)
    _write(pki_dir / "apiserver.key", serving.key_pem, 0o600)
    _write(pki_dir / "admin.crt", admin.cert_pem)
    _write(pki_dir / "admin.key", admin.key_pem, 0o600)
    _write(pki_dir / "sa.key", sa_key, 0o600)
    _write(pki_dir / "sa.pub", sa_pub)


def _ports(state_file: Path) -> dict:
    names = ("etcd_client", "etcd_peer", "api", "controller_manager")
    ports = json.loads(state_file.read_text()).get("ports", {}) if state_file.exists() else {}
    for name in names:
        if not ports.get(name) or not port_is_free(ports[name]):
            ports[name] = free_port()
    return ports


def _commands(bins: dict, d: Path, ports: dict) -> dict:
    p = d / "pki"
    etcd_client = f"http://127.0.0.1:{ports['etcd_client']}"
    etcd_peer = f"http://127.0.0.1:{ports['etcd_peer']}"
    return {
        "etcd": [
            str(bins["etcd"]),
            "--name=default",
            f"--data-dir={d / 'etcd'}",
            f"--listen-client-urls={etcd_client}",
            f"--advertise-client-urls={etcd_client}",
            f"--listen-peer-urls={etcd_peer}",
            f"--initial-advertise-peer-urls={etcd_peer}",
            f"--initial-cluster=default={etcd_peer}",
            "--unsafe-no-fsync=true",
            "--log-level=warn",
        ],
        "kube-apiserver": [
            str(bins["kube-apiserver"]),
            f"--etcd-servers={etcd_client}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={ports['api']}",
            f"--tls-cert-file={p / 'apiserver.crt'}",
            f"--tls-private-key-file={p / 'apiserver.key'}",
            f"--client-ca-file={p / 'ca.crt'}",
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={p / 'sa.pub'}",
            f"--service-account-signing-key-file={p / 'sa.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--allow-privileged=true",
            # Kubelets lift the not-ready taint this plugin adds on create; there are none here.
            "--disable-admission-plugins=TaintNodesByCondition",
            "--enable-priority-and-fairness=false",
            "--profiling=false",
            f"--cert-dir={d / 'auto-certs'}",
            *_audit_flags(d),
        ],
        "kube-controller-manager": [
            str(bins["kube-controller-manager"]),
            f"--kubeconfig={d / 'admin.kubeconfig'}",
            f"--authentication-kubeconfig={d / 'admin.kubeconfig'}",
            f"--authorization-kubeconfig={d / 'admin.kubeconfig'}",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            f"--secure-port={ports['controller_manager']}",
            f"--service-account-private-key-file={p / 'sa.key'}",
            f"--root-ca-file={p / 'ca.crt'}",
            "--use-service-account-credentials=false",
            "--profiling=false",
            # Without kubelets the node lifecycle controller would mark every node
            # unreachable and taint it, which would corrupt the taint tests.
            "--controllers=*,-node-lifecycle-controller",
        ],
    }


def _audit_flags(d: Path) -> list:
    users = [u.strip() for u in os.environ.get(AUDIT_USERS_ENV, "").split(",") if u.strip()]
    if not users:
        return []
    policy = {
        "apiVersion": "audit.k8s.io/v1",
        "kind": "Policy",
        # One event per request: when it completed (or, for a watch, when it ended).
        "omitStages": ["RequestReceived", "ResponseStarted"],
        "rules": [{"level": "Metadata", "users": users}, {"level": "None"}],
    }
    (d / "audit-policy.json").write_text(json.dumps(policy))
    return [
        f"--audit-policy-file={d / 'audit-policy.json'}",
        f"--audit-log-path={d / 'logs' / 'audit.log'}",
        "--audit-log-format=json",
    ]


def _spawn(name: str, argv: list, log_dir: Path) -> subprocess.Popen:
    log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
    try:
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    finally:
        log.close()


def _wait_until(check, what: str, cluster: Cluster, deadline: float) -> None:
    delay = 0.05
    while True:
        for component, proc in cluster.processes.items():
            if proc.poll() is not None:
                raise TestbedError(
                    f"{component} of cluster {cluster.name} exited with {proc.returncode} while waiting for {what}; "
                    f"log {cluster.dir / 'logs' / (component + '.log')}:\n{cluster.log_tail(component)}"
                )
        if check():
            return
        if time.monotonic() > deadline:
            raise TestbedError(f"cluster {cluster.name}: timed out waiting for {what}; logs in {cluster.dir / 'logs'}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def _etcd_healthy(port: int) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as resp:
            return b'"health":"true"' in resp.read()
    except OSError:
        return False


def _api_ready(api: KubeApi) -> bool:
    try:
        return api.request("GET", "/readyz") == "ok"
    except (KubeApiError, OSError):
        return False


def _controllers_ready(api: KubeApi) -> bool:
    # The root-CA publisher writes this ConfigMap into every namespace once the
    # controller manager runs its controllers.
    try:
        return api.exists("/api/v1/namespaces/kube-system/configmaps/kube-root-ca.crt")
    except (KubeApiError, OSError):
        return False


def start_cluster(name: str, directory, bin_dir, timeout: float = READY_TIMEOUT) -> Cluster:
    """Start (or restart on an existing directory) one cluster and wait until it is ready."""
    bins = find_binaries(bin_dir)
    d = Path(directory).resolve()
    (d / "logs").mkdir(parents=True, exist_ok=True)
    stop_cluster_dir(d)  # a previous run killed half-way must not hold the ports or the etcd lock
    _prepare_pki(d / "pki")
    state_file = d / "cluster.json"
    ports = _ports(state_file)
    cluster = Cluster(name=name, dir=d, api_port=ports["api"])
    admin = kubeconfig.render(
        name, cluster.server, cluster.pki("ca.crt"), "admin", cluster.pki("admin.crt"), cluster.pki("admin.key")
    )
    _write(cluster.kubeconfig, admin.encode(), 0o600)
    state_file.write_text(json.dumps({"name": name, "ports": ports}, indent=2))

    deadline = time.monotonic() + timeout
    commands = _commands(bins, d, ports)
    api = cluster.api()
    try:
        for component in BINARIES:
            cluster.processes[component] = _spawn(component, commands[component], d / "logs")
            _record_pids(cluster)
            if component == "etcd":
                _wait_until(lambda: _etcd_healthy(ports["etcd_client"]), "etcd health", cluster, deadline)
            elif component == "kube-apiserver":
                _wait_until(lambda: _api_ready(api), "kube-apiserver /readyz", cluster, deadline)
        _wait_until(lambda: _controllers_ready(api), "kube-controller-manager", cluster, deadline)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _record_pids(cluster: Cluster) -> None:
    pids = {component: proc.pid for component, proc in cluster.processes.items()}
    (cluster.dir / "pids.json").write_text(json.dumps(pids))


def stop_cluster_dir(directory, timeout: float = STOP_TIMEOUT) -> None:
    """Stop every process recorded for the cluster in `directory`, newest first.

    Works from any process (the sandbox's `down` is not the one that started
    them). A pid is only signalled while its command line still names this
    directory, so a recycled pid is never hit.
    """
    d = Path(directory).resolve()
    pid_file = d / "pids.json"
    if not pid_file.exists():
        return
    pids = [
        pid
        for pid in reversed(list(json.loads(pid_file.read_text()).values()))
        if _pid_alive(pid) and str(d) in _pid_cmdline(pid)
    ]
    # One at a time, dependants first: an API server whose etcd is already gone
    # hangs in its graceful shutdown instead of exiting in about a second.
    for pid in pids:
        _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _pid_alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.02)
        if _pid_alive(pid):
            _signal(pid, signal.SIGKILL)
        _reap(pid)
    pid_file.unlink(missing_ok=True)


def _signal(pid: int, sig) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
