"""The emulator's state: one JSON document in the sandbox directory.

Tables are plain dicts keyed by a lower-cased ARM id (ARM ids are
case-insensitive), so the state survives a restart and can be read by anyone
debugging a test. Every mutation marks the store dirty; the server saves once
per request. Secrets the emulator mints or receives also go, the moment they
exist, to the secret registry beside the state file (`record_secret`, see
secrets_registry.py).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from .paths import write_json
from .secrets_registry import SecretRegistry

SCHEMA_VERSION = 1
TABLES = (
    "principals",
    "role_assignments",
    "providers",
    "resource_groups",
    "resources",
    "operations",
)

DEFAULT_SETTINGS = {
    # How long every emulated long-running operation takes.
    "lro_seconds": 2.0,
    # Sent as Retry-After on LRO responses; 0 leaves the header out (clients then use their polling interval).
    "retry_after_seconds": 1,
    # How long a provider stays Registering after POST .../register.
    "provider_registration_seconds": 5.0,
    "token_lifetime_seconds": 3599,
    # "emulated": extension operations finish on their own after lro_seconds.
    # "external": they wait for stand-in agents to report through the agent hooks.
    "agent_mode": "emulated",
    # Items per page of a collection GET that pages (resources.page); 0 puts every item on one page.
    "list_page_size": 0,
    # ARM's token buckets (throttle.py) at this fraction of Azure's sizes and refill rates; 0 turns them off.
    "throttle_scale": 1.0,
}


def key(arm_id: str) -> str:
    return arm_id.rstrip("/").lower()


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.dirty = False
        try:
            self.data = json.loads(self.path.read_text())
        except FileNotFoundError:
            self.data = self._empty()
            self.dirty = True
        for table in TABLES:
            self.data.setdefault(table, {})
        merged = dict(DEFAULT_SETTINGS)
        merged.update(self.data.get("settings") or {})
        self.data["settings"] = merged
        self.secrets = SecretRegistry.in_directory(self.path.parent)
        if not self.dirty:
            self._record_stored_secrets()

    @staticmethod
    def _empty() -> dict:
        return {
            "schema": SCHEMA_VERSION,
            "tenant_id": str(uuid.uuid4()),
            "subscription": {"id": str(uuid.uuid4()), "display_name": "hci.arc_ml sandbox"},
            "settings": dict(DEFAULT_SETTINGS),
        }

    @property
    def tenant_id(self) -> str:
        return self.data["tenant_id"]

    @property
    def subscription_id(self) -> str:
        return self.data["subscription"]["id"]

    @property
    def subscription(self) -> dict:
        return self.data["subscription"]

    @property
    def settings(self) -> dict:
        return self.data["settings"]

    def record_secret(self, value, origin: str) -> None:
        """Note a secret in the registry as it comes into existence (the reliability suite scans for it)."""
        self.secrets.record_secret(value, origin)

    def _record_stored_secrets(self) -> None:
        """Secrets a state file already holds, recorded again at load: a state older than its registry is covered."""
        for principal in self.values("principals"):
            self.record_secret(principal.get("secret"), f"client secret of principal {principal.get('name')}")
        for user in (self.data.get("users") or {}).values():
            self.record_secret(user.get("password"), f"password of user {user.get('name')}")
        for arm_id, record in self.items("resources"):
            for name, value in (record.get("keys") or {}).items():
                self.record_secret(value, f"Relay {name} of {arm_id}")
            for name, value in (record.get("protected") or {}).items():
                self.record_secret(value, f"protected setting {name} of {arm_id}")

    def update_settings(self, values: dict) -> None:
        self.data["settings"].update(values)
        self.dirty = True

    def get(self, table: str, arm_id: str):
        return self.data[table].get(key(arm_id))

    def put(self, table: str, arm_id: str, record) -> None:
        self.data[table][key(arm_id)] = record
        self.dirty = True

    def delete(self, table: str, arm_id: str):
        self.dirty = True
        return self.data[table].pop(key(arm_id), None)

    def values(self, table: str) -> list:
        return list(self.data[table].values())

    def items(self, table: str) -> list:
        return list(self.data[table].items())

    def under(self, table: str, prefix: str) -> list:
        """Records whose id is `prefix` or lies below it (children of a resource)."""
        base = key(prefix)
        return [r for k, r in self.data[table].items() if k == base or k.startswith(base + "/")]

    def touch(self) -> None:
        self.dirty = True

    def save(self) -> None:
        if self.dirty:
            write_json(self.path, self.data)
            self.dirty = False
