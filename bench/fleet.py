"""The fleet benchmark: playbooks/site.yml on N sandbox sites, fresh and again (no-op), measured.

For each fleet size: a sandbox of its own (`python -m sandbox up`, with the kube-apiserver audit log on for
the benchmark's user), then
- a fresh converge of site.yml, then `--noop-runs` no-op re-runs, then as many runs of a playbook of
  trivial ansible.builtin.ping tasks (the same number of tasks per host as the no-op run executed, same
  hosts, same forks) for the overhead ratio;
- per run: wall time, time per site, ARM requests per site and per run (from the emulator's request log),
  Kubernetes requests per site (from the audit logs), the controller's CPU time and peak memory, and the 429s of
  ARM's throttling with the waits they asked for (`--throttle-scale` shrinks the buckets so that they run dry);
- for a fresh converge: the emulated operations on the critical path (see `emulated_critical_path`);
- on the first size only: module start-up (bench/startup.py).
Results: a table on stdout and bench/results/<timestamp>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from . import startup
from .measure import (
    COLLECTIONS,
    REPO,
    ArmCalls,
    ArmLog,
    AuditLog,
    ansible_env,
    kube_writes,
    median,
    read_env_file,
    run_measured,
)
from .sites import site_name, write_sites

sys.path.insert(0, str(REPO / "bench" / "callback_plugins"))
from arcml_record import read_records

BENCH_USER = "arcml-bench"
SITE_YML = REPO / "playbooks" / "site.yml"
RESULTS = REPO / "bench" / "results"
WORK = REPO / ".build" / "bench"
PLAYBOOK_TIMEOUT = 1800.0
SANDBOX_TIMEOUT = 900
# Targets from issue 11.
NOOP_ARM_PER_SITE_TARGET = 5
FRESH_OVERHEAD_TARGET = 0.10
GiB = 1024**3


def sandbox_cli(*args, env=None, timeout=SANDBOX_TIMEOUT):
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args], cwd=REPO, env=env, check=True, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


class Fleet:
    """One sandbox of `size` sites, with a kubeconfig per site for the benchmark's user."""

    def __init__(self, size: int, work: Path, lro_seconds=None, forks=None, strategy=None, throttle_scale=None):
        self.size = size
        self.work = work
        self.dir = work / "sandbox"
        self.sites = [site_name(i) for i in range(1, size + 1)]
        self.lro_seconds = lro_seconds
        self.forks = forks or max(5, size)
        self.strategy = strategy
        self.throttle_scale = throttle_scale
        self.env = None
        self.admin = None

    def __enter__(self):
        sites_file = write_sites(self.size, self.work / "sites.yml")
        env = {**os.environ, "ARCML_SANDBOX_AUDIT_USERS": BENCH_USER}
        for attempt in (1, 2):
            # On a machine others are loading too, a start can time out: stop what started and try once more.
            try:
                sandbox_cli("up", "--sites", str(sites_file), "--dir", str(self.dir), "--timeout", "600", env=env)
                break
            except subprocess.CalledProcessError as exc:
                self.__exit__(None, None, None)
                log = self.dir / "sandbox.log"
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:]) if log.exists() else ""
                print(f"sandbox up failed (attempt {attempt}): {exc.stderr.strip()[-800:]}\n{tail}", flush=True)
                if attempt == 2:
                    raise
            except BaseException:
                self.__exit__(None, None, None)
                raise
        self.env = read_env_file(self.dir / "env.sh")
        from sandbox.emulator.client import AdminClient

        self.admin = AdminClient(self.env["ARCML_SANDBOX_URL"], self.env["REQUESTS_CA_BUNDLE"], timeout=60)
        if self.lro_seconds is not None:
            self.admin.settings(lro_seconds=self.lro_seconds)
        if self.throttle_scale is not None:
            self.admin.settings(throttle_scale=self.throttle_scale)
        self.inventory = self._bench_inventory()
        return self

    def __exit__(self, *exc):
        with contextlib.suppress(Exception):
            sandbox_cli("down", "--dir", str(self.dir), timeout=300)

    def _bench_inventory(self) -> Path:
        """The sandbox's inventory with each site's kubeconfig for the benchmark's (audited) user."""
        from sandbox.k8s.controlplane import Cluster

        inventory = yaml.safe_load((self.dir / "inventory.yml").read_text())
        hosts = inventory["hci_clusters"]["hosts"]
        for site in self.sites:
            cluster_dir = self.dir / "clusters" / site
            port = json.loads((cluster_dir / "cluster.json").read_text())["ports"]["api"]
            cluster = Cluster(site, cluster_dir, port)
            path = cluster.user_kubeconfig(BENCH_USER, ("system:masters",), self.work / f"kubeconfig-{site}.yaml")
            hosts[site]["arcml_kubeconfig"] = str(path)
            hosts[site]["arcml_kube_context"] = f"{BENCH_USER}@{site}"
        path = self.work / "inventory.yml"
        path.write_text(yaml.safe_dump(inventory, sort_keys=False))
        return path

    def audit_logs(self):
        return {s: AuditLog(self.dir / "clusters" / s / "logs" / "audit.log", BENCH_USER) for s in self.sites}

    def site_markers(self):
        """How the request log names each site: its resource group and its compute name."""
        return {s: (f"rg-{s}", self.compute_name(s)) for s in self.sites}

    def compute_name(self, site) -> str:
        """The compute name ml_compute gives `site` by default (unique per cluster resource id)."""
        if str(COLLECTIONS) not in sys.path:
            sys.path.insert(0, str(COLLECTIONS))
        from ansible_collections.hci.arc_ml.plugins.module_utils._compute.name import default_compute_name

        subscription = self.env["AZURE_SUBSCRIPTION_ID"]
        return default_compute_name(
            f"/subscriptions/{subscription}/resourceGroups/rg-{site}/providers/Microsoft.Kubernetes/connectedClusters/{site}"
        )

    def state(self) -> dict:
        return json.loads((self.dir / "azure" / "azure-state.json").read_text())


def run_playbook(fleet: Fleet, playbook: Path, label: str, extra_args=(), extra_env=None) -> dict:
    """Run one playbook on the fleet; return its measurements."""
    record = fleet.work / f"{label}.records.jsonl"
    record.unlink(missing_ok=True)
    strategy = {"ANSIBLE_STRATEGY": fleet.strategy} if fleet.strategy else {}
    env = ansible_env(fleet.env, fleet.work, record, {**strategy, **(extra_env or {})})
    arm = ArmLog(fleet.admin)
    audits = fleet.audit_logs()
    argv = [
        str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(fleet.inventory), "--forks",
        str(fleet.forks), str(playbook), *extra_args,
    ]  # fmt: skip
    measured = run_measured(argv, env, fleet.work, PLAYBOOK_TIMEOUT)
    (fleet.work / f"{label}.log").write_text(measured.output)
    records = read_records(record)
    calls = ArmCalls.sort(arm.since_mark(), fleet.site_markers())
    kube = {site: log.since_mark() for site, log in audits.items()}
    results = [r for r in records if r["event"] == "result"]
    stats = next((r for r in records if r["event"] == "stats"), {"hosts": {}})
    hosts = stats["hosts"]
    per_site_kube = [len(kube[s]) for s in fleet.sites]
    return {
        "label": label,
        "rc": measured.rc,
        "timed_out": measured.timed_out,
        "wall": measured.wall,
        "per_site": measured.wall / fleet.size,
        "cpu": measured.cpu,
        "cpu_user": measured.cpu_user,
        "cpu_system": measured.cpu_system,
        "max_process_rss": measured.max_rss,
        "peak_tree_rss": measured.peak_tree_rss,
        "changed": sum(h.get("changed", 0) for h in hosts.values()),
        "failed": sum(h.get("failures", 0) + h.get("unreachable", 0) for h in hosts.values()),
        "tasks_per_host": _tasks_per_host(results, fleet.sites),
        "arm_total": calls.counts.get("arm", 0),
        "arm_per_site": calls.arm_per_site(),
        "arm_per_run": len(calls.per_run),
        "arm_writes": len(calls.writes()),
        "requests_by_category": calls.counts,
        "throttled": calls.throttling(),
        "arm_by_site_paths": _paths_of(calls.by_site.get(fleet.sites[0], [])),
        "arm_per_run_paths": _paths_of(calls.per_run),
        "kube_per_site": {
            "mean": sum(per_site_kube) / len(per_site_kube),
            "max": max(per_site_kube),
            "min": min(per_site_kube),
        },
        "kube_writes_per_site": max(len(kube_writes(kube[s])) for s in fleet.sites),
        "kube_by_verb_first_site": _verbs(kube[fleet.sites[0]]),
        "task_seconds": _task_seconds(results),
        "started": measured.started,
        "_records": results,
    }


def _tasks_per_host(results, sites) -> int:
    counts = {s: 0 for s in sites}
    for r in results:
        if r["host"] in counts:
            counts[r["host"]] += 1
    return round(median(list(counts.values())) or 0)


def _paths_of(entries) -> list:
    return [f"{e['method']} {e['path']} -> {e['status']}" for e in entries]


def _verbs(events) -> dict:
    verbs = {}
    for event in events:
        key = f"{event.get('verb')} {(event.get('objectRef') or {}).get('resource', event.get('requestURI', '?'))}"
        verbs[key] = verbs.get(key, 0) + 1
    return dict(sorted(verbs.items()))


def _task_seconds(results) -> dict:
    """Per task: the longest host's duration (the linear strategy waits for the slowest host)."""
    tasks = {}
    for r in results:
        if r.get("start") is None:
            continue
        name = r["task"]
        tasks[name] = max(tasks.get(name, 0.0), r["end"] - r["start"])
    return {k: round(v, 2) for k, v in tasks.items()}


def emulated_critical_path(state: dict, since: float, registered_providers: bool, sites, computes=None,
                           lock_step=False) -> dict:  # fmt: skip
    """The time the emulated operations themselves take along the critical path of a fresh site.yml.

    The emulator records each long-running operation (start, due, end): a timed one lasts `due - start`
    (lro_seconds); one the stand-in agents finish (the extension install: a real helm install of the stand-in
    Azure ML chart) lasts `end - start`. The critical path is the provider registration (once per run, every
    provider in parallel: provider_registration_seconds) plus, with site.yml's free strategy and forks >= sites,
    the largest sum of one site's operations; with the linear strategy (`lock_step`), where each task lasts as
    long as its slowest site, the sum over tasks of the largest sum of one site's operations in that task.
    `computes` maps each site's compute name to the site. Not counted (so they count as our overhead): the Arc
    agents' helm install that the module runs, the stand-in agents' time to report Connected, and Kubernetes calls.
    """
    task_of = {
        "connectedCluster": "arc_connect",
        "relayNamespace": "azureml_extension",
        "extension": "azureml_extension",
        "mlCompute": "compute_attach",
    }
    per_task = {}
    operations = []
    for op in state.get("operations", {}).values():
        if op["start"] < since or op["kind"] not in task_of or op["status"] != "Succeeded":
            continue
        duration = (op["due"] if op["due"] is not None else op["end"]) - op["start"]
        site = next((s for s in sites if f"/resourcegroups/rg-{s}/" in op["resource_id"].lower() + "/"), None)
        compute = op["resource_id"].rsplit("/computes/", 1)[-1].lower() if "/computes/" in op["resource_id"] else None
        site = site or (computes or {}).get(compute)
        operations.append({"kind": op["kind"], "site": site, "seconds": round(duration, 3)})
        key = (task_of[op["kind"]], site)
        per_task[key] = per_task.get(key, 0.0) + duration
    tasks, per_site = {}, {}
    for (task, site), seconds in per_task.items():
        tasks[task] = max(tasks.get(task, 0.0), seconds)
        per_site[site] = per_site.get(site, 0.0) + seconds
    registration = float(state["settings"]["provider_registration_seconds"]) if registered_providers else 0.0
    path = sum(tasks.values()) if lock_step else max(per_site.values(), default=0.0)
    return {
        "seconds": registration + path,
        "provider_registration": registration,
        "tasks": {k: round(v, 3) for k, v in tasks.items()},
        "operations": len(operations),
    }


def ping_playbook(path: Path, tasks: int) -> Path:
    play = [
        {
            "name": "Trivial tasks, as many per host as the no-op site.yml runs",
            "hosts": "hci_clusters",
            "connection": "local",
            "gather_facts": False,
            "tasks": [{"name": f"Ping {i}", "ansible.builtin.ping": {}} for i in range(1, tasks + 1)],
        }
    ]
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    return path


def bench_size(size: int, work: Path, args) -> dict:
    print(f"== {size} site(s): starting the sandbox", flush=True)
    with Fleet(size, work, args.lro_seconds, forks=args.forks, strategy=args.strategy,
               throttle_scale=args.throttle_scale) as fleet:  # fmt: skip
        settings = fleet.admin.settings()
        if args.slow_site:
            # The last site answers every Azure request `slow_site` seconds late, as a site behind a slow link or
            # a busy regional endpoint would: does it hold the other sites back?
            slow = fleet.sites[-1]
            fleet.admin.add_faults({"path": f"/resourceGroups/rg-{slow}/", "latency": args.slow_site})
        print(f"== {size} site(s): fresh converge", flush=True)
        fresh = run_playbook(fleet, SITE_YML, "fresh")
        registered = any("/register" in p for p in fresh["arm_per_run_paths"])
        computes = {fleet.compute_name(site).lower(): site for site in fleet.sites}
        fresh["emulated"] = emulated_critical_path(
            fleet.state(), fresh["started"], registered, fleet.sites, computes, lock_step=fleet.strategy == "linear"
        )
        fresh["overhead"] = fresh["wall"] / fresh["emulated"]["seconds"] - 1 if fresh["emulated"]["seconds"] else None
        fresh["host_finish"] = host_finish(fresh, fleet.sites)
        noops = []
        for i in range(args.noop_runs):
            print(f"== {size} site(s): no-op run {i + 1}/{args.noop_runs}", flush=True)
            noops.append(run_playbook(fleet, SITE_YML, f"noop-{i + 1}"))
        tasks = noops[0]["tasks_per_host"]
        ping = ping_playbook(work / "ping.yml", tasks)
        pings = []
        for i in range(args.noop_runs):
            print(f"== {size} site(s): {tasks} ping tasks per host, run {i + 1}/{args.noop_runs}", flush=True)
            pings.append(run_playbook(fleet, ping, f"ping-{i + 1}"))
        code_path = None
        if args.startup and size == args.sizes[0]:
            code_path = measure_code_path(fleet, args.startup_runs)
    noop = _median_run(noops)
    ping_wall = median([p["wall"] for p in pings])
    for run in [fresh, *noops, *pings]:
        run.pop("_records", None)
    return {
        "sites": size,
        "settings": settings,
        "forks": fleet.forks,
        "strategy": fleet.strategy or "linear",
        "slow_site": {"site": fleet.sites[-1], "latency": args.slow_site} if args.slow_site else None,
        "throttle_scale": settings.get("throttle_scale"),
        "fresh": fresh,
        "noop": noop,
        "noop_runs": noops,
        "ping_runs": pings,
        "ping_wall": ping_wall,
        "overhead_ratio": noop["wall"] / ping_wall if ping_wall else None,
        "fresh_minus_noop": fresh["wall"] - noop["wall"],
        "code_path_imports": code_path,
        "checks": {
            "fresh_converged": fresh["rc"] == 0 and fresh["failed"] == 0,
            "noop_changed_nothing": all(n["changed"] == 0 and n["rc"] == 0 for n in noops),
            "noop_kube_writes": max(n["kube_writes_per_site"] for n in noops),
            "noop_arm_writes": max(n["arm_writes"] for n in noops),
        },
    }


def host_finish(run: dict, sites) -> dict:
    """Seconds from the run's start to each site's last result in a role: when the site's own work was done.

    Results outside the roles (the provider registration before, the failure summary after) are the same for
    every site and come after the slowest one by design.
    """
    ends = {}
    for record in run.get("_records") or []:
        if record.get("event") == "result" and record.get("host") in sites and record.get("role"):
            ends[record["host"]] = max(ends.get(record["host"], 0.0), record["end"])
    return {site: round(ends[site] - run["started"], 1) for site in sites if site in ends}


def _median_run(runs) -> dict:
    ordered = sorted(runs, key=lambda r: r["wall"])
    return ordered[len(ordered) // 2]


def measure_code_path(fleet: Fleet, runs: int) -> dict:
    """No-op runs whose module processes run under -X importtime; the import profile per module."""
    log_dir = fleet.work / "importtime"
    shutil.rmtree(log_dir, ignore_errors=True)
    wrapper = startup.write_wrapper(log_dir)
    for i in range(runs):
        print(f"== module start-up: no-op run {i + 1}/{runs} under -X importtime", flush=True)
        # Without pipelining each module is a file the wrapper can name its log after (with it, stdin).
        run_playbook(fleet, SITE_YML, f"importtime-{i + 1}", ("-e", f"ansible_python_interpreter={wrapper}"),
                     extra_env={"ANSIBLE_PIPELINING": "False"})  # fmt: skip
    return startup.code_path_imports(log_dir)


# Report


def _mib(value) -> str:
    return f"{value / 1024**2:.0f}"


def beyond_ping(size: dict) -> float:
    """Seconds of a fresh converge that are neither the emulated operations nor Ansible's own cost of as many tasks
    (the ping run): what the modules themselves add."""
    return size["fresh"]["wall"] - size["fresh"]["emulated"]["seconds"] - size["ping_wall"]


def table(results: dict) -> str:
    rows = [
        ("sites", "run", "wall s", "s/site", "ARM/site", "ARM/run", "login+meta", "k8s/site", "k8s wr/site",
         "CPU s", "peak MiB", "max proc MiB", "changed"),
    ]  # fmt: skip
    for size in results["sizes"]:
        for label in ("fresh", "noop"):
            r = size[label]
            cats = r["requests_by_category"]
            rows.append((
                str(size["sites"]), label, f"{r['wall']:.1f}", f"{r['per_site']:.2f}",
                f"{r['arm_per_site']['mean']:.1f} (max {r['arm_per_site']['max']})", str(r["arm_per_run"]),
                str(cats.get("login", 0) + cats.get("metadata", 0)),
                f"{r['kube_per_site']['mean']:.1f}", str(r["kube_writes_per_site"]), f"{r['cpu']:.1f}",
                _mib(r["peak_tree_rss"]), _mib(r["max_process_rss"]), str(r["changed"]),
            ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    rows2 = [("sites", "emulated s", "fresh s", "over emulated", "beyond ping s", "fresh-noop s", "noop s", "ping s",
              "noop/ping")]  # fmt: skip
    for size in results["sizes"]:
        fresh = size["fresh"]
        rows2.append((
            str(size["sites"]), f"{fresh['emulated']['seconds']:.1f}", f"{fresh['wall']:.1f}",
            f"{fresh['overhead'] * 100:.0f}%" if fresh["overhead"] is not None else "-",
            f"{beyond_ping(size):.1f}", f"{size['fresh_minus_noop']:.1f}", f"{size['noop']['wall']:.1f}",
            f"{size['ping_wall']:.1f}", f"{size['overhead_ratio']:.2f}",
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows2) for i in range(len(rows2[0]))]
    lines += ["  ".join(cell.rjust(widths[i]) for i, cell in enumerate(row)) for row in rows2]
    lines.insert(len(lines) - len(rows2) + 1, "  ".join("-" * w for w in widths))
    lines.append("")
    for size in results["sizes"]:
        finish = size["fresh"].get("host_finish") or {}
        if not finish:
            continue
        slow = (size.get("slow_site") or {}).get("site")
        others = sorted(t for site, t in finish.items() if site != slow)
        if not others:
            continue
        line = (f"{size['sites']} site(s), strategy {size.get('strategy', 'linear')}, forks {size.get('forks')}: "
                f"sites done after {others[len(others) // 2]:.1f} s (median), last {max(others):.1f} s")  # fmt: skip
        if slow in finish:
            line += f"; the slowed site {slow} after {finish[slow]:.1f} s"
        lines.append(line)
    lines += throttling_lines(results)
    if results.get("module_file_imports") or results.get("code_path_imports"):
        lines += ["", "module start-up (ms): file import | no-op code path total | by package"]
        files = results.get("module_file_imports") or {}
        paths = results.get("code_path_imports") or {}
        for name in sorted(set(files) | set(paths)):
            f = files.get(name, {})
            p = paths.get(name)
            file_ms = f"{f['seconds'] * 1000:.0f}" if f else "-"
            extra = f" third-party on import: {','.join(f['third_party'])}" if f.get("third_party") else ""
            if p:
                packages = ", ".join(f"{k} {v * 1000:.0f}" for k, v in p["by_package"].items())
                lines.append(f"  {name:<24} {file_ms:>5} | {p['total'] * 1000:6.0f} | {packages}{extra}")
            else:
                lines.append(f"  {name:<24} {file_ms:>5} |      - | (not on site.yml's no-op path){extra}")
    return "\n".join(lines)


def throttling_lines(results: dict) -> list:
    """Per size and run: the 429s of ARM's token buckets and the waits they asked for (nothing when none)."""
    lines = []
    for size in results["sizes"]:
        for label in ("fresh", "noop"):
            throttled = size[label].get("throttled") or {}
            if not throttled.get("responses"):
                continue
            lines.append(
                f"{size['sites']} site(s), {label}, throttle scale {size.get('throttle_scale')}: "
                f"{throttled['responses']} 429s {throttled['by_operation']}, Retry-After {throttled['wait_seconds']} s "
                f"in all, {throttled['slowest_site_wait_seconds']} s on the slowest site"
            )
    return lines


def verdicts(results: dict) -> list:
    """Each target and whether each size meets it."""
    out = []
    for size in results["sizes"]:
        n = size["sites"]
        noop = size["noop"]
        arm = noop["arm_per_site"]["max"]
        out.append(
            f"{n} site(s): no-op ARM requests/site {arm} (+{noop['arm_per_run']} per run): "
            f"{'MET' if arm <= NOOP_ARM_PER_SITE_TARGET else 'MISSED'} (target <= {NOOP_ARM_PER_SITE_TARGET})"
        )
        overhead = size["fresh"]["overhead"]
        if overhead is not None:
            out.append(
                f"{n} site(s): fresh converge {size['fresh']['wall']:.1f}s vs emulated operations "
                f"{size['fresh']['emulated']['seconds']:.1f}s = +{overhead * 100:.0f}%: "
                f"{'MET' if overhead <= FRESH_OVERHEAD_TARGET else 'MISSED'} (target <= +10%); of the "
                f"{size['fresh']['wall'] - size['fresh']['emulated']['seconds']:.1f}s over, {size['ping_wall']:.1f}s "
                f"is Ansible's own cost of as many tasks (ping run), {beyond_ping(size):.1f}s the modules'"
            )
        out.append(f"{n} site(s): overhead ratio no-op/ping {size['overhead_ratio']:.2f} (reported)")
        checks = size["checks"]
        out.append(
            f"{n} site(s): fresh converged {checks['fresh_converged']}, no-op changed nothing "
            f"{checks['noop_changed_nothing']}, no-op writes ARM {checks['noop_arm_writes']} / Kubernetes "
            f"{checks['noop_kube_writes']}"
        )
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,5,10", help="fleet sizes, comma-separated (default 1,5,10)")
    parser.add_argument("--noop-runs", type=int, default=3, help="no-op and ping runs per size (median)")
    parser.add_argument("--lro-seconds", type=float, default=None, help="emulated LRO duration (sandbox default)")
    parser.add_argument("--no-startup", dest="startup", action="store_false", help="skip module start-up")
    parser.add_argument("--startup-runs", type=int, default=2, help="no-op runs under -X importtime")
    parser.add_argument("--keep", action="store_true", help="keep the work directories under .build/bench")
    parser.add_argument("--forks", type=int, default=None, help="ansible-playbook --forks (default max(5, sites))")
    parser.add_argument(
        "--strategy",
        choices=["linear", "free", "host_pinned"],
        default=None,
        help="ANSIBLE_STRATEGY for every run (default: what the playbooks and ansible.cfg say)",
    )
    parser.add_argument("--slow-site", type=float, default=0.0, metavar="SECONDS",
                        help="delay every Azure request of the last site by SECONDS")  # fmt: skip
    parser.add_argument("--throttle-scale", type=float, default=None, metavar="FRACTION",
                        help="ARM's token buckets at FRACTION of Azure's sizes and refill rates (0 < F <= 1; "
                        "sandbox default 1); the 429s and their waits are in each run's 'throttled'")  # fmt: skip
    parser.add_argument("--report", nargs="+", type=Path, metavar="JSON", help="print the tables of result files")
    args = parser.parse_args(argv)
    if args.report:
        merged = {"sizes": []}
        for path in args.report:
            results = json.loads(path.read_text())
            merged["sizes"].extend(results["sizes"])
            for key in ("module_file_imports", "code_path_imports"):
                merged[key] = results.get(key) or merged.get(key)
        merged["sizes"].sort(key=lambda size: size["sites"])
        print(table(merged))
        print()
        print("\n".join(verdicts(merged)))
        return 0
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if any(n < 1 or n > 50 for n in args.sizes) or not 1 <= args.noop_runs <= 10:
        parser.error("sizes must be 1..50 and --noop-runs 1..10")
    if args.throttle_scale is not None and not 0 < args.throttle_scale <= 1:
        parser.error("--throttle-scale must be more than 0 and at most 1")
    subprocess.run(["make", "--no-print-directory", "collection"], cwd=REPO, check=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    results = {
        "timestamp": stamp,
        "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg()},
        "lro_seconds": args.lro_seconds,
        "forks": args.forks,
        "strategy": args.strategy,
        "slow_site": args.slow_site,
        "throttle_scale": args.throttle_scale,
        "sizes": [],
    }
    if args.startup:
        print("== module start-up: importing each module file", flush=True)
        results["module_file_imports"] = startup.module_file_imports()
    started = time.monotonic()
    try:
        for size in args.sizes:
            work = WORK / stamp / f"n{size}"
            work.mkdir(parents=True, exist_ok=True)
            try:
                results["sizes"].append(bench_size(size, work, args))
            finally:
                if not args.keep:
                    shutil.rmtree(work, ignore_errors=True)
            if results["sizes"][-1].get("code_path_imports"):
                results["code_path_imports"] = results["sizes"][-1].pop("code_path_imports")
    finally:
        results["seconds"] = time.monotonic() - started
        results["machine"]["load_after"] = os.getloadavg()
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"{stamp}.json"
        out.write_text(json.dumps(results, indent=2, default=str))
        if not args.keep:
            shutil.rmtree(WORK / stamp, ignore_errors=True)
    print()
    print(table(results))
    print()
    print("\n".join(verdicts(results)))
    print(f"\nresults: {out.relative_to(REPO)}")
    return 0
