"""hci.arc_ml.resource_provider against a scripted Azure (metadata, Entra ID, the providers API).

The whole stack runs: argument spec, cloud metadata, azure-identity, the ARM pipeline and the waits;
only the network and the clock are fake.
"""

import json

import pytest
from ansible_collections.hci.arc_ml.plugins.modules import resource_provider
from ansible_collections.hci.arc_ml.tests.unit.plugins.conftest import FAKE_AUTH, FAKE_SUBSCRIPTION, run_module

ARM = "https://127.0.0.1:8443"
LOGIN = ARM + "/login"
SUBSCRIPTION = FAKE_SUBSCRIPTION
SECRET = "sandbox-client-secret"
AUTH = dict(FAKE_AUTH, secret=SECRET)


class FakeProviders:
    """The ARM providers API: `polls_until_done` GETs after a register/unregister, the state settles."""

    def __init__(self, states, polls_until_done=2, retry_after=None):
        self.states = {name.lower(): {"namespace": name, "registrationState": s} for name, s in states.items()}
        self.polls_until_done = polls_until_done
        self.retry_after = retry_after
        self.pending = {}
        self.log = []

    def __call__(self, request, reply):
        path = request.url.split("?")[0][len(ARM) :]
        self.log.append(f"{request.method} {path}")
        parts = path.split("/")  # ['', 'subscriptions', sub, 'providers', ns, (action)]
        provider = self.states.get(parts[4].lower())
        if provider is None:
            message = f"The resource namespace '{parts[4]}' is invalid."
            return reply(404, {"error": {"code": "InvalidResourceNamespace", "message": message}})
        key = parts[4].lower()
        if request.method == "POST":
            settled = "Registered" if parts[5] == "register" else "NotRegistered"
            provider["registrationState"] = "Registering" if parts[5] == "register" else "Unregistering"
            self.pending[key] = [self.polls_until_done, settled]
        elif key in self.pending:
            self.pending[key][0] -= 1
            if self.pending[key][0] <= 0:
                provider["registrationState"] = self.pending.pop(key)[1]
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        return reply(200, dict(provider), headers)

    def writes(self):
        return [line for line in self.log if line.startswith("POST")]


def run(capsys, **args):
    return run_module(capsys, resource_provider, dict(AUTH, **args))


NAMESPACES = ["Microsoft.Kubernetes", "Microsoft.KubernetesConfiguration"]


def test_registers_and_waits_until_registered(fake_azure, capsys, fake_clock):
    providers = fake_azure(
        FakeProviders({"Microsoft.Kubernetes": "NotRegistered", "Microsoft.KubernetesConfiguration": "Registered"})
    )
    result = run(capsys, namespaces=NAMESPACES, wait_sleep=3)
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["providers"] == [
        {"namespace": "Microsoft.Kubernetes", "registration_state": "Registered", "changed": True},
        {"namespace": "Microsoft.KubernetesConfiguration", "registration_state": "Registered", "changed": False},
    ]
    assert providers.writes() == [f"POST /subscriptions/{SUBSCRIPTION}/providers/Microsoft.Kubernetes/register"]
    assert result["actions"] == ["register resource provider Microsoft.Kubernetes"]
    # No Retry-After on a provider: the pause grows from 1 s up to wait_sleep.
    assert fake_clock.sleeps == [1, 2]


def test_registrations_started_together_are_waited_for_together(fake_azure, capsys, fake_clock):
    # Both registrations start before the first wait; the second is polled at once after the first settles
    # instead of after another wait_sleep (two providers cost one wait cycle, not two).
    providers = fake_azure(FakeProviders(dict.fromkeys(NAMESPACES, "NotRegistered"), polls_until_done=1))
    result = run(capsys, namespaces=NAMESPACES, wait_sleep=3)
    assert not result.get("failed"), result
    assert [p["registration_state"] for p in result["providers"]] == ["Registered", "Registered"]
    assert len(providers.writes()) == 2
    assert fake_clock.sleeps == [1]


def test_second_run_changes_nothing_and_sends_no_write(fake_azure, capsys):
    providers = fake_azure(FakeProviders(dict.fromkeys(NAMESPACES, "Registered")))
    result = run(capsys, namespaces=NAMESPACES)
    assert not result.get("failed")
    assert result["changed"] is False
    assert result["actions"] == []
    assert providers.writes() == []
    assert len(providers.log) == 2


def test_check_mode_predicts_without_writing(fake_azure, capsys):
    providers = fake_azure(FakeProviders(dict.fromkeys(NAMESPACES, "NotRegistered")))
    result = run(capsys, namespaces=NAMESPACES, _ansible_check_mode=True, _ansible_diff=True)
    assert result["changed"] is True
    assert providers.writes() == []
    assert [p["registration_state"] for p in result["providers"]] == ["Registered", "Registered"]
    assert result["actions"] == [f"register resource provider {namespace}" for namespace in NAMESPACES]
    assert result["diff"] == {
        "before": dict.fromkeys(NAMESPACES, "NotRegistered"),
        "after": dict.fromkeys(NAMESPACES, "Registered"),
    }


def test_polling_honours_retry_after(fake_azure, capsys, fake_clock):
    # Retry-After: 7 is longer than the growing pause (1, 2, 3 s): never polled sooner than Azure asks.
    fake_azure(FakeProviders({"Microsoft.Relay": "NotRegistered"}, polls_until_done=3, retry_after=7))
    result = run(capsys, namespaces=["Microsoft.Relay"], wait_sleep=30)
    assert result["providers"][0]["registration_state"] == "Registered"
    assert fake_clock.sleeps == [7.0, 7.0, 7.0]


def test_registration_started_elsewhere_is_waited_for_but_not_repeated(fake_azure, capsys):
    providers = fake_azure(FakeProviders({"Microsoft.Relay": "Registering"}))
    providers.pending["microsoft.relay"] = [1, "Registered"]
    result = run(capsys, namespaces=["Microsoft.Relay"])
    assert result["changed"] is False
    assert result["providers"][0]["registration_state"] == "Registered"
    assert providers.writes() == []


def test_without_wait_returns_the_state_azure_answered(fake_azure, capsys, fake_clock):
    providers = fake_azure(FakeProviders({"Microsoft.Relay": "NotRegistered"}))
    result = run(capsys, namespaces=["microsoft.relay"], wait=False)
    assert result["providers"] == [
        {"namespace": "Microsoft.Relay", "registration_state": "Registering", "changed": True}
    ]
    assert len(providers.log) == 2
    assert fake_clock.sleeps == []


def test_unregisters(fake_azure, capsys):
    providers = fake_azure(FakeProviders({"Microsoft.Relay": "Registered", "Microsoft.Kubernetes": "NotRegistered"}))
    result = run(capsys, namespaces=["Microsoft.Relay", "Microsoft.Kubernetes"], state="unregistered")
    assert result["changed"] is True
    assert [p["registration_state"] for p in result["providers"]] == ["NotRegistered", "NotRegistered"]
    assert providers.writes() == [f"POST /subscriptions/{SUBSCRIPTION}/providers/Microsoft.Relay/unregister"]
    assert result["actions"] == ["unregister resource provider Microsoft.Relay"]


def test_timeout_fails_with_the_last_state_and_still_reports_the_change(fake_azure, capsys):
    fake_azure(FakeProviders({"Microsoft.Relay": "NotRegistered"}, polls_until_done=1000))
    result = run(capsys, namespaces=["Microsoft.Relay"], wait_timeout=20, wait_sleep=5)
    assert result["failed"] is True
    assert "Microsoft.Relay to become Registered" in result["msg"]
    assert "last observed state: Registering" in result["msg"]
    assert result["changed"] is True
    assert result["actions"] == ["register resource provider Microsoft.Relay"]
    assert result["providers"][0]["registration_state"] == "Registering"


def test_unknown_namespace_is_one_clear_line(fake_azure, capsys):
    fake_azure(FakeProviders({"Microsoft.Relay": "Registered"}))
    result = run(capsys, namespaces=["Microsoft.Relya"])
    assert result["failed"] is True
    assert result["msg"].startswith(
        f"Azure GET /subscriptions/{SUBSCRIPTION}/providers/Microsoft.Relya failed: HTTP 404 InvalidResourceNamespace"
    )
    assert "Check the resource provider namespace" in result["msg"]
    assert result["error_code"] == "InvalidResourceNamespace"


def test_duplicates_are_handled_once(fake_azure, capsys):
    providers = fake_azure(FakeProviders({"Microsoft.Relay": "Registered"}))
    result = run(capsys, namespaces=["Microsoft.Relay", "microsoft.relay", " MICROSOFT.RELAY "])
    assert len(result["providers"]) == 1
    assert len(providers.log) == 1


def test_wrong_secret_fails_in_one_line_before_any_arm_call(fake_azure, capsys):
    providers = fake_azure(
        FakeProviders({"Microsoft.Relay": "Registered"}),
        reject=f"AADSTS7000215: Invalid client secret provided ({SECRET}).\nTrace ID: 1",
    )
    result = run(capsys, namespaces=["Microsoft.Relay"])
    assert result["failed"] is True
    assert "\n" not in result["msg"]
    assert result["msg"].startswith("Azure rejected the credentials: service principal with client secret")
    assert SECRET not in json.dumps(result)
    assert "exception" not in result
    assert providers.log == []


@pytest.mark.parametrize(
    "namespace",
    ["..", ".", "Microsoft.Kubernetes.", "Microsoft.Kube\nrnetes", "Microsoft.Kubernetes#x", "Microsoft.Kubernetes?x",
     "Microsoft.Kubernetes/register", "Microsoft." + "K" * 128],
)  # fmt: skip
def test_a_namespace_that_would_change_the_request_path_fails_before_any_request(fake_azure, capsys, namespace):
    providers = fake_azure(FakeProviders({"Microsoft.Kubernetes": "NotRegistered"}))
    result = run(capsys, namespaces=["Microsoft.KubernetesConfiguration", namespace])
    assert result["failed"] is True and "\n" not in result["msg"], result["msg"]
    assert f"namespaces {namespace!r} is not a valid resource provider namespace" in result["msg"]
    assert providers.log == []
