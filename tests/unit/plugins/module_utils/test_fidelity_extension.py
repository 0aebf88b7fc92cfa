"""The Microsoft.KubernetesConfiguration/extensions requests ExtensionClient sends, pinned to az k8s-extension's.

az k8s-extension (https://github.com/Azure/azure-cli-extensions/blob/main/src/k8s-extension/azext_k8s_extension/custom.py)
sends the same five through its SDK client: `show_k8s_extension` (client.get: GET), `list_k8s_extension`
(client.list: GET of the collection), `create_k8s_extension` (client.begin_create: PUT),
`update_k8s_extension` (client.begin_update: PATCH of the properties) and `delete_k8s_extension`
(client.begin_delete(..., force_delete=force): DELETE, `forceDelete=true` only with --force).
"""

import json

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import ArmClient, create_pipeline_client
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.client import (
    API_VERSION,
    ClusterRef,
    ExtensionClient,
)

ARM = "https://arm.sandbox.local"
SUB = "22b4a233-756b-403b-a5e1-fd3368f5689a"
EXTENSIONS = (
    f"{ARM}/subscriptions/{SUB}/resourceGroups/rg-site1/providers/Microsoft.Kubernetes/connectedClusters/site1"
    "/providers/Microsoft.KubernetesConfiguration/extensions"
)


@pytest.fixture
def sent_by(make_transport, make_reply, fake_credential):
    """Run `call(client)` against an ArmClient that answers 200 {} to everything; the requests it sent."""

    def run(call, cluster_type="connectedClusters"):
        transport = make_transport(lambda request: make_reply(200, {}))
        client = create_pipeline_client(
            ARM,
            "corr",
            credential=fake_credential(),
            scope="https://management.sandbox.local/.default",
            transport=transport,
        )
        ref = ClusterRef(SUB, "rg-site1", cluster_type, "site1")
        call(ExtensionClient(ArmClient(client, ARM, "corr"), ref, "azureml"))
        return [
            (request.method, request.url, json.loads(request.content) if request.content else None)
            for request in transport.requests
        ]

    return run


def test_the_api_version_is_the_ga_one_the_spec_defines():
    assert API_VERSION == "2024-11-01"


def test_read_and_list_are_get_of_the_extension_and_of_the_collection(sent_by):
    assert sent_by(lambda c: (c.get(), c.list())) == [
        ("GET", f"{EXTENSIONS}/azureml?api-version={API_VERSION}", None),
        ("GET", f"{EXTENSIONS}?api-version={API_VERSION}", None),
    ]


def test_create_is_a_put_of_the_body_and_update_a_patch_of_the_properties(sent_by):
    body = {"properties": {"extensionType": "Microsoft.AzureML.Kubernetes", "releaseTrain": "stable"}}
    sent = sent_by(lambda c: (c.create(body), c.update({"configurationSettings": {"enableTraining": "True"}})))
    assert sent == [
        ("PUT", f"{EXTENSIONS}/azureml?api-version={API_VERSION}", body),
        (
            "PATCH",
            f"{EXTENSIONS}/azureml?api-version={API_VERSION}",
            {"properties": {"configurationSettings": {"enableTraining": "True"}}},
        ),
    ]


def test_delete_adds_force_delete_only_when_forced(sent_by):
    sent = sent_by(lambda c: (c.delete(), c.delete(force=True)))
    assert [(method, url) for method, url, _body in sent] == [
        ("DELETE", f"{EXTENSIONS}/azureml?api-version={API_VERSION}"),
        ("DELETE", f"{EXTENSIONS}/azureml?api-version={API_VERSION}&forceDelete=true"),
    ]


def test_an_aks_cluster_is_addressed_under_microsoft_container_service(sent_by):
    sent = sent_by(lambda c: c.get(), cluster_type="managedClusters")
    assert sent[0][1] == (
        f"{ARM}/subscriptions/{SUB}/resourceGroups/rg-site1/providers/Microsoft.ContainerService/managedClusters/site1"
        f"/providers/Microsoft.KubernetesConfiguration/extensions/azureml?api-version={API_VERSION}"
    )
