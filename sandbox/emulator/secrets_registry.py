"""The secret registry: every secret the sandbox mints or receives, recorded the moment it exists.

One JSON object per line, `{"secret", "origin", "time", "pid"}`, appended to `secrets.jsonl` in the
emulator's directory (`<sandbox>/azure/secrets.jsonl`, mode 0600, never rewritten). Several processes write
it: the emulator (client secrets, Relay keys and connection strings, protected settings, access tokens) and
the stand-in agents (the onboarding private keys they are given); each line goes in with one O_APPEND
write, so lines of concurrent writers never interleave. The reliability suite's secret scan reads the file
directly (`read_secrets`), without HTTP, and looks for every value in everything a run leaves behind.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

FILE_NAME = "secrets.jsonl"


class SecretRegistry:
    """Appends secrets to one registry file; a value already in the file is not written again."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._recorded = set(read_secrets(self.path))

    @classmethod
    def in_directory(cls, emulator_dir: Path) -> SecretRegistry:
        return cls(Path(emulator_dir) / FILE_NAME)

    def record_secret(self, value, origin: str) -> None:
        """Note `value` as a secret that came from `origin` (where it was minted or received)."""
        if not isinstance(value, str) or not value or value in self._recorded:
            return
        line = json.dumps({"secret": value, "origin": origin, "time": time.time(), "pid": os.getpid()}) + "\n"
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.fchmod(descriptor, 0o600)
            os.write(descriptor, line.encode())
        finally:
            os.close(descriptor)
        self._recorded.add(value)


def read_secrets(path: Path) -> dict:
    """{secret: origin} of every line of a registry file (the first origin of a value); {} when there is none."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return {}
    secrets = {}
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:  # a writer killed in the middle of its line
            continue
        secrets.setdefault(entry["secret"], entry["origin"])
    return secrets
