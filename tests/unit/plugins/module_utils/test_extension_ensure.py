"""The present/absent flow of one extension, against a fake extension API and a fake clock."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import AzureApiError
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._common.wait import Waiter, WaitTimeout
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.client import ClusterRef
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.ensure import ExtensionTask
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.plan import ExtensionSpec, apply_patch
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.protected import LEGACY_FINGERPRINT_KEY

AGENT_ERROR = {"code": "ExtensionOperationFailed", "message": "Unable to get response from the Agent in time"}


class FakeModule:
    def __init__(self, clock, check_mode=False, wait=True):
        self.check_mode = check_mode
        self.result = {"changed": False, "actions": []}
        self._waiter = Waiter(60, 5, clock=clock, sleep=clock.sleep) if wait else None

    def waiter(self):
        return self._waiter

    def act(self, action):
        self.result["actions"].append(action)
        self.set_changed()

    def set_changed(self, changed=True):
        self.result["changed"] = self.result["changed"] or changed

    def set_diff(self, before, after):
        self.result["diff"] = {"before": before, "after": after}


class FakeClient:
    """One extension's API: `extension` is what Azure holds; `polls` GETs before a running operation ends."""

    def __init__(self, extension=None, outcome="Succeeded", polls=0):
        self.cluster = ClusterRef("s", "rg", "connectedClusters", "c1")
        self.name = "ext"
        self.extension = extension
        self.outcome = outcome
        self.polls = polls
        self.calls = []

    def describe(self):
        return "extension ext on connectedClusters c1"

    def read(self, check_mode=False):
        self.calls.append("GET")
        if self.extension and self.polls:
            self.polls -= 1
            if not self.polls:
                self.extension["properties"]["provisioningState"] = "Succeeded"
        return self.extension, None

    def get(self):
        return self.read()[0]

    def _finish(self):
        if self.outcome == "Failed":
            self.extension["properties"]["provisioningState"] = "Failed"
            self.extension["properties"]["errorInfo"] = AGENT_ERROR
            raise AzureApiError(
                "PUT", "/ext", None, AGENT_ERROR["code"], AGENT_ERROR["message"], "rid-1", "cid-1", outcome="Failed"
            )
        self.extension["properties"]["provisioningState"] = "Succeeded"
        return self.extension

    def create(self, body, waiter=None):
        self.calls.append(("PUT", body))
        properties = dict(body["properties"])
        properties["configurationProtectedSettings"] = dict.fromkeys(
            properties.get("configurationProtectedSettings") or {}
        )
        self.extension = {"id": "/ext", "name": "ext", "properties": properties}
        return self._finish()

    def update(self, properties, waiter=None):
        self.calls.append(("PATCH", properties))
        self.extension = apply_patch(self.extension, properties)
        return self._finish()

    def delete(self, waiter=None, force=False):
        self.calls.append(("DELETE", force))
        self.extension = None
        return True

    def writes(self):
        return [call for call in self.calls if call != "GET"]


def existing(settings=None, state="Succeeded", namespace="ns", **properties):
    body = {
        "id": "/ext",
        "name": "ext",
        "properties": {
            "extensionType": "microsoft.flux",
            "autoUpgradeMinorVersion": True,
            "scope": {"cluster": {"releaseNamespace": namespace}},
            "configurationSettings": dict(settings or {}),
            "configurationProtectedSettings": {},
            "provisioningState": state,
        },
    }
    body["properties"].update(properties)
    return body


def spec(**kwargs):
    return ExtensionSpec(extension_type="microsoft.flux", **kwargs)


def run(client, fake_clock, action="present", check_mode=False, wait=True, **kwargs):
    module = FakeModule(fake_clock, check_mode=check_mode, wait=wait)
    task = ExtensionTask(module, client)
    getattr(task, action)(**kwargs)
    return module


def test_creates_a_missing_extension(fake_clock):
    client = FakeClient()
    module = run(client, fake_clock, spec=spec(settings={"a": "1"}, protected={"p": "secret"}))
    assert [call[0] for call in client.writes()] == ["PUT"]
    assert module.result["changed"] is True
    assert module.result["extension"]["provisioning_state"] == "Succeeded"
    assert module.result["extension"]["configuration_protected_setting_keys"] == ["p"]
    assert module.result["diff"]["before"] == {}
    assert module.result["actions"] == ["create extension ext"]
    assert "secret" not in str(module.result)


def test_check_mode_writes_nothing_and_predicts(fake_clock):
    client = FakeClient()
    module = run(client, fake_clock, check_mode=True, spec=spec(settings={"a": "1"}))
    assert client.writes() == []
    assert module.result["changed"] is True
    assert module.result["extension"]["configuration_settings"] == {"a": "1"}
    assert module.result["extension"]["provisioning_state"] == "Creating"
    assert module.result["actions"] == ["create extension ext"]


def test_second_run_changes_nothing(fake_clock):
    client = FakeClient()
    desired = spec(settings={"a": "1"}, protected={"p": "secret"})
    run(client, fake_clock, spec=desired)
    client.calls.clear()
    module = run(client, fake_clock, spec=desired)
    assert client.writes() == []
    assert module.result["changed"] is False
    assert module.result["changes"] == []
    assert module.result["actions"] == []


def test_no_configuration_setting_of_the_collection_after_a_create(fake_clock):
    client = FakeClient()
    run(client, fake_clock, spec=spec(settings={"a": "1"}, protected={"p": "secret"}))
    settings = client.extension["properties"]["configurationSettings"]
    assert [key for key in settings if key.startswith("hciArcMl")] == []


def test_an_extension_with_the_old_key_loses_it_on_the_next_run(fake_clock):
    old = existing({"a": "1", LEGACY_FINGERPRINT_KEY: "pbkdf2-sha256$100000$c2FsdA$ZGln"})
    old["properties"]["configurationProtectedSettings"] = {"p": None}
    client = FakeClient(old)
    desired = spec(settings={"a": "1"}, protected={"p": "secret"})
    module = run(client, fake_clock, spec=desired)
    [(method, body)] = client.writes()
    assert method == "PUT"
    assert body["properties"]["configurationSettings"] == {"a": "1"}
    assert body["properties"]["configurationProtectedSettings"] == {"p": "secret"}
    assert module.result["actions"] == [f"update extension ext (configurationSettings.{LEGACY_FINGERPRINT_KEY})"]
    assert LEGACY_FINGERPRINT_KEY not in module.result["diff"]["after"]["configuration_settings"]
    assert module.result["diff"]["before"]["protected_settings_fingerprint"] is True
    assert module.result["extension"]["protected_settings_fingerprint"] is False
    assert "secret" not in str(module.result) and "pbkdf2" not in str(module.result)

    client.calls.clear()
    second = run(client, fake_clock, spec=desired)
    assert client.writes() == []
    assert second.result["actions"] == []


def test_check_mode_reports_the_removal_of_the_old_key_and_writes_nothing(fake_clock):
    client = FakeClient(existing({"a": "1", LEGACY_FINGERPRINT_KEY: "x"}, configurationProtectedSettings={"p": ""}))
    module = run(client, fake_clock, check_mode=True, spec=spec(settings={"a": "1"}, protected={"p": "secret"}))
    assert client.writes() == []
    assert module.result["actions"] == [f"update extension ext (configurationSettings.{LEGACY_FINGERPRINT_KEY})"]
    assert module.result["extension"]["configuration_settings"] == {"a": "1"}
    assert module.result["extension"]["protected_settings_fingerprint"] is False
    assert module.result["extension"]["configuration_protected_setting_keys"] == ["p"]


def test_one_changed_setting_is_one_patch_of_that_key(fake_clock):
    client = FakeClient(existing({"a": "1", "b": "2"}))
    module = run(client, fake_clock, spec=spec(settings={"a": "1", "b": "3"}))
    assert client.writes() == [("PATCH", {"configurationSettings": {"b": "3"}})]
    assert module.result["changes"] == ["configurationSettings.b: '2' -> '3'"]
    assert module.result["actions"] == ["update extension ext (configurationSettings.b)"]
    assert module.result["diff"]["before"]["configuration_settings"]["b"] == "2"
    assert module.result["diff"]["after"]["configuration_settings"]["b"] == "3"


def test_an_immutable_change_fails_with_the_reason_and_writes_nothing(fake_clock):
    client = FakeClient(existing(namespace="old"))
    with pytest.raises(ArcMLError) as raised:
        run(client, fake_clock, spec=spec(release_namespace="new"))
    assert "Cannot change the release namespace of extension ext on connectedClusters c1 from 'old' to 'new'" in str(
        raised.value
    )
    assert "Set recreate: true" in str(raised.value)
    assert client.writes() == []


def test_recreate_deletes_confirms_and_creates(fake_clock):
    client = FakeClient(existing(namespace="old"))
    module = run(client, fake_clock, spec=spec(release_namespace="new"), recreate=True)
    assert [call[0] for call in client.writes()] == ["DELETE", "PUT"]
    assert client.writes()[1][1]["properties"]["scope"] == {"cluster": {"releaseNamespace": "new"}}
    assert module.result["changes"] == ["re-created: release namespace 'old' -> 'new'"]
    assert module.result["actions"] == [
        "delete extension ext (release namespace 'old' -> 'new')",
        "create extension ext",
    ]


def test_recreate_needs_wait(fake_clock):
    client = FakeClient(existing(namespace="old"))
    with pytest.raises(ArcMLError, match="needs wait: true"):
        run(client, fake_clock, wait=False, spec=spec(release_namespace="new"), recreate=True)
    assert client.writes() == []


def test_a_failed_extension_is_reported_with_azure_s_error(fake_clock):
    client = FakeClient(existing({"a": "1"}, state="Failed", errorInfo=AGENT_ERROR))
    with pytest.raises(ArcMLError) as raised:
        run(client, fake_clock, spec=spec(settings={"a": "1"}))
    message = str(raised.value)
    assert "is Failed in Azure: ExtensionOperationFailed: Unable to get response from the Agent in time" in message
    assert "repair_failed: true" in message
    assert raised.value.details["extension"]["provisioning_state"] == "Failed"
    assert client.writes() == []


def test_a_failed_extension_is_repaired_on_request(fake_clock):
    client = FakeClient(existing({"a": "1"}, state="Failed", errorInfo=AGENT_ERROR))
    module = run(client, fake_clock, spec=spec(settings={"a": "1"}), repair_failed=True)
    assert [call[0] for call in client.writes()] == ["DELETE", "PUT"]
    assert module.result["extension"]["provisioning_state"] == "Succeeded"


def test_a_repair_can_force_the_delete_of_an_extension_whose_agents_are_gone(fake_clock):
    client = FakeClient(existing(state="Failed", errorInfo=AGENT_ERROR))
    module = run(client, fake_clock, spec=spec(), repair_failed=True, force_delete=True)
    assert [call[0] for call in client.writes()] == ["DELETE", "PUT"]
    assert client.writes()[0] == ("DELETE", True)
    assert module.result["actions"] == [
        "delete extension ext (it is Failed; forceDelete: Azure resource only)",
        "create extension ext",
    ]


def test_a_failed_extension_with_new_settings_is_patched(fake_clock):
    client = FakeClient(existing({"a": "1"}, state="Failed"))
    run(client, fake_clock, spec=spec(settings={"a": "2"}))
    assert client.writes() == [("PATCH", {"configurationSettings": {"a": "2"}})]


def test_an_operation_that_ends_failed_says_what_state_it_left(fake_clock):
    client = FakeClient(outcome="Failed")
    module = FakeModule(fake_clock)
    with pytest.raises(ArcMLError) as raised:
        ExtensionTask(module, client).present(spec())
    message = str(raised.value)
    assert message.startswith(
        "Azure PUT /ext failed: the operation ended Failed ExtensionOperationFailed: Unable to get response from the "
        "Agent in time. The extension is left in Azure in a failed state: check that the cluster is connected"
    )
    assert message.endswith("(x-ms-request-id: rid-1; correlation id: cid-1)")
    assert "Check the task's options" not in message
    assert raised.value.details["request_id"] == "rid-1"
    assert module.result["changed"] is True
    assert module.result["extension"]["error"] == AGENT_ERROR


def test_a_running_operation_is_waited_for_first(fake_clock):
    client = FakeClient(existing({"a": "1"}, state="Updating"), polls=3)
    module = run(client, fake_clock, spec=spec(settings={"a": "1"}))
    assert client.writes() == []
    assert module.result["changed"] is False
    assert fake_clock.sleeps == [1, 2]


def test_without_wait_a_running_operation_blocks_a_write(fake_clock):
    client = FakeClient(existing({"a": "1"}, state="Updating"))
    with pytest.raises(ArcMLError, match="another operation is still running"):
        run(client, fake_clock, wait=False, spec=spec(settings={"a": "2"}))
    assert client.writes() == []


def test_absent_deletes_and_confirms(fake_clock):
    client = FakeClient(existing())
    module = run(client, fake_clock, action="absent")
    assert client.writes() == [("DELETE", False)]
    assert client.calls[-1] == "GET"
    assert module.result["changed"] is True
    assert module.result["actions"] == ["delete extension ext"]
    assert module.result["extension"] == {}


def test_absent_when_gone_is_no_change(fake_clock):
    client = FakeClient()
    module = run(client, fake_clock, action="absent", force=True)
    assert client.writes() == []
    assert module.result["changed"] is False
    assert module.result["actions"] == []


def test_absent_times_out_if_the_extension_stays(fake_clock):
    class Stubborn(FakeClient):
        def delete(self, waiter=None, force=False):
            self.calls.append(("DELETE", force))
            self.extension["properties"]["provisioningState"] = "Deleting"
            return True

    client = Stubborn(existing())
    with pytest.raises(WaitTimeout, match="to be gone; last observed state: Deleting"):
        run(client, fake_clock, action="absent")


@pytest.mark.parametrize(
    ("current", "wanted", "recreate", "repair_failed", "creates"),
    [
        (None, spec(), False, False, True),
        (existing(), spec(release_namespace="ns"), True, True, False),  # nothing to re-create for
        (existing(), spec(release_namespace="other"), True, False, True),
        (existing(state="Failed"), spec(), False, True, True),
        (existing(state="Failed", settings={"a": "1"}), spec(settings={"a": "2"}), False, False, False),
    ],
)
def test_creates_predicts_whether_present_creates(fake_clock, current, wanted, recreate, repair_failed, creates):
    assert ExtensionTask.creates(current, wanted, recreate, repair_failed) is creates
    client = FakeClient(current)
    run(client, fake_clock, spec=wanted, recreate=recreate, repair_failed=repair_failed)
    assert any(call[0] == "PUT" for call in client.writes()) is creates
