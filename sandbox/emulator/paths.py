"""Where the emulator keeps its files inside its sandbox directory."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EmulatorPaths:
    root: Path

    @property
    def ca_cert(self) -> Path:
        """The CA clients trust (REQUESTS_CA_BUNDLE, helm --ca-file)."""
        return self.root / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.root / "ca-key.pem"

    @property
    def server_cert(self) -> Path:
        return self.root / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.root / "server-key.pem"

    @property
    def token_key(self) -> Path:
        """The key the Entra ID stand-in signs access tokens with."""
        return self.root / "token-signing-key.pem"

    @property
    def token_cert(self) -> Path:
        return self.root / "token-signing.pem"

    @property
    def state(self) -> Path:
        """Everything Azure holds: subscription, principals, resources, operations, settings."""
        return self.root / "azure-state.json"

    @property
    def info(self) -> Path:
        """Written when the emulator is ready (url, port, pid); removed when it stops."""
        return self.root / "emulator.json"


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read, atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def write_json(path: Path, data, private: bool = True) -> None:
    payload = json.dumps(data, indent=1, sort_keys=True).encode()
    if private:
        write_private(path, payload)
    else:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(payload)
        os.replace(tmp, path)
