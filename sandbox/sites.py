"""The sites file: which Azure workspace and which clusters the sandbox stands up.

workspace: {name, resource_group, location}
principals: [{name, rights: none|contributor}]        # optional extra service principals
sites:
  - name, location, resource_group, kind: connected|provisioned (default connected)
    nodes: [{name, os, arch, cpu, memory, labels, taints: [{key, value, effect}]}]
"""

import re
from dataclasses import dataclass, field

import yaml

from .k8s.nodes import NodeSpec

SITE_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
KINDS = ("connected", "provisioned")
RIGHTS = ("none", "contributor")


class SitesError(ValueError):
    pass


@dataclass
class Workspace:
    name: str
    resource_group: str
    location: str


@dataclass
class Principal:
    name: str
    rights: str = "contributor"


@dataclass
class Site:
    name: str
    location: str
    resource_group: str
    nodes: list
    kind: str = "connected"

    @property
    def provisioned(self) -> bool:
        return self.kind == "provisioned"


@dataclass
class Sites:
    workspace: Workspace
    sites: list
    principals: list = field(default_factory=list)

    def site(self, name: str) -> Site:
        for site in self.sites:
            if site.name == name:
                return site
        raise KeyError(name)


def _require(data: dict, keys, where: str) -> None:
    missing = [k for k in keys if not data.get(k)]
    if missing:
        raise SitesError(f"{where}: missing {', '.join(missing)}")


def parse(data: dict) -> Sites:
    if not isinstance(data, dict):
        raise SitesError("the sites file must be a mapping with 'workspace' and 'sites'")
    unknown = set(data) - {"workspace", "sites", "principals"}
    if unknown:
        raise SitesError(f"unknown top-level keys: {sorted(unknown)}")
    ws = data.get("workspace") or {}
    _require(ws, ("name", "resource_group", "location"), "workspace")
    workspace = Workspace(ws["name"], ws["resource_group"], ws["location"])

    principals = []
    for p in data.get("principals") or []:
        _require(p, ("name",), "principal")
        rights = p.get("rights", "contributor")
        if rights not in RIGHTS:
            raise SitesError(f"principal {p['name']}: rights must be one of {RIGHTS}")
        principals.append(Principal(p["name"], rights))

    sites, seen = [], set()
    for raw in data.get("sites") or []:
        _require(raw, ("name", "location", "resource_group"), f"site {raw.get('name', '?')}")
        name = raw["name"]
        if not SITE_NAME.match(name):
            raise SitesError(f"site {name!r}: use lower-case letters, digits and '-' (it names files and clusters)")
        if name in seen:
            raise SitesError(f"site {name!r} is listed twice")
        seen.add(name)
        kind = raw.get("kind", "connected")
        if kind not in KINDS:
            raise SitesError(f"site {name}: kind must be one of {KINDS}")
        try:
            nodes = [NodeSpec.from_dict(n) for n in raw.get("nodes") or []]
        except ValueError as err:
            raise SitesError(f"site {name}: {err}") from None
        if not nodes:
            raise SitesError(f"site {name}: needs at least one node")
        node_names = set()
        for node in nodes:
            if node.name in node_names:
                raise SitesError(f"site {name}: node name {node.name!r} is used twice")
            node_names.add(node.name)
        sites.append(Site(name, raw["location"], raw["resource_group"], nodes, kind))
    if not sites:
        raise SitesError("the sites file lists no sites")
    return Sites(workspace, sites, principals)


def load(path) -> Sites:
    with open(path) as f:
        return parse(yaml.safe_load(f))
