"""The request log never holds a secret."""

import json

from sandbox.emulator.requestlog import REDACTED, RequestLog, describe_body, redact, redact_headers


def test_protected_settings_keep_their_keys_and_lose_their_values():
    body = {
        "properties": {
            "configurationSettings": {"a": "1"},
            "configurationProtectedSettings": {"relayServerConnectionString": "SECRET"},
            "arcAgentryConfigurations": [{"feature": "proxy", "protectedSettings": {"https_proxy": "SECRET"}}],
        }
    }
    redacted = redact(body)
    assert "SECRET" not in json.dumps(redacted)
    assert redacted["properties"]["configurationSettings"] == {"a": "1"}
    assert redacted["properties"]["configurationProtectedSettings"] == {"relayServerConnectionString": REDACTED}
    assert body["properties"]["configurationProtectedSettings"]["relayServerConnectionString"] == "SECRET"


def test_token_request_forms_lose_the_client_secret():
    described = describe_body(
        b"grant_type=client_credentials&client_id=abc&client_secret=SECRET", "application/x-www-form-urlencoded"
    )
    assert described == {"grant_type": "client_credentials", "client_id": "abc", "client_secret": REDACTED}


def test_authorization_headers_keep_only_their_scheme():
    headers = redact_headers({"Authorization": "Bearer eyJ.SECRET.sig", "User-Agent": "x"})
    assert headers == {"Authorization": f"Bearer {REDACTED}", "User-Agent": "x"}


def test_other_bodies_are_summarised():
    assert describe_body(b"", "application/json") is None
    assert describe_body(b"\x00\x01", "application/octet-stream") == "<2 bytes>"
    assert describe_body(b"{not json", "application/json") == "<9 bytes, not JSON>"


def test_entries_are_numbered_and_can_be_read_from_a_point():
    log = RequestLog(limit=3)
    for path in ("/a", "/b", "/c", "/d"):
        log.record({"path": path})
    assert [e["path"] for e in log.since(0)] == ["/b", "/c", "/d"]
    assert [e["seq"] for e in log.since(3)] == [4]
