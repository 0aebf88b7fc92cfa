"""Protected settings: the fingerprint and when the map is sent again."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._extension import protected
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.protected import (
    FINGERPRINT_KEY,
    decide,
    fingerprint,
    matches,
)

REAL_ITERATIONS = protected.ITERATIONS
SECRETS = {"relayServerConnectionString": "Endpoint=sb://ns/;SharedAccessKey=abc", "scoringFe.sslKey": "a2V5"}


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch):
    # The real iteration count is slow on purpose; the algorithm is the same with fewer rounds.
    monkeypatch.setattr(protected, "ITERATIONS", 1000)


def stored(settings=None, keys=None):
    """Extension properties as Azure returns them: settings, and protected keys with null values."""
    return {
        "configurationSettings": settings or {},
        "configurationProtectedSettings": dict.fromkeys(keys or ()),
    }


def test_the_real_key_derivation_is_deliberately_slow():
    assert REAL_ITERATIONS >= 100_000


def test_fingerprint_matches_the_same_map_in_any_key_order():
    value = fingerprint(SECRETS, iterations=1000)
    assert matches(value, dict(reversed(list(SECRETS.items()))))


def test_fingerprint_reveals_no_value_and_is_salted():
    first, second = fingerprint(SECRETS, iterations=1000), fingerprint(SECRETS, iterations=1000)
    assert first != second
    for secret in SECRETS.values():
        assert secret not in first
    assert first.startswith("pbkdf2-sha256$1000$")


@pytest.mark.parametrize(
    "other",
    [
        {**SECRETS, "scoringFe.sslKey": "b3RoZXI="},
        {"relayServerConnectionString": SECRETS["relayServerConnectionString"]},
        {**SECRETS, "extra": ""},
        {
            "relayServerConnectionString": SECRETS["scoringFe.sslKey"],
            "scoringFe.sslKey": SECRETS["relayServerConnectionString"],
        },
    ],
)
def test_any_changed_value_or_key_does_not_match(other):
    assert not matches(fingerprint(SECRETS, iterations=1000), other)


@pytest.mark.parametrize("value", [None, "", "sha256$abc", "pbkdf2-sha256$x$y$z", "pbkdf2-sha256$10$c2FsdA$ZGln"])
def test_malformed_or_weak_fingerprints_never_match(value):
    assert not matches(value, SECRETS)


def test_when_changed_sends_nothing_when_the_fingerprint_matches():
    current = stored({FINGERPRINT_KEY: fingerprint(SECRETS)}, SECRETS)
    assert not decide("when_changed", SECRETS, current).send


def test_when_changed_tolerates_a_service_that_hides_the_keys_too():
    current = stored({FINGERPRINT_KEY: fingerprint(SECRETS)}, keys=())
    assert not decide("when_changed", SECRETS, current).send


def test_when_changed_sends_with_a_new_fingerprint_when_a_value_changed():
    current = stored({FINGERPRINT_KEY: fingerprint(SECRETS)}, SECRETS)
    changed = {**SECRETS, "scoringFe.sslKey": "bmV3"}
    decision = decide("when_changed", changed, current)
    assert decision.send
    assert "differ from their stored fingerprint" in decision.reason
    assert matches(decision.fingerprint, changed)


def test_when_changed_sends_when_the_keys_differ_even_if_the_fingerprint_matched():
    current = stored({FINGERPRINT_KEY: fingerprint(SECRETS)}, [*SECRETS, "stale"])
    assert decide("when_changed", SECRETS, current).reason == "the protected setting keys differ"


def test_when_changed_sends_once_to_an_extension_without_fingerprint():
    decision = decide("when_changed", SECRETS, stored(keys=SECRETS))
    assert decision.send
    assert decision.reason == "the extension holds no fingerprint of its protected settings"


def test_an_empty_map_on_an_extension_without_protected_settings_is_no_change():
    assert not decide("when_changed", {}, stored()).send


def test_an_empty_map_clears_existing_protected_settings():
    assert decide("when_changed", {}, stored(keys=["old"])).send


def test_unmanaged_protected_settings_are_never_sent():
    for policy in protected.POLICIES:
        assert not decide(policy, None, stored(keys=["old"])).send


def test_always_and_on_create():
    current = stored({FINGERPRINT_KEY: fingerprint(SECRETS)}, SECRETS)
    assert decide("always", SECRETS, current).send
    assert decide("always", SECRETS, current).fingerprint is None
    assert not decide("on_create", {"other": "x"}, current).send


def test_on_create_fingerprint_only_for_when_changed():
    assert matches(protected.on_create("when_changed", SECRETS), SECRETS)
    assert protected.on_create("always", SECRETS) is None
    assert protected.on_create("on_create", SECRETS) is None
    assert protected.on_create("when_changed", {}) is None
