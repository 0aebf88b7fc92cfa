"""Protected settings: when the map is sent again, compared by its keys (Azure returns keys, never values).

Issue 16 item 11: the collection used to keep a PBKDF2 fingerprint of the map in the configuration setting
hciArcMlProtectedSettingsFingerprint, which reached the chart and anyone who can read the extension. The tests of
that fingerprint pinned the wrong behaviour and are replaced by these.
"""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._extension import protected
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.protected import (
    LEGACY_FINGERPRINT_KEY,
    decide,
    legacy_keys,
    listed_keys,
)

SECRETS = {"relayServerConnectionString": "Endpoint=sb://ns/;SharedAccessKey=abc", "scoringFe.sslKey": "a2V5"}


def stored(settings=None, keys=None, redacted=None):
    """Extension properties as Azure returns them: settings, and protected keys with redacted values."""
    return {
        "configurationSettings": settings or {},
        "configurationProtectedSettings": dict.fromkeys(keys or (), redacted),
    }


def test_the_module_has_no_private_setting_key_any_more():
    assert not hasattr(protected, "FINGERPRINT_KEY")
    assert not hasattr(protected, "fingerprint")


@pytest.mark.parametrize("redacted", [None, ""])
def test_when_changed_sends_nothing_when_azure_lists_the_same_keys(redacted):
    assert not decide("when_changed", SECRETS, stored(keys=SECRETS, redacted=redacted)).send


def test_when_changed_does_not_see_a_changed_value_under_the_same_keys():
    # Azure never returns the values: a rotated secret under the same key needs `always` (or a reason).
    changed = {**SECRETS, "scoringFe.sslKey": "bmV3"}
    assert not decide("when_changed", changed, stored(keys=SECRETS)).send


def test_when_changed_sends_when_a_key_is_added_or_removed():
    assert decide("when_changed", SECRETS, stored(keys=["relayServerConnectionString"])).send
    decision = decide("when_changed", SECRETS, stored(keys=[*SECRETS, "stale"]))
    assert decision.send
    assert (
        decision.reason == "the protected setting keys differ (Azure lists relayServerConnectionString, "
        "scoringFe.sslKey, stale)"
    )


def test_when_changed_sends_when_azure_lists_no_keys():
    decision = decide("when_changed", SECRETS, stored())
    assert decision.send
    assert decision.reason == "Azure lists no protected setting keys"
    no_field = decide("when_changed", SECRETS, {"configurationSettings": {}})
    assert no_field.send


def test_a_reason_the_task_knows_sends_the_map_even_with_the_same_keys():
    decision = decide("when_changed", SECRETS, stored(keys=SECRETS), reason="the Azure Relay was created")
    assert decision.send
    assert decision.reason == "the Azure Relay was created"
    assert not decide("on_create", SECRETS, stored(keys=SECRETS), reason="the Azure Relay was created").send


def test_an_empty_map_on_an_extension_without_protected_settings_is_no_change():
    assert not decide("when_changed", {}, stored()).send


def test_an_empty_map_clears_existing_protected_settings():
    assert decide("when_changed", {}, stored(keys=["old"])).send


def test_unmanaged_protected_settings_are_never_sent():
    for policy in protected.POLICIES:
        assert not decide(policy, None, stored(keys=["old"])).send


def test_always_and_on_create():
    current = stored(keys=SECRETS)
    assert decide("always", SECRETS, current).send
    assert decide("always", SECRETS, current).reason == "protected_settings_update is 'always'"
    assert not decide("on_create", {"other": "x"}, current).send


def test_unknown_policy_is_a_bug():
    with pytest.raises(ValueError):
        decide("sometimes", SECRETS, stored())


def test_listed_keys_reads_what_azure_returns():
    assert listed_keys(stored(keys=["a", "b"], redacted="")) == {"a", "b"}
    assert listed_keys({"configurationProtectedSettings": None}) == set()
    assert listed_keys({}) == set()


def test_legacy_keys_are_the_settings_an_earlier_version_of_the_collection_wrote():
    assert LEGACY_FINGERPRINT_KEY == "hciArcMlProtectedSettingsFingerprint"
    settings = {"enableTraining": "True", LEGACY_FINGERPRINT_KEY: "pbkdf2-sha256$100000$c2FsdA$ZGln"}
    assert legacy_keys(settings) == [LEGACY_FINGERPRINT_KEY]
    assert legacy_keys({"enableTraining": "True"}) == []
    assert legacy_keys(None) == []
