"""Sites files for the benchmark: N identical sites, each one Linux and one Windows node."""

from __future__ import annotations

from pathlib import Path

import yaml

WORKSPACE = {"name": "mlw-bench", "resource_group": "rg-bench-ml", "location": "eastus"}


def site_name(index: int) -> str:
    # Short enough for the default compute name (16 characters) and not ending in '-<digits>', which
    # Azure ML refuses in a compute name.
    return f"bench-s{index:03d}"


def sites_document(count: int) -> dict:
    sites = []
    for index in range(1, count + 1):
        name = site_name(index)
        sites.append(
            {
                "name": name,
                "location": "eastus",
                "resource_group": f"rg-{name}",
                "nodes": [
                    {"name": f"{name}-lin-1", "os": "linux", "cpu": 8, "memory": "32Gi"},
                    {"name": f"{name}-win-1", "os": "windows", "cpu": 8, "memory": "32Gi"},
                ],
            }
        )
    return {"workspace": dict(WORKSPACE), "sites": sites}


def write_sites(count: int, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = f"# Benchmark fleet of {count} site(s), written by bench/sites.py.\n"
    path.write_text(header + yaml.safe_dump(sites_document(count), sort_keys=False))
    return path
