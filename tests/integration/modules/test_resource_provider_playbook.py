"""hci.arc_ml.resource_provider through ansible-playbook against the Azure emulator."""

import json
import re

import pytest

pytestmark = pytest.mark.sandbox

NAMESPACES = [
    "Microsoft.Kubernetes",
    "Microsoft.KubernetesConfiguration",
    "Microsoft.ExtendedLocation",
    "Microsoft.Relay",
]
FATAL = "fatal: [localhost]: FAILED! => "
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def ensure(namespaces, **options):
    return {
        "name": "Ensure resource providers",
        "hci.arc_ml.resource_provider": {"namespaces": namespaces, "wait_sleep": 1, "wait_timeout": 120, **options},
    }


def arm_writes(lines):
    """Writes to ARM (the token request to the login endpoint is not one)."""
    return [line for line in lines if line.startswith(WRITES) and " /subscriptions/" in line]


def test_registers_the_providers_and_waits_for_registered(sandbox, ansible_playbook):
    sandbox.admin.settings(provider_registration_seconds=2)
    mark = sandbox.admin.last_seq()

    run = ansible_playbook([ensure(NAMESPACES)])

    (result,) = run.results
    assert not result.get("failed"), run.output
    assert result["changed"] is True
    assert {p["namespace"]: p["registration_state"] for p in result["providers"]} == dict.fromkeys(
        NAMESPACES, "Registered"
    )
    log = sandbox.requests_since(mark)
    subscription = sandbox.env["AZURE_SUBSCRIPTION_ID"]
    assert sorted(arm_writes(log)) == sorted(
        f"POST /subscriptions/{subscription}/providers/{namespace}/register" for namespace in NAMESPACES
    )
    last_register = max(i for i, line in enumerate(log) if line.endswith("/register"))
    polls = [line for line in log[last_register + 1 :] if line.startswith("GET /subscriptions/")]
    assert polls, "the module returned without polling for Registered"


def test_second_run_reports_no_change_and_sends_no_register(sandbox, ansible_playbook):
    ansible_playbook([ensure(NAMESPACES)])
    mark = sandbox.admin.last_seq()

    run = ansible_playbook([ensure(NAMESPACES)], "-vvvv")

    (result,) = run.results
    assert result["changed"] is False, run.output
    log = sandbox.requests_since(mark)
    assert not [line for line in log if "/register" in line]
    assert arm_writes(log) == []
    provider_reads = [line for line in log if line.startswith("GET /subscriptions/")]
    assert len(provider_reads) == len(NAMESPACES)
    assert sandbox.env["AZURE_CLIENT_SECRET"] not in run.output


def test_check_mode_sends_no_write(sandbox, ansible_playbook):
    mark = sandbox.admin.last_seq()

    run = ansible_playbook([ensure(["Microsoft.MachineLearningServices"])], "--check", "--diff")

    (result,) = run.results
    assert result["changed"] is True, run.output
    assert result["providers"][0]["registration_state"] == "Registered"
    assert result["diff"] == {
        "before": {"Microsoft.MachineLearningServices": "NotRegistered"},
        "after": {"Microsoft.MachineLearningServices": "Registered"},
    }
    assert arm_writes(sandbox.requests_since(mark)) == []
    again = ansible_playbook([ensure(["Microsoft.MachineLearningServices"])], "--check", "--diff")
    assert again.results[0]["diff"]["before"] == {"Microsoft.MachineLearningServices": "NotRegistered"}


def test_throttling_and_server_errors_are_retried(sandbox, ansible_playbook):
    sandbox.admin.add_faults(
        {"method": "GET", "path": "/providers/Microsoft.Relay$", "status": 429, "retry_after": "1", "count": 1},
        {"method": "GET", "path": "/providers/Microsoft.Relay$", "status": 503, "count": 1},
    )
    try:
        mark = sandbox.admin.last_seq()
        run = ansible_playbook([ensure(["Microsoft.Relay"])])
    finally:
        sandbox.admin.clear_faults()

    (result,) = run.results
    assert not result.get("failed"), run.output
    relay_reads = [line for line in sandbox.requests_since(mark) if line.endswith("/providers/Microsoft.Relay")]
    assert len(relay_reads) == 3


def test_wrong_client_secret_fails_with_one_clear_line(sandbox, ansible_playbook):
    wrong = "Wr0ng-client-secret~value"
    mark = sandbox.admin.last_seq()

    run = ansible_playbook(
        [ensure(NAMESPACES)], "-vvvv", env={"AZURE_SECRET": wrong, "AZURE_CLIENT_SECRET": wrong}, ignore_errors=False
    )

    assert run.rc != 0
    assert run.output.count(FATAL) == 1, run.output
    # At -vvvv the callback prints the failed result as indented JSON after the marker.
    result, _end = json.JSONDecoder().raw_decode(run.output, run.output.index(FATAL) + len(FATAL))
    message = result["msg"]
    assert "\n" not in message
    assert re.match(r"^Azure rejected the credentials: service principal with client secret from environment", message)
    assert sandbox.env["AZURE_CLIENT_ID"] in message
    assert sandbox.env["AZURE_TENANT"] in message
    assert "Traceback" not in run.output
    assert "exception" not in result
    assert wrong not in run.output
    assert sandbox.env["AZURE_CLIENT_SECRET"] not in run.output
    assert not [line for line in sandbox.requests_since(mark) if " /subscriptions/" in line]
