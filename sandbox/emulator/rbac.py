"""Service principals and their role assignments (Owner, Contributor, Reader)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from .arm import ArmError
from .store import Store

ROLES = ("Owner", "Contributor", "Reader")


@dataclass
class Principal:
    name: str
    client_id: str
    object_id: str
    secret: str

    @classmethod
    def from_record(cls, record: dict) -> Principal:
        return cls(record["name"], record["client_id"], record["object_id"], record["secret"])


def ensure_principal(store: Store, name: str) -> Principal:
    """The principal called `name`, created with a fresh client id and secret the first time."""
    for record in store.values("principals"):
        if record["name"] == name:
            return Principal.from_record(record)
    record = {
        "name": name,
        "client_id": str(uuid.uuid4()),
        "object_id": str(uuid.uuid4()),
        "secret": secrets.token_urlsafe(32),
    }
    store.record_secret(record["secret"], f"client secret of principal {name}")
    store.put("principals", record["client_id"], record)
    return Principal.from_record(record)


def find_by_client_id(store: Store, client_id: str) -> Principal | None:
    record = store.get("principals", client_id)
    return Principal.from_record(record) if record else None


def find_by_object_id(store: Store, object_id: str) -> Principal | None:
    for record in store.values("principals"):
        if record["object_id"].lower() == object_id.lower():
            return Principal.from_record(record)
    return None


def assign(store: Store, principal: Principal, role: str, scope: str) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {ROLES}")
    assignment_id = f"{principal.object_id}|{role}|{scope}"
    store.put("role_assignments", assignment_id, {"principal": principal.object_id, "role": role, "scope": scope})


def _within(scope: str, target: str) -> bool:
    scope, target = scope.rstrip("/").lower(), target.rstrip("/").lower()
    return target == scope or target.startswith(scope + "/")


def _permits(role: str, action: str) -> bool:
    if role in ("Owner", "Contributor"):
        return True
    return role == "Reader" and action.lower().endswith("/read")


def authorize(store: Store, principal: Principal, action: str, scope: str) -> None:
    for assignment in store.values("role_assignments"):
        if (
            assignment["principal"] == principal.object_id
            and _within(assignment["scope"], scope)
            and _permits(assignment["role"], action)
        ):
            return
    raise ArmError(
        403,
        "AuthorizationFailed",
        f"The client '{principal.object_id}' with object id '{principal.object_id}' does not have authorization "
        f"to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently "
        "granted, please refresh your credentials.",
    )
