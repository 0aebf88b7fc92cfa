"""The Microsoft.MachineLearningServices requests ComputeClient sends, pinned to azure-ai-ml's.

azure-ai-ml's ComputeOperations
(https://github.com/Azure/azure-sdk-for-python/blob/main/sdk/ml/azure-ai-ml/azure/ai/ml/operations/_compute_operations.py)
sends the same requests: `get` (GET .../computes/{name}), `list` (GET .../computes), `begin_attach` =
`begin_create_or_update` (GET of the workspace for its location, then PUT .../computes/{name}) and
`begin_delete(name, action="Detach")` (DELETE with `underlyingResourceAction=Detach`); the operations are
Compute_Get, Compute_List, Compute_CreateOrUpdate and Compute_Delete of the REST spec
(https://github.com/Azure/azure-rest-api-specs/blob/main/specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/stable/2025-12-01/machineLearningServices.json).
"""

import json
from types import SimpleNamespace

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import ArmClient, create_pipeline_client
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.client import API_VERSION, ComputeClient
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.workspace import Workspace

ARM = "https://arm.sandbox.local"
SUB = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
WORKSPACE = f"{ARM}/subscriptions/{SUB}/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw"


@pytest.fixture
def sent_by(make_transport, make_reply, fake_credential):
    """Run `call(client)` against an ArmClient that answers 200 to everything; the requests it sent."""

    def run(call):
        transport = make_transport(lambda request: make_reply(200, {"value": []}))
        pipeline = create_pipeline_client(
            ARM,
            "corr",
            credential=fake_credential(),
            scope="https://management.sandbox.local/.default",
            transport=transport,
        )
        call(ComputeClient(ArmClient(pipeline, ARM, "corr"), Workspace(SUB, "rg-ml", "mlw")))
        return [
            (request.method, request.url, json.loads(request.content) if request.content else None)
            for request in transport.requests
        ]

    return run


def test_the_api_version_is_the_stable_one_that_defines_the_kubernetes_compute():
    assert API_VERSION == "2025-12-01"


def test_reads_are_get_of_the_workspace_of_one_compute_and_of_the_collection(sent_by):
    sent = sent_by(lambda c: (c.read_workspace(), c.get("k8s-hci"), c.list()))
    assert sent == [
        ("GET", f"{WORKSPACE}?api-version={API_VERSION}", None),
        ("GET", f"{WORKSPACE}/computes/k8s-hci?api-version={API_VERSION}", None),
        ("GET", f"{WORKSPACE}/computes?api-version={API_VERSION}", None),
    ]


def test_attach_is_a_put_of_the_body_and_detach_a_delete_that_only_detaches(sent_by):
    body = {"location": "eastus", "properties": {"computeType": "Kubernetes", "computeLocation": "eastus"}}
    sent = sent_by(lambda c: (c.attach(SimpleNamespace(name="k8s-hci"), body, None), c.detach("k8s-hci", None)))
    assert sent == [
        ("PUT", f"{WORKSPACE}/computes/k8s-hci?api-version={API_VERSION}", body),
        ("DELETE", f"{WORKSPACE}/computes/k8s-hci?api-version={API_VERSION}&underlyingResourceAction=Detach", None),
    ]
