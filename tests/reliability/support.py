"""The reliability suite's sandbox, its ansible-playbook runs and the secret scan of each run.

Every run goes through `RelSandbox.run_playbook` (`run_site`, `run_tasks`) at -vvvv, and every run is
scanned (scan.py) for every secret the sandbox has issued or been given so far, as its secret registry
recorded them at creation (`<sandbox>/azure/secrets.jsonl`: client secrets, Relay keys and connection
strings, protected settings, access tokens, onboarding private keys, the suite's kubeconfig keys) and for any
bearer token: in the run's output, its record file, the files left in its own TMPDIR, and the command lines
(and helm's environment) of its processes while it runs. A hit fails the run's test, naming the place and
the secret's origin, never the secret.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench" / "callback_plugins"))
from arcml_record import read_records  # noqa: E402
from scan import RunScan, find_secrets, known_secrets, register_kubeconfig_key, report  # noqa: E402

from bench.measure import (  # noqa: E402
    ArmCalls,
    ArmLog,
    AuditLog,
    ansible_env,
    arm_writes,
    kube_writes,
    run_measured,
)

ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
SITE_YML = REPO / "playbooks" / "site.yml"
# The identities whose Kubernetes calls the API servers audit (ARCML_SANDBOX_AUDIT_USERS).
USER = "arcml-rel"
RUN_USERS = ("arcml-run-a", "arcml-run-b")
AUDITED = ",".join((USER, *RUN_USERS))
RUN_TIMEOUT = 900.0
WORKSPACE = {"name": "mlw-rel", "resource_group": "rg-rel-ml", "location": "eastus"}


def site(name, windows=False):
    """A sites-file entry: one Linux node, and a Windows node when asked."""
    nodes = [{"name": f"{name}-lin-1", "os": "linux", "cpu": 8, "memory": "32Gi"}]
    if windows:
        nodes.append({"name": f"{name}-win-1", "os": "windows", "cpu": 8, "memory": "32Gi"})
    return {"name": name, "location": "eastus", "resource_group": f"rg-{name}", "nodes": nodes}


@dataclass
class Run:
    """One ansible-playbook run: return code, output, per-task results, its ARM and Kubernetes calls."""

    rc: int
    output: str
    records: list
    arm: list
    kube: dict  # site -> audit events of the run's user
    wall: float
    timed_out: bool = False
    secrets_checked: int = 0
    processes_seen: int = 0  # distinct command lines the secret scan sampled
    scan: RunScan | None = None

    @property
    def results(self):
        return [r for r in self.records if r["event"] == "result"]

    def failed(self):
        return [r for r in self.results if r["failed"] and not r.get("ignored")]

    def arm_writes(self):
        return arm_writes(self.arm)

    def kube_writes(self):
        return [e for events in self.kube.values() for e in kube_writes(events)]

    def changed(self, host=None):
        return [r for r in self.results if r["changed"] and (host is None or r["host"] == host)]


@dataclass
class RelSandbox:
    dir: Path
    env: dict
    sites: dict  # name -> site document (from the sites file)
    work: Path
    _kubeconfigs: dict = field(default_factory=dict)

    @property
    def admin(self):
        from sandbox.emulator.client import AdminClient

        return AdminClient(self.env["ARCML_SANDBOX_URL"], self.env["REQUESTS_CA_BUNDLE"], timeout=60)

    def cluster(self, site):
        from sandbox.k8s.controlplane import Cluster

        cluster_dir = self.dir / "clusters" / site
        state = json.loads((cluster_dir / "cluster.json").read_text())
        return Cluster(site, cluster_dir, state["ports"]["api"])

    def kubeconfig(self, site, user=USER) -> Path:
        """A kubeconfig for `user` (cluster-admin through system:masters, audited); its key is registered."""
        key = (site, user)
        if key not in self._kubeconfigs:
            path = self.work / f"kubeconfig-{site}-{user}.yaml"
            self._kubeconfigs[key] = self.cluster(site).user_kubeconfig(user, ("system:masters",), path)
            client_key = yaml.safe_load(path.read_text())["users"][0]["user"]["client-key-data"]
            register_kubeconfig_key(self.dir, base64.b64decode(client_key), f"client key of kubeconfig {path.name}")
        return self._kubeconfigs[key]

    def inventory(self, user=USER, name=None) -> Path:
        """The sandbox's inventory with every site's kubeconfig for `user`."""
        inventory = yaml.safe_load((self.dir / "inventory.yml").read_text())
        for site, host in inventory["hci_clusters"]["hosts"].items():
            host["arcml_kubeconfig"] = str(self.kubeconfig(site, user))
            host["arcml_kube_context"] = f"{user}@{site}"
        path = self.work / (name or f"inventory-{user}.yml")
        path.write_text(yaml.safe_dump(inventory, sort_keys=False))
        return path

    def state(self) -> dict:
        return json.loads((self.dir / "azure" / "azure-state.json").read_text())

    def compute_name(self, site) -> str:
        """The compute name ml_compute gives `site` by default (unique per cluster resource id)."""
        from ansible_collections.hci.arc_ml.plugins.module_utils._compute.name import default_compute_name

        group = self.sites[site]["resource_group"]
        subscription = self.env["AZURE_SUBSCRIPTION_ID"]
        return default_compute_name(
            f"/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Kubernetes/connectedClusters/{site}"
        )

    def site_markers(self, sites=None):
        return {s: (self.sites[s]["resource_group"], self.compute_name(s)) for s in (sites or self.sites)}

    def audit_logs(self, user=USER):
        return {s: AuditLog(self.dir / "clusters" / s / "logs" / "audit.log", user) for s in self.sites}

    # Running

    def run_playbook(self, playbook, *args, user=USER, inventory=None, env=None, on_start=None, label="run",
                     timeout=RUN_TIMEOUT, scan=True, temp_dir=None) -> Run:  # fmt: skip
        """ansible-playbook -vvvv `playbook` on the sandbox's inventory (kubeconfigs for `user`), secret-scanned.

        `temp_dir`: the run's TMPDIR (ANSIBLE_LOCAL_TEMP and ANSIBLE_REMOTE_TEMP inside it) is this directory,
        which the caller may give several runs (a killed run and the next one); by default, one of the run's own.
        """
        inventory = inventory or self.inventory(user)
        record = self.work / f"{label}.records.jsonl"
        record.unlink(missing_ok=True)
        secret_scan = RunScan.prepare(self.dir, self.work, label)
        if temp_dir is not None:
            # The scan's temp directory becomes a link to the caller's: the run writes there, the scan looks there.
            secret_scan.tmp.rmdir()
            secret_scan.tmp.symlink_to(Path(temp_dir).resolve(), target_is_directory=True)
        # The run's own TMPDIR and the helm/kubectl shims first on its PATH (the caller's PATH, if it gives one).
        path_variable = (env or {}).get("PATH") or self.env.get("PATH") or os.environ["PATH"]
        environ = ansible_env(self.env, self.work, record, {**(env or {}), **secret_scan.environment(path_variable)})
        arm = ArmLog(self.admin)
        audits = self.audit_logs(user)
        argv = [str(ANSIBLE_PLAYBOOK), "-vvvv", "-i", str(inventory), str(playbook), *args]

        def started(proc):
            secret_scan.watch(proc.pid)
            if on_start is not None:
                on_start(proc)

        try:
            measured = run_measured(argv, environ, self.work, timeout, on_start=started)
        finally:
            secret_scan.stop()
        (self.work / f"{label}.log").write_text(measured.output)
        run = Run(
            rc=measured.rc,
            output=measured.output,
            records=read_records(record),
            arm=arm.since_mark(),
            kube={s: log.since_mark() for s, log in audits.items()},
            wall=measured.wall,
            timed_out=measured.timed_out,
            scan=secret_scan,
        )
        if scan:
            self.scan_run(run, secret_scan, argv, _text(record), label)
        return run

    def scan_run(self, run: Run, secret_scan: RunScan, argv, records: str, label: str) -> None:
        """Fail if the run put a secret anywhere it may not be (see scan.py)."""
        killed = run.rc < 0 or run.timed_out  # SIGKILL: its files are left where no one can remove them
        hits = secret_scan.hits(argv, run.output, records, killed, extra_secrets=self.onboarding_keys_in_clusters())
        run.secrets_checked, run.processes_seen = secret_scan.secrets_checked, secret_scan.processes_seen
        assert not hits, report(label, hits)

    def onboarding_keys_in_clusters(self) -> dict:
        """The onboarding private keys in the clusters now, read here besides the registry.

        The key is made by the client (the collection), not by the sandbox: the registry learns it when the
        stand-in agents read it, on their next tick (0.5 s) after the client wrote it. A run that ends within
        that tick, or a cluster whose agents were stopped, would slip past the registry alone.
        """
        from sandbox.cluster_view import ARC_NAMESPACE, PRIVATE_KEY_SECRET

        path = f"/api/v1/namespaces/{ARC_NAMESPACE}/secrets/{PRIVATE_KEY_SECRET}"
        keys = {}
        for site in self.sites:
            try:
                secret = self.cluster(site).api().get(path)
            except Exception:  # noqa: S112 -- a cluster stopped by a test, or no key there: nothing to look for
                continue
            encoded = (secret.get("data") or {}).get("privateKey")
            if encoded:
                pem = base64.b64decode(encoded).decode(errors="replace").strip()
                keys[pem] = f"onboarding private key in the cluster of {site} (read at scan time)"
        return keys

    def run_site(self, *args, **kwargs) -> Run:
        return self.run_playbook(SITE_YML, *args, **kwargs)

    def run_tasks(self, tasks, *args, label="tasks", play_vars=None, **kwargs) -> Run:
        """`tasks` as one play on localhost (connection local)."""
        play = [{"name": label, "hosts": "localhost", "connection": "local", "gather_facts": False,
                 "vars": play_vars or {}, "tasks": tasks}]  # fmt: skip
        path = self.work / f"{label}.yml"
        path.write_text(json.dumps(play))
        inventory = self.work / "localhost.ini"
        inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
        return self.run_playbook(path, *args, inventory=inventory, label=label, **kwargs)

    def calls(self, run: Run, sites=None) -> ArmCalls:
        return ArmCalls.sort(run.arm, self.site_markers(sites))


def _text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


# Secrets


def assert_no_secrets(sandbox: RelSandbox, text: str, label: str) -> int:
    """Fail if `text` (output of a run not made by run_playbook) holds a known secret; return how many were sought."""
    secrets = {**sandbox.onboarding_keys_in_clusters(), **known_secrets(sandbox.dir)}
    hits = find_secrets(text, secrets)
    assert not hits, f"{label}: secrets in the output: {[f'{origin}: {excerpt}' for origin, excerpt in hits[:5]]}"
    return len(secrets)


# The end state


def resources_of_site(state: dict, site: dict) -> dict:
    """{kind: [resource ids]} of the resources in the site's resource group, plus its compute."""
    group = f"/resourcegroups/{site['resource_group'].lower()}/"
    kinds = {}
    for resource_id, record in state.get("resources", {}).items():
        rid = resource_id.lower()
        # The site's compute is the one attached to its cluster (compute names are derived from the cluster's id).
        attached_to = (record["resource"].get("properties") or {}).get("resourceId") or ""
        if group in rid or (record["kind"] == "mlCompute" and group in attached_to.lower()):
            kinds.setdefault(record["kind"], []).append(resource_id)
    return kinds


def assert_site_converged(sandbox: RelSandbox, name: str):
    """One of each resource, all succeeded; the cluster Connected with the key the agents hold."""
    state = sandbox.state()
    site = sandbox.sites[name]
    kinds = resources_of_site(state, site)
    for kind in ("connectedCluster", "extension", "relayNamespace", "relayHybridConnection", "mlCompute"):
        assert len(kinds.get(kind, [])) == 1, f"{name}: {kind}: {kinds.get(kind)}"
    resources = {record["kind"]: record["resource"] for record in state["resources"].values()
                 if record["resource"]["id"].lower() in {i.lower() for ids in kinds.values() for i in ids}}  # fmt: skip
    assert resources["connectedCluster"]["properties"]["connectivityStatus"] == "Connected", name
    assert resources["extension"]["properties"]["provisioningState"] == "Succeeded", name
    assert resources["mlCompute"]["properties"]["provisioningState"] == "Succeeded", name
    from sandbox.cluster_view import arc_install, public_key_certificate

    api = sandbox.cluster(name).api()
    install = arc_install(api)
    assert install is not None and install.release_status == "deployed", name
    assert (
        public_key_certificate(install.private_key_pem)
        == (resources["connectedCluster"]["properties"]["agentPublicKeyCertificate"])
    ), f"{name}: the agents' key is not the resource's"
    releases = api.get("/api/v1/secrets?labelSelector=owner%3Dhelm%2Cstatus%3Ddeployed")["items"]
    names = sorted(s["metadata"]["labels"]["name"] for s in releases)
    assert names.count("azure-arc") == 1 and names.count("azureml") == 1, f"{name}: deployed releases {names}"
    windows = api.get("/api/v1/nodes?labelSelector=kubernetes.io%2Fos%3Dwindows")["items"]
    for node in windows:
        taints = node["spec"].get("taints") or []
        assert any(t["key"] == "node.kubernetes.io/os" for t in taints), f"{name}: {node['metadata']['name']}"
