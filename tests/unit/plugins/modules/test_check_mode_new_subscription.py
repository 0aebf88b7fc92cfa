"""azureml_extension and cluster_extension in a subscription where the namespaces they read were never registered.

The whole module runs against a scripted ARM (only the network and the clock are fake) that answers as ARM does for
a namespace the subscription is not registered to use: 409 MissingSubscriptionRegistration, GETs included. Check
mode plans what it would create; outside check mode the answer stays an error. connected_cluster's own tests are in
test_connected_cluster.py.
"""

import pytest
from ansible_collections.hci.arc_ml.plugins.modules import azureml_extension, cluster_extension
from ansible_collections.hci.arc_ml.tests.unit.plugins.conftest import FAKE_AUTH, FAKE_SUBSCRIPTION, run_module

ARM = "https://127.0.0.1:8443"
SUBSCRIPTION = FAKE_SUBSCRIPTION
AUTH = FAKE_AUTH
CLUSTER = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-site/providers/Microsoft.Kubernetes/connectedClusters/site-1"
)
EXTENSIONS = CLUSTER + "/providers/Microsoft.KubernetesConfiguration/extensions"
# What a new subscription has not registered (Machine Learning is: the workspace proves it).
ARC_NAMESPACES = ("Microsoft.Kubernetes", "Microsoft.KubernetesConfiguration", "Microsoft.ExtendedLocation",
                  "Microsoft.Relay")  # fmt: skip
CONNECTED = {
    "id": CLUSTER,
    "name": "site-1",
    "location": "eastus",
    "properties": {"totalNodeCount": 3, "distribution": "AKS", "connectivityStatus": "Connected"},
}
# The Relay namespace az k8s-extension names after the cluster, subscription and resource group.
RELAY = "site16f1c2a3b4d5e4f608a7b9c0d1e2f3a4brgsiterelay"


class NewSubscription:
    """ARM where `unregistered` namespaces were never registered; `resources` (path: body) answer GETs, other GETs
    and listKeys answer 404, and anything else is recorded and refused."""

    def __init__(self, unregistered, resources=None, refusal_names=None):
        self.unregistered = {ns.lower() for ns in unregistered}
        self.resources = {path.lower(): body for path, body in (resources or {}).items()}
        # Which namespace the 409 names (default: the one of the path), to script a refusal naming another.
        self.refusal_names = refusal_names
        self.log = []

    def __call__(self, request, reply):
        path = request.url[len(ARM) :].partition("?")[0]
        self.log.append((request.method, path))
        namespace = path.rsplit("/providers/", 1)[-1].split("/")[0]
        if namespace.lower() in self.unregistered:
            named = self.refusal_names or namespace
            message = (
                f"The subscription is not registered to use namespace '{named}'. "
                "See https://aka.ms/rps-not-found for how to register subscriptions."
            )
            details = [{"code": "MissingSubscriptionRegistration", "target": named, "message": message}]
            return reply(409, {"error": {"code": "MissingSubscriptionRegistration", "message": message,
                                         "details": details}})  # fmt: skip
        if request.method == "GET" and path.lower() in self.resources:
            return reply(200, self.resources[path.lower()])
        if request.method == "GET" or path.endswith("/listKeys"):
            return reply(404, {"error": {"code": "ResourceNotFound", "message": f"{path} not found"}})
        return reply(400, {"error": {"code": "UnexpectedWrite", "message": "no write expected"}})


def run(capsys, module, **args):
    arguments = {**AUTH, "cluster_name": "site-1", "resource_group": "rg-site", **args}
    return run_module(capsys, module, arguments)


def test_azureml_extension_in_check_mode_plans_the_install_when_nothing_of_arc_is_registered(fake_azure, capsys):
    arm = fake_azure(NewSubscription(ARC_NAMESPACES))

    result = run(capsys, azureml_extension, training=True, _ansible_check_mode=True, _ansible_diff=True)

    assert result.get("failed") is not True, result
    assert result["changed"] is True
    assert result["actions"] == [
        "install extension azureml (after the cluster is connected)",
        "find or create the Azure Relay of extension azureml (after the cluster is connected)",
    ]
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["extension_type"] == "microsoft.azureml.kubernetes"
    # Both reads met the unregistered namespaces, and nothing else was sent.
    assert arm.log == [("GET", EXTENSIONS + "/azureml"), ("GET", CLUSTER)]


def test_azureml_extension_in_check_mode_plans_the_relay_when_only_the_cluster_s_namespace_is_registered(
    fake_azure, capsys
):
    # An AKS Arc cluster: the platform registered Microsoft.Kubernetes; the extension's and the Relay's are not.
    arm = fake_azure(NewSubscription(("Microsoft.KubernetesConfiguration", "Microsoft.Relay"), {CLUSTER: CONNECTED}))

    result = run(capsys, azureml_extension, training=True, _ansible_check_mode=True, _ansible_diff=True)

    assert result.get("failed") is not True, result
    assert result["changed"] is True
    relay = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-site/providers/Microsoft.Relay/namespaces/{RELAY}"
    assert result["actions"] == [
        f"create relay namespace {RELAY}",
        "create relay hybrid connection site-1",
        "create relay authorization rule azureml_rw",
        "create extension azureml",
    ]
    # The extension and the Relay's rule and namespace were refused, the cluster read; nothing was written, and
    # no key asked for (check mode sends nothing that would carry it).
    assert arm.log == [
        ("GET", EXTENSIONS + "/azureml"),
        ("GET", CLUSTER),
        ("GET", relay + "/hybridConnections/site-1/authorizationRules/azureml_rw"),
        ("GET", relay),
    ]


def test_azureml_extension_outside_check_mode_fails_on_the_first_unregistered_namespace(fake_azure, capsys):
    arm = fake_azure(NewSubscription(ARC_NAMESPACES))

    result = run(capsys, azureml_extension, training=True)

    assert result["failed"] is True and result["changed"] is False
    assert result["status"] == 409 and result["error_code"] == "MissingSubscriptionRegistration"
    assert (
        "Register Microsoft.KubernetesConfiguration in this subscription (hci.arc_ml.resource_provider)"
        in (result["msg"])
    )
    assert arm.log == [("GET", EXTENSIONS + "/azureml")]


def test_a_refusal_naming_another_namespace_stays_an_error_in_check_mode(fake_azure, capsys):
    # The extension read refused for Microsoft.Kubernetes says nothing about whether the extension exists.
    arm = fake_azure(NewSubscription(("Microsoft.KubernetesConfiguration",), refusal_names="Microsoft.Kubernetes"))

    result = run(capsys, azureml_extension, training=True, _ansible_check_mode=True)

    assert result["failed"] is True and result["error_code"] == "MissingSubscriptionRegistration"
    assert arm.log == [("GET", EXTENSIONS + "/azureml")]


def test_another_409_stays_an_error_in_check_mode(fake_azure, capsys):
    def busy(request, reply):
        return reply(409, {"error": {"code": "Conflict", "message": "Another operation is in progress."}})

    fake_azure(busy)

    result = run(capsys, azureml_extension, training=True, _ansible_check_mode=True)

    assert result["failed"] is True and result["status"] == 409 and result["error_code"] == "Conflict"


@pytest.mark.parametrize("check_mode", [True, False])
def test_cluster_extension_plans_a_create_only_in_check_mode(fake_azure, capsys, check_mode):
    arm = fake_azure(NewSubscription(ARC_NAMESPACES, {CLUSTER: CONNECTED}))

    result = run(
        capsys, cluster_extension, name="flux", extension_type="microsoft.flux", _ansible_check_mode=check_mode
    )

    if check_mode:
        assert result.get("failed") is not True, result
        assert result["changed"] is True and result["actions"] == ["create extension flux"]
    else:
        assert result["failed"] is True and result["error_code"] == "MissingSubscriptionRegistration"
    assert arm.log == [("GET", EXTENSIONS + "/flux")]
