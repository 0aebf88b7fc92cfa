"""python -m bench.scale RESULT.json: what a fleet of 100, 1,000 and 5,000 sites costs, from one bench result.

The per-site figures come from the largest fleet in the result (run-level requests such as the provider
registration are not spread over the sites): ARM reads and writes of one site (subscription- and tenant-scoped
reads apart: ARM throttles them in separate buckets), controller CPU seconds per site, controller memory per
concurrent site (peak memory of the whole process tree over the forks) and how long one site takes when nothing
else limits it. The projection for N sites, K execution nodes (AWX job slices) of C vCPUs and M GiB running F
forks each, all with one service principal in one subscription:

- latency: the sites go through in waves of K x F: ceil(N / (K x F)) x the time one site takes;
- controller CPU: N / K sites' CPU seconds on C vCPUs of one node;
- ARM: every token a bucket holds beyond its size refills at its rate, per principal and subscription (reads 250
  then 25/s, writes 200 then 10/s; the tenant-scoped operation-status reads have the same read bucket per
  tenant): (requests - size) / rate seconds, whatever K is, since the slices share the principal;
- memory: F forks must fit the node's memory less 2 GiB (what AWX keeps for itself), and AWX counts a fork as a
  quarter of a CPU (docs/capacity.md in https://github.com/ansible/awx): F is the smaller of the two.
The largest of the three times is the projected wall time, and its name is the limit that is hit first.
ARM's bucket sizes are the ones sandbox/emulator/throttle.py cites from Azure's documentation.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

# ARM's per-principal buckets (size, refill per second): sandbox/emulator/throttle.py LIMITS, Azure's documented sizes.
READ_BUCKET = (250, 25.0)
WRITE_BUCKET = (200, 10.0)
# AWX's capacity rules (docs/capacity.md in https://github.com/ansible/awx): 2 GiB of a node kept for itself,
# and a fork counted as a quarter of a CPU (4 forks per vCPU).
AWX_RESERVED_MIB = 2048
AWX_FORKS_PER_CPU = 4
WRITE_METHODS = ("PUT", "PATCH", "POST", "DELETE")
FLEETS = (100, 1000, 5000)
LIMITS = ("latency", "controller CPU", "ARM reads", "ARM writes")
COLUMNS = ("sites", "nodes", "forks", *LIMITS, "wall", "first limit")


def site_requests(run: dict) -> dict:
    """One site's ARM requests by bucket, from the first site's request paths, scaled to the mean site."""
    paths = run["arm_by_site_paths"]
    counts = {"subscription_reads": 0, "tenant_reads": 0, "writes": 0}
    for entry in paths:
        method, path = entry.split(" ", 2)[:2]
        if method in WRITE_METHODS:
            counts["writes"] += 1
        elif path.lower().startswith("/subscriptions/"):
            counts["subscription_reads"] += 1
        else:
            counts["tenant_reads"] += 1
    scale = run["arm_per_site"]["mean"] / max(1, len(paths))
    return {name: count * scale for name, count in counts.items()}


def per_site(result: dict, kind: str) -> dict:
    """Per-site figures of the fresh converge or the (median) no-op run.

    Requests, CPU and memory from the largest fleet (its median no-op run); the time one site takes from the
    smallest fleet's fastest run, the one the machine's other work disturbed least.
    """
    largest = max(result["sizes"], key=lambda s: s["sites"])
    smallest = min(result["sizes"], key=lambda s: s["sites"])
    run = _run(largest, kind)
    alone = smallest["fresh"] if kind == "fresh" else min(smallest["noop_runs"], key=lambda r: r["wall"])
    sites, forks = largest["sites"], largest.get("forks") or largest["sites"]
    return {
        **site_requests(run),
        "cpu_seconds": run["cpu"] / sites,
        "memory_mib": run["peak_tree_rss"] / 2**20 / min(forks, sites),
        "site_seconds": alone["wall"],
    }


def _run(size: dict, kind: str) -> dict:
    return size["fresh"] if kind == "fresh" else _median_run(size["noop_runs"])


def _median_run(runs: list) -> dict:
    return sorted(runs, key=lambda run: run["wall"])[len(runs) // 2]


def bucket_seconds(requests: float, bucket: tuple) -> float:
    size, rate = bucket
    return max(0.0, (requests - size) / rate)


def project(figures: dict, sites: int, nodes: int, forks: int, cpus: int) -> dict:
    """The times (seconds) each limit sets for `sites` sites, and which one is hit first."""
    waves = math.ceil(sites / (nodes * forks))
    times = {
        "latency": waves * figures["site_seconds"],
        "controller CPU": math.ceil(sites / nodes) * figures["cpu_seconds"] / cpus,
        "ARM reads": max(
            bucket_seconds(sites * figures["subscription_reads"], READ_BUCKET),
            bucket_seconds(sites * figures["tenant_reads"], READ_BUCKET),
        ),
        "ARM writes": bucket_seconds(sites * figures["writes"], WRITE_BUCKET),
    }
    first = max(times, key=times.get)
    return {"times": times, "first": first, "wall": times[first]}


def forks_that_fit(figures: dict, memory_gib: float, cpus: int) -> int:
    """The forks a node holds: by our measured memory per site, capped by AWX's CPU capacity."""
    by_memory = int((memory_gib * 1024 - AWX_RESERVED_MIB) // figures["memory_mib"])
    return max(1, min(by_memory, AWX_FORKS_PER_CPU * cpus))


def report(result: dict, nodes_options=(1, 4, 10), cpus=4, memory_gib=16.0, forks=None) -> str:
    largest = max(result["sizes"], key=lambda s: s["sites"])["sites"]
    smallest = min(result["sizes"], key=lambda s: s["sites"])["sites"]
    operations = result.get("lro_seconds") or "sandbox default"
    lines = [
        f"Per site from {largest} sites (time per site from {smallest}), bench result {result['timestamp']} "
        f"(operations {operations} s); execution nodes of {cpus} vCPUs and {memory_gib:g} GiB, one service "
        "principal, one subscription.",
        "",
    ]
    for kind in ("fresh", "noop"):
        figures = per_site(result, kind)
        fit = forks_that_fit(figures, memory_gib, cpus)
        chosen = min(forks or fit, fit)
        lines.append(
            f"{kind}: per site {figures['subscription_reads']:.1f} subscription reads, {figures['tenant_reads']:.1f} "
            f"tenant reads, {figures['writes']:.1f} writes, {figures['cpu_seconds']:.1f} CPU s, "
            f"{figures['memory_mib']:.0f} MiB per concurrent site, {figures['site_seconds']:.0f} s per site; "
            f"{fit} forks fit a node, {chosen} used"
        )
        lines.append("")
        lines.append("| " + " | ".join(COLUMNS) + " |")
        lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for sites in FLEETS:
            for nodes in nodes_options:
                if nodes > 1 and sites / nodes < chosen:
                    continue
                p = project(figures, sites, nodes, chosen, cpus)
                times = [_duration(p["times"][limit]) for limit in LIMITS]
                row = [f"{sites:,}", str(nodes), str(chosen), *times, _duration(p["wall"]), p["first"]]
                lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "0"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("result", type=Path, help="a bench result (bench/results/*.json)")
    parser.add_argument("--cpus", type=int, default=4, help="vCPUs of an execution node (default 4)")
    parser.add_argument("--memory-gib", type=float, default=16.0, help="memory of an execution node (default 16)")
    parser.add_argument("--forks", type=int, default=None, help="forks per node (default: as many as fit)")
    parser.add_argument("--nodes", default="1,4,10", help="execution nodes (job slices), comma-separated")
    args = parser.parse_args(argv)
    result = json.loads(args.result.read_text())
    nodes = tuple(int(n) for n in args.nodes.split(","))
    print(report(result, nodes, args.cpus, args.memory_gib, args.forks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
