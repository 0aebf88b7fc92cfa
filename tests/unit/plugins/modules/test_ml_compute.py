"""The bookkeeping of `changed` around writes that Azure or the cluster refuses, accepts, or never finishes."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import AzureApiError
from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import write
from ansible_collections.hci.arc_ml.plugins.module_utils._common.wait import WaitTimeout


class Recorder:
    def __init__(self):
        self.result = {"changed": False}

    def set_changed(self, changed=True):
        self.result["changed"] = self.result["changed"] or bool(changed)


def fail_with(error):
    def operation():
        raise error

    return operation


def test_a_refused_request_changed_nothing():
    module = Recorder()
    refused = AzureApiError("PUT", "/subscriptions/s/x", 400, "UserError", "extension not installed")
    with pytest.raises(AzureApiError):
        write(module, fail_with(refused))
    assert module.result["changed"] is False


@pytest.mark.parametrize(
    "error",
    [
        AzureApiError("PUT", "/subscriptions/s/x", None, "Failed", "provisioning failed", outcome="Failed"),
        WaitTimeout("the attach", 60, 60.2, "Creating"),
    ],
)
def test_an_accepted_request_that_then_fails_has_changed_something(error):
    module = Recorder()
    with pytest.raises(type(error)):
        write(module, fail_with(error))
    assert module.result["changed"] is True


def test_a_write_that_succeeds_is_a_change():
    module = Recorder()
    assert write(module, lambda: {"name": "arccompute"}) == {"name": "arccompute"}
    assert module.result["changed"] is True


def test_a_write_the_kubernetes_api_refused_changed_nothing():
    from ansible_collections.hci.arc_ml.plugins.module_utils._kube.client import KubernetesError

    module = Recorder()
    with pytest.raises(KubernetesError):
        write(module, fail_with(KubernetesError("Cannot create InstanceType x: HTTP 403", status=403)))
    assert module.result["changed"] is False
