"""The reliability suite's sandbox, its site.yml runs and the secret scan of everything those runs print.

Every run goes through `RelSandbox.run_site` / `run_tasks` at -vvvv, and every run's whole output (and
the record file of its results) is scanned for every secret the sandbox has issued so far: client
secrets, Relay keys (and the connection strings built from them), the onboarding private keys in the
clusters, the protected settings the emulator stored, and any bearer token.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench" / "callback_plugins"))
from arcml_record import read_records  # noqa: E402

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
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


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
        """A kubeconfig for `user` (cluster-admin through system:masters, audited)."""
        key = (site, user)
        if key not in self._kubeconfigs:
            path = self.work / f"kubeconfig-{site}-{user}.yaml"
            self._kubeconfigs[key] = self.cluster(site).user_kubeconfig(user, ("system:masters",), path)
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

    def site_markers(self, sites=None):
        return {s: (self.sites[s]["resource_group"], s[:16]) for s in (sites or self.sites)}

    def audit_logs(self, user=USER):
        return {s: AuditLog(self.dir / "clusters" / s / "logs" / "audit.log", user) for s in self.sites}

    # Running

    def run_playbook(self, playbook, *args, user=USER, inventory=None, env=None, on_start=None, label="run",
                     timeout=RUN_TIMEOUT, scan=True) -> Run:  # fmt: skip
        """ansible-playbook -vvvv `playbook` on the sandbox's inventory (kubeconfigs for `user`)."""
        inventory = inventory or self.inventory(user)
        record = self.work / f"{label}.records.jsonl"
        record.unlink(missing_ok=True)
        environ = ansible_env(self.env, self.work, record, env)
        arm = ArmLog(self.admin)
        audits = self.audit_logs(user)
        argv = [str(ANSIBLE_PLAYBOOK), "-vvvv", "-i", str(inventory), str(playbook), *args]
        measured = run_measured(argv, environ, self.work, timeout, on_start=on_start)
        (self.work / f"{label}.log").write_text(measured.output)
        run = Run(
            rc=measured.rc,
            output=measured.output,
            records=read_records(record),
            arm=arm.since_mark(),
            kube={s: log.since_mark() for s, log in audits.items()},
            wall=measured.wall,
            timed_out=measured.timed_out,
        )
        if scan:
            run.secrets_checked = assert_no_secrets(self, measured.output + "\n" + _text(record), label)
        return run

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


def issued_secrets(sandbox: RelSandbox) -> dict:
    """Every secret the sandbox has issued so far: {secret: where it comes from}."""
    secrets = {}
    state = sandbox.state()
    for principal in state.get("principals", {}).values():
        if principal.get("secret"):
            secrets[principal["secret"]] = f"client secret of principal {principal.get('name')}"
    for resource_id, record in state.get("resources", {}).items():
        for name, value in (record.get("keys") or {}).items():
            if isinstance(value, str) and value:
                secrets[value] = f"{name} of {resource_id.rsplit('/', 3)[-3]}"
        for name, value in (record.get("protected") or {}).items():
            if isinstance(value, str) and value:
                secrets[value] = f"protected setting {name}"
    from sandbox.cluster_view import arc_install

    for site in sandbox.sites:
        try:
            install = arc_install(sandbox.cluster(site).api())
        except Exception:  # a cluster stopped by a test, or not yet onboarded
            install = None
        key = getattr(install, "private_key_pem", None)
        if key:
            pem = key.decode() if isinstance(key, bytes) else key
            secrets[pem.strip()] = f"onboarding private key of {site}"
            for line in pem.splitlines():
                if len(line) >= 16 and not line.startswith("-----"):
                    secrets[line] = f"a line of the onboarding private key of {site}"
    return secrets


def _forms(secret: str):
    """The ways a secret may appear in output: as is, JSON-escaped, base64, URL-quoted."""
    yield secret
    escaped = json.dumps(secret)[1:-1]
    if escaped != secret:
        yield escaped
    yield base64.b64encode(secret.encode()).decode()
    quoted = quote(secret, safe="")
    if quoted != secret:
        yield quoted


def find_secrets(text: str, secrets: dict) -> list:
    """[(where the secret comes from, a redacted excerpt)] for each secret found in `text`, and any JWT."""
    hits = []
    for secret, origin in secrets.items():
        for form in _forms(secret):
            index = text.find(form)
            if index >= 0:
                hits.append((origin, _excerpt(text, index, len(form))))
                break
    for match in JWT.finditer(text):
        hits.append(("a bearer token (JWT)", _excerpt(text, match.start(), len(match.group(0)))))
    return hits


def _excerpt(text, index, length):
    before = text[max(0, index - 60) : index].replace("\n", " ")
    return f"...{before}<SECRET {length} chars>..."


def assert_no_secrets(sandbox: RelSandbox, text: str, label: str) -> int:
    """Fail if `text` holds any issued secret; return how many secrets were looked for."""
    secrets = issued_secrets(sandbox)
    hits = find_secrets(text, secrets)
    assert not hits, f"{label}: secrets in the output: {hits[:5]}"
    return len(secrets)


# The end state


def resources_of_site(state: dict, site: dict) -> dict:
    """{kind: [resource ids]} of the resources in the site's resource group, plus its compute."""
    group = f"/resourcegroups/{site['resource_group'].lower()}/"
    kinds = {}
    for resource_id, record in state.get("resources", {}).items():
        rid = resource_id.lower()
        if group in rid or rid.endswith(f"/computes/{site['name'][:16].lower()}"):
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
