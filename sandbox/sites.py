"""The sites file: which Azure workspace and which clusters the sandbox stands up.

workspace: {name, resource_group, location}
principals: [{name, rights: none|contributor}]        # optional extra service principals
users: [{name: UPN, rights: none|contributor, mfa: false}]   # optional Entra user accounts (password sign-in)
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
USER_NAME = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


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
class User:
    """An Entra user (a work account) that signs in with a password; `mfa` users are refused as MFA-bound."""

    name: str
    rights: str = "contributor"
    mfa: bool = False


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
    users: list = field(default_factory=list)

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
    unknown = set(data) - {"workspace", "sites", "principals", "users"}
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

    users = _users(data.get("users") or [])

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
    return Sites(workspace, sites, principals, users)


def _users(raw_users) -> list:
    users, seen = [], set()
    for raw in raw_users:
        if not isinstance(raw, dict):
            raise SitesError("users: each user is a mapping with a name")
        _require(raw, ("name",), "user")
        name = str(raw["name"])
        unknown = set(raw) - {"name", "rights", "mfa"}
        if unknown:
            raise SitesError(f"user {name}: unknown keys {sorted(unknown)}")
        if not USER_NAME.match(name):
            raise SitesError(f"user {name!r}: use a user principal name such as ops@contoso.onmicrosoft.com")
        if name.lower() in seen:
            raise SitesError(f"user {name!r} is listed twice")
        seen.add(name.lower())
        rights = raw.get("rights", "contributor")
        if rights not in RIGHTS:
            raise SitesError(f"user {name}: rights must be one of {RIGHTS}")
        mfa = raw.get("mfa", False)
        if not isinstance(mfa, bool):
            raise SitesError(f"user {name}: mfa must be true or false")
        users.append(User(name, rights, mfa))
    return users


def load(path) -> Sites:
    with open(path) as f:
        return parse(yaml.safe_load(f))
