"""The request log: every attempt that reached the emulator, with secrets redacted.

Tests and benchmarks read it through GET /_sandbox/requests to count calls and
to see every retry. Request bodies are kept (JSON and form bodies) after
redaction; response bodies are not, since some of them carry keys or tokens.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from urllib.parse import parse_qsl

from .clock import iso

REDACTED = "<redacted>"
# Body fields whose values never reach the log (matched case-insensitively, at any depth).
SECRET_FIELDS = {
    "client_secret",
    "client_assertion",
    "password",
    "refresh_token",
    "access_token",
    "configurationprotectedsettings",
    "protectedsettings",
    "onboardingprivatekey",
    "primarykey",
    "secondarykey",
    "primaryconnectionstring",
    "secondaryconnectionstring",
    "relayconnectionstring",
    "servicebusconnectionstring",
}
SECRET_HEADERS = {"authorization", "cookie", "x-ms-authorization-auxiliary", "proxy-authorization"}
MAX_BODY_BYTES = 64 * 1024


def redact(value):
    """A copy of `value` with secret fields replaced; a secret map keeps its keys (useful, not secret)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if str(k).lower() in SECRET_FIELDS:
                out[k] = {kk: REDACTED for kk in v} if isinstance(v, dict) else (None if v is None else REDACTED)
            else:
                out[k] = redact(v)
        return out
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def redact_headers(headers) -> dict:
    out = {}
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            out[name] = f"{scheme} {REDACTED}".strip()
        else:
            out[name] = value
    return out


def describe_body(raw: bytes, content_type: str):
    if not raw:
        return None
    if len(raw) > MAX_BODY_BYTES:
        return f"<{len(raw)} bytes>"
    if "json" in content_type:
        try:
            return redact(json.loads(raw))
        except ValueError:
            return f"<{len(raw)} bytes, not JSON>"
    if "x-www-form-urlencoded" in content_type:
        return redact(dict(parse_qsl(raw.decode("utf-8", "replace"))))
    return f"<{len(raw)} bytes>"


class RequestLog:
    def __init__(self, limit: int = 50_000):
        self._entries: deque = deque(maxlen=limit)
        self._seq = itertools.count(1)

    def record(self, entry: dict) -> dict:
        entry = {"seq": next(self._seq), "time": iso(), **entry}
        self._entries.append(entry)
        return entry

    def since(self, seq: int = 0) -> list:
        return [e for e in self._entries if e["seq"] > seq]

    def clear(self) -> None:
        self._entries.clear()
