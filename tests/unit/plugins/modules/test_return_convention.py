"""Every module returns what its RETURN documents, and follows the result contract (docs/architecture.md).

The modules are found on disk, so a new module is covered as soon as it exists: it fails here until it has a
representative run in RUNS. Each run drives the module's main() against the fakes its own unit tests use (a
scripted Azure, an in-memory API server or node list), and the keys it returns are compared with its RETURN:

- every top-level key returned is documented, and every key documented as returned always is returned;
- a dict (or list of dicts) in the result has the sub-fields its RETURN `contains` names, no more, no fewer;
- a mutating module (mutating=True) documents `actions` with the one shared description, and returns it;
  a read-only module returns none.
"""

import json
import re
from pathlib import Path

import azure.core.pipeline.transport as azure_transport
import pytest
import test_cluster_credentials as credentials_tests
import test_cluster_preflight as preflight_tests
import test_connected_cluster as arc_tests
import test_instance_type_module as instance_type_tests
import test_node_taint as taint_tests
import test_resource_provider as provider_tests
import test_training_volume as volume_tests
import yaml
from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.module_utils._nodes import tasks as _nodes_tasks
from ansible_collections.hci.arc_ml.plugins.modules import (
    azureml_extension,
    cluster_extension,
    cluster_extension_info,
    connected_cluster_info,
    ml_compute,
    ml_compute_info,
    resource_provider,
)
from ansible_collections.hci.arc_ml.tests.unit.plugins.conftest import run_module

# The other tests' fixtures, used here by name through request.getfixturevalue().
from test_connected_cluster import onboarding_key, world  # noqa: F401  # pylint: disable=unused-import
from test_instance_type_module import server  # noqa: F401  # pylint: disable=unused-import
from test_node_taint import cluster  # noqa: F401  # pylint: disable=unused-import
from test_training_volume import storage  # noqa: F401  # pylint: disable=unused-import

MODULES_DIR = Path(__file__).resolve().parents[4] / "plugins" / "modules"
MODULES = sorted(path.stem for path in MODULES_DIR.glob("*.py") if path.stem != "__init__")
# Modules still being written elsewhere; each is folded in with a run of its own.
PENDING = {}
# Keys Ansible itself adds to every result and documents for all modules.
ANSIBLE_KEYS = {"changed", "failed", "diff", "invocation", "warnings", "deprecations", "skipped", "exception"}
ACTIONS_DESCRIPTION = "What the task did, or in check mode would do, in order; empty when nothing needed doing."

SUBSCRIPTION = provider_tests.SUBSCRIPTION
ARM = provider_tests.ARM
CLUSTER_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-site/providers/Microsoft.Kubernetes/connectedClusters/site-1"
)
WORKSPACE_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw"
)


def return_doc(name):
    source = (MODULES_DIR / f"{name}.py").read_text()
    found = re.search(r'^RETURN = r?"""(.*?)"""', source, re.S | re.M)
    assert found, f"{name} has no RETURN block"
    return yaml.safe_load(found.group(1)) or {}


def is_mutating(name):
    return "mutating=True" in (MODULES_DIR / f"{name}.py").read_text()


def run_main(capsys, module, args):
    result = run_module(capsys, module, args)
    assert not result.get("failed"), result.get("msg")
    return result


class FakeArm:
    """Resources by ARM path: GET answers one, or a collection's children; PUT and PATCH store, Succeeded."""

    def __init__(self, resources):
        self.resources = {path.lower(): body for path, body in resources.items()}

    def __call__(self, request, reply):
        if "/metadata/endpoints" in request.url:
            audiences = ["https://management.sandbox.local/"]
            return reply(200, {"resourceManager": ARM, "authentication": {"loginEndpoint": provider_tests.LOGIN,
                                                                          "audiences": audiences}})  # fmt: skip
        path = request.url.split("?")[0][len(ARM) :].lower()
        if request.method == "PUT":
            body = json.loads(request.content)
            properties = dict(body.get("properties") or {}, provisioningState="Succeeded")
            self.resources[path] = dict(body, id=path, name=path.rsplit("/", 1)[-1], properties=properties)
            return reply(200, self.resources[path])
        if request.method == "PATCH":
            body = json.loads(request.content)
            stored = self.resources[path]
            stored["properties"] = dict(stored["properties"], **(body.get("properties") or {}))
            return reply(200, stored)
        assert request.method == "GET", f"unexpected {request.method} {path}"
        if path in self.resources:
            return reply(200, self.resources[path])
        children = [body for key, body in self.resources.items() if key.rsplit("/", 1)[0] == path]
        if children or path.endswith(("/extensions", "/computes")):
            return reply(200, {"value": children})
        return reply(404, {"error": {"code": "ResourceNotFound", "message": f"{path} not found"}})


@pytest.fixture
def fake_arm(monkeypatch, make_transport, make_reply, fake_entra):
    """An Azure with a connected cluster, an extension, a workspace and a compute; returns the FakeArm."""
    arm = FakeArm(
        {
            CLUSTER_ID: {"id": CLUSTER_ID, "name": "site-1", "location": "eastus",
                         "properties": {"connectivityStatus": "Connected", "totalNodeCount": 3}},
            f"{CLUSTER_ID}/providers/Microsoft.KubernetesConfiguration/extensions/flux": {
                "id": f"{CLUSTER_ID}/providers/Microsoft.KubernetesConfiguration/extensions/flux", "name": "flux",
                "properties": {"extensionType": "microsoft.flux", "provisioningState": "Succeeded",
                               "scope": {"cluster": {"releaseNamespace": "flux-system"}}},
            },
            WORKSPACE_ID: {"id": WORKSPACE_ID, "name": "mlw", "location": "eastus"},
            f"{WORKSPACE_ID}/computes/other": {
                "id": f"{WORKSPACE_ID}/computes/other", "name": "other", "location": "eastus",
                "properties": {"computeType": "Kubernetes", "provisioningState": "Succeeded",
                               "resourceId": CLUSTER_ID, "properties": {"namespace": "default"}},
            },
        }
    )  # fmt: skip
    entra = fake_entra(login=provider_tests.LOGIN)
    transport = make_transport(lambda request: entra(request) if entra.handles(request) else arm(request, make_reply))
    monkeypatch.setattr(azure_transport, "RequestsTransport", lambda **kwargs: transport)
    return arm


AZURE = dict(provider_tests.AUTH)
ON_CLUSTER = {"cluster_name": "site-1", "resource_group": "rg-site"}
IN_WORKSPACE = {"workspace_name": "mlw", "resource_group": "rg-ml"}


def run_resource_provider(request, capsys):
    request.getfixturevalue("fake_azure")(provider_tests.FakeProviders({"Microsoft.Relay": "NotRegistered"}))
    return run_main(capsys, resource_provider, dict(AZURE, namespaces=["Microsoft.Relay"]))


def run_connected_cluster(request, capsys):
    return arc_tests.run(capsys, request.getfixturevalue("world"))


def run_connected_cluster_info(request, capsys):
    arc_world = request.getfixturevalue("world")
    arc_tests.run(capsys, arc_world)
    return arc_tests.run(capsys, arc_world, module=connected_cluster_info, name="site-1", resource_group="rg-site")


def run_cluster_extension(request, capsys):
    request.getfixturevalue("fake_arm")
    args = dict(AZURE, **ON_CLUSTER, name="flux", extension_type="microsoft.flux", release_namespace="flux-system",
                configuration_settings={"multiTenancy.enforce": "false"})  # fmt: skip
    return run_main(capsys, cluster_extension, args)


def run_cluster_extension_info(request, capsys):
    request.getfixturevalue("fake_arm")
    return run_main(capsys, cluster_extension_info, dict(AZURE, **ON_CLUSTER))


def run_azureml_extension(request, capsys):
    request.getfixturevalue("fake_arm")
    relay = {
        "hybrid_connection_id": f"{CLUSTER_ID}/providers/Microsoft.Relay/namespaces/ns/hybridConnections/site-1",
        "connection_string": "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=s;"
        "EntityPath=site-1",
    }
    return run_main(capsys, azureml_extension, dict(AZURE, **ON_CLUSTER, training=True, relay=relay))


def run_ml_compute(request, capsys):
    request.getfixturevalue("fake_arm")
    args = dict(AZURE, **IN_WORKSPACE, name="arccompute", cluster_resource_id=CLUSTER_ID)
    return run_main(capsys, ml_compute, args)


def run_ml_compute_info(request, capsys):
    request.getfixturevalue("fake_arm")
    return run_main(capsys, ml_compute_info, dict(AZURE, **IN_WORKSPACE))


def run_instance_type(request, capsys):
    request.getfixturevalue("server")
    return instance_type_tests.run(capsys, name="gpu-large", **instance_type_tests.SMALL)


def run_node_taint(request, capsys):
    request.getfixturevalue("cluster")
    return taint_tests.run(capsys)


def run_cluster_credentials(request, capsys):
    request.getfixturevalue("fake_azure")(credentials_tests.FakeArm())
    return credentials_tests.run(capsys)


def run_cluster_preflight(request, capsys):
    monkeypatch = request.getfixturevalue("monkeypatch")
    nodes = [preflight_tests.api_node("lin-1"), preflight_tests.api_node("win-1", "windows")]
    fake = preflight_tests.FakeCluster(nodes)
    monkeypatch.setattr(ArcMLModule, "kube_client", lambda self: object())
    monkeypatch.setattr(_nodes_tasks, "ClusterApi", lambda api_client: fake)
    return preflight_tests.run(capsys)


def run_training_volume(request, capsys):
    request.getfixturevalue("storage")
    return volume_tests.run(capsys, volume_tests.SHARE)


RUNS = {
    "azureml_extension": run_azureml_extension,
    "cluster_credentials": run_cluster_credentials,
    "cluster_extension": run_cluster_extension,
    "cluster_extension_info": run_cluster_extension_info,
    "cluster_preflight": run_cluster_preflight,
    "connected_cluster": run_connected_cluster,
    "connected_cluster_info": run_connected_cluster_info,
    "instance_type": run_instance_type,
    "ml_compute": run_ml_compute,
    "ml_compute_info": run_ml_compute_info,
    "node_taint": run_node_taint,
    "resource_provider": run_resource_provider,
    "training_volume": run_training_volume,
}


@pytest.fixture(params=MODULES)
def module_run(request, capsys):
    """(module name, its RETURN, what a representative run returned)."""
    name = request.param
    if name in PENDING:
        pytest.skip(f"{name}: {PENDING[name]}")
    assert name in RUNS, f"{name} has no representative run: add one to RUNS in {Path(__file__).name}"
    return name, return_doc(name), RUNS[name](request, capsys)


def dicts_in(value):
    """The dicts a result value holds: itself, or its elements."""
    if isinstance(value, dict):
        return [value] if value else []
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def test_the_top_level_keys_are_those_return_documents(module_run):
    name, doc, result = module_run
    returned = set(result) - ANSIBLE_KEYS
    assert returned - set(doc) == set(), f"{name} returns keys its RETURN does not document"
    always = {key for key, spec in doc.items() if spec.get("returned") == "always"}
    assert always - returned == set(), f"{name} documents keys as returned always that it did not return"


def test_each_resource_has_the_sub_fields_return_documents(module_run):
    name, doc, result = module_run
    compared = []
    for key, spec in doc.items():
        if spec.get("type") == "dict" or spec.get("elements") == "dict":
            assert spec.get("contains"), f"{name}: RETURN {key} does not document its sub-fields (contains)"
        for item in dicts_in(result.get(key)):
            assert set(item) == set(spec["contains"]), f"{name}: {key} has other sub-fields than RETURN documents"
            compared.append(key)
    # The run returned its resource: the comparison above was not made on empty values only. A module whose
    # RETURN holds no dict (cluster_credentials: the kubeconfig's text and flat facts) was compared key by key.
    documents_a_resource = any(spec.get("type") == "dict" or spec.get("elements") == "dict" for spec in doc.values())
    assert compared or not documents_a_resource, f"{name}: the representative run returned no resource to compare"


def test_mutating_modules_document_and_return_actions_and_read_only_ones_none(module_run):
    name, doc, result = module_run
    if not is_mutating(name):
        assert "actions" not in doc and "actions" not in result, f"{name} is read-only: it returns no actions"
        return
    actions = doc.get("actions")
    assert actions, f"{name} is mutating: its RETURN documents actions"
    assert (actions["description"], actions["returned"], actions["type"], actions["elements"]) == (
        ACTIONS_DESCRIPTION,
        "always",
        "list",
        "str",
    ), f"{name}: actions is documented as every mutating module documents it"
    resources = [key for key, spec in doc.items() if spec.get("contains") and spec.get("returned") == "always"]
    assert resources, f"{name} is mutating: its RETURN documents the resource it manages, returned always"
    assert isinstance(result["actions"], list) and all(isinstance(line, str) for line in result["actions"])
    assert bool(result["actions"]) == result["changed"], f"{name}: a change is one action line or more"


# The same resource returned by several modules: (module, key) pairs whose sub-fields are documented alike.
SAME_RESOURCE = [
    [("connected_cluster", "connected_cluster"), ("connected_cluster_info", "connected_clusters")],
    [("cluster_extension", "extension"), ("azureml_extension", "extension"),
     ("cluster_extension_info", "extensions")],
    [("ml_compute", "compute"), ("ml_compute_info", "computes")],
]  # fmt: skip


@pytest.mark.parametrize("group", SAME_RESOURCE, ids=lambda group: group[0][1])
def test_a_resource_several_modules_return_is_documented_alike(group):
    def fields(name, key):
        contains = return_doc(name)[key]["contains"]
        # When a field is returned depends on the module (a missing resource, an info list); the rest may not.
        return {field: {k: v for k, v in spec.items() if k != "returned"} for field, spec in contains.items()}

    first = fields(*group[0])
    for name, key in group[1:]:
        assert fields(name, key) == first, f"{name} documents {key} otherwise than {group[0][0]}"


def test_every_module_on_disk_has_a_run_or_is_pending():
    assert set(MODULES) - set(RUNS) - set(PENDING) == set()
    assert set(RUNS) | set(PENDING) <= set(MODULES), "a run or pending entry for a module that no longer exists"
