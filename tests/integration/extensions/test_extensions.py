"""cluster_extension, cluster_extension_info and azureml_extension through ansible-playbook, against the sandbox.

The tests run in file order and share one sandbox: the Azure ML extension is installed, left alone, changed,
given HTTPS, and finally removed; a second, generic extension serves the immutable-change and Failed cases.
Every claim about Azure is checked in the emulator's request log or with plain ARM calls, every claim about
the cluster in its Kubernetes API.
"""

import base64
import datetime
from pathlib import Path

import pytest
import yaml

from sandbox.testing import new_onboarding_key, wait_for

pytestmark = pytest.mark.sandbox

# The one site of this directory's sites.yml (its conftest onboards it to Arc).
((SITE, RESOURCE_GROUP),) = [
    (site["name"], site["resource_group"])
    for site in yaml.safe_load(Path(__file__).with_name("sites.yml").read_text())["sites"]
]
EXTENSIONS_API = "2024-11-01"
RELAY_API = "2021-11-01"
WRITES = ("PUT", "PATCH", "DELETE")
SEED_SETTINGS = {"enableTraining": "True", "enableInference": "True", "allowInsecureConnections": "True"}
LOAD_BALANCER = {
    "training": True,
    "inference": True,
    "allow_insecure_connections": True,
    "inference_router_service_type": "LoadBalancer",
}
DEMO_SECRET = "demo-protected-value-7f3a9c"
ROUTER_RULE = (
    "To use inference, please specify inferenceRouterServiceType=ClusterIP or inferenceRouterServiceType=NodePort or "
    "inferenceRouterServiceType=LoadBalancer in --configuration-settings and also set "
    "internalLoadBalancerProvider=azure if your aks only supports internal load balancer.Check "
    "https://aka.ms/arcmltsg for more information."
)


def azureml(cluster=SITE, **options):
    return {
        "name": "Azure ML extension",
        "hci.arc_ml.azureml_extension": {
            "cluster_name": cluster, "resource_group": RESOURCE_GROUP, "wait_sleep": 1, "wait_timeout": 120, **options,
        },
    }  # fmt: skip


def extension(name="demo", **options):
    return {
        "name": "Cluster extension",
        "hci.arc_ml.cluster_extension": {
            "name": name, "cluster_name": SITE, "resource_group": RESOURCE_GROUP, "wait_sleep": 1, "wait_timeout": 120,
            **options,
        },
    }  # fmt: skip


def info(**options):
    return {
        "name": "Cluster extension info",
        "hci.arc_ml.cluster_extension_info": {"cluster_name": SITE, "resource_group": RESOURCE_GROUP, **options},
    }


def arm_calls(sandbox, since):
    """(method, path, body) of every ARM request after `since` (login and metadata requests left out)."""
    return [(e["method"], e["path"], e.get("body")) for e in sandbox.admin.requests(since=since)
            if e["path"].startswith("/subscriptions/")]  # fmt: skip


def calls_per_task(sandbox, since):
    """arm_calls() split by module run: each task sends its own x-ms-correlation-request-id, in task order."""
    tasks = {}
    for entry in sandbox.admin.requests(since=since):
        headers = {name.lower(): value for name, value in (entry.get("headers") or {}).items()}
        correlation = headers.get("x-ms-correlation-request-id")
        if correlation and entry["path"].startswith("/subscriptions/"):
            tasks.setdefault(correlation, []).append((entry["method"], entry["path"], entry.get("body")))
    return list(tasks.values())


def arm_writes(calls):
    """Requests that change something: PUT, PATCH, DELETE and POST actions other than reading Relay keys."""
    return [c for c in calls if c[0] in WRITES or (c[0] == "POST" and not c[1].lower().endswith("/listkeys"))]


def extension_path(arm, name, cluster=SITE):
    return f"{arm.cluster_id(RESOURCE_GROUP, cluster)}/providers/Microsoft.KubernetesConfiguration/extensions/{name}"


def relay_rule_path(arm, cluster=SITE):
    namespaces = f"{arm.subscription}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.Relay/namespaces"
    results = arm.call("GET", namespaces, RELAY_API).json()["value"]
    (namespace,) = [ns for ns in results if ns["name"].lower().startswith(cluster.replace("-", ""))]
    return f"{namespace['id']}/hybridConnections/{cluster}/authorizationRules/azureml_rw"


def relay_secrets(arm, cluster=SITE):
    keys = arm.call("POST", relay_rule_path(arm, cluster) + "/listKeys", RELAY_API).json()
    return [keys[k] for k in ("primaryConnectionString", "secondaryConnectionString", "primaryKey", "secondaryKey")]


def helm_releases(sandbox, namespace="azureml", name="azureml"):
    path = f"/api/v1/namespaces/{namespace}/secrets?labelSelector=owner%3Dhelm%2Cname%3D{name}"
    return sandbox.kube_api(SITE).get(path)["items"]


def self_signed(tmp_path, host="ml.contoso.example"):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256())
    )  # fmt: skip
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key_pem)
    return tmp_path / "cert.pem", tmp_path / "key.pem", key_pem


# The Azure ML extension: validation, install, idempotence, one change, HTTPS.


def test_seed_settings_without_router_type_fail_with_the_rule_before_any_azure_call(ext_sandbox, play):
    mark = ext_sandbox.admin.last_seq()

    run = play([azureml(configuration_settings=SEED_SETTINGS)])

    (result,) = run.results
    assert result["failed"] is True
    assert result["rule"] == "router_service_type"
    assert result["msg"].startswith(ROUTER_RULE + " ")
    assert "set inference_router_service_type to LoadBalancer, NodePort or ClusterIP" in result["msg"]
    assert ext_sandbox.admin.requests(since=mark) == [], "an invalid request must not even reach Azure"


def test_installs_in_namespace_azureml_with_a_relay_after_a_check_run_and_then_changes_nothing(ext_sandbox, arm, play):
    mark = ext_sandbox.admin.last_seq()

    counted = azureml(**LOAD_BALANCER, node_count_source="kubernetes", kubeconfig=str(ext_sandbox.kubeconfig(SITE)))
    run = play([dict(counted, check_mode=True), azureml(**LOAD_BALANCER), azureml(**LOAD_BALANCER)], "-vvvv", "--diff")

    checked, installed, again = run.results
    check_calls, install_calls, again_calls = calls_per_task(ext_sandbox, mark)
    # --check: the prediction, and no write.
    assert checked["changed"] is True, run.output
    assert checked["diff"]["before"] == {}
    predicted = checked["diff"]["after"]
    assert predicted["release_namespace"] == "azureml"
    assert predicted["configuration_settings"]["inferenceRouterServiceType"] == "LoadBalancer"
    assert predicted["configuration_settings"]["clusterPurpose"] == "DevTest"
    assert len(checked["relay"]["created"]) == 3
    assert checked["node_count"] == 1
    assert arm_writes(check_calls) == []
    # The install: Relay namespace, hybrid connection, rule, then the extension.
    assert not installed.get("failed"), run.output
    assert installed["changed"] is True
    assert [m for m, _p, _b in arm_writes(install_calls)] == ["PUT", "PUT", "PUT", "PUT"]
    ext = installed["extension"]
    assert ext["provisioning_state"] == "Succeeded"
    assert ext["extension_type"] == "microsoft.azureml.kubernetes"
    assert ext["release_namespace"] == "azureml"
    assert ext["configuration_protected_setting_keys"] == [
        "relayServerConnectionString", "relayserver.relayConnectionString",
    ]  # fmt: skip
    assert "SSL is not enabled. Allowing insecure connections to the deployed services." in installed["warnings"]
    # The second run: nothing to do, and it reads no more than it must (extension, cluster, the Relay's rule); no
    # listKeys POST, which ARM counts as a write.
    assert again["changed"] is False
    assert again["changes"] == []
    assert [m for m, _p, _b in again_calls] == ["GET", "GET", "GET"], again_calls
    assert again_calls[2][1].lower().endswith(f"/hybridconnections/{SITE}/authorizationrules/azureml_rw"), again_calls
    assert arm_writes(again_calls) == []

    stored = arm.call("GET", extension_path(arm, "azureml"), EXTENSIONS_API).json()["properties"]
    assert stored["provisioningState"] == "Succeeded"
    assert stored["scope"] == {"cluster": {"releaseNamespace": "azureml"}}
    assert stored["releaseTrain"] == "stable"
    # Nothing of the collection's own among the settings the chart gets (issue 16: no private fingerprint key).
    assert [key for key in stored["configurationSettings"] if key.startswith("hciArcMl")] == []
    assert (
        stored["configurationSettings"]["relayserver.hybridConnectionResourceID"]
        == (installed["relay"]["hybrid_connection_id"])
    )
    hybrid_connection = arm.call("GET", installed["relay"]["hybrid_connection_id"], RELAY_API)
    assert hybrid_connection.status_code == 200
    assert hybrid_connection.json()["properties"]["requiresClientAuthorization"] is True
    rule = arm.call("GET", relay_rule_path(arm), RELAY_API).json()
    assert sorted(rule["properties"]["rights"]) == ["Listen", "Manage", "Send"]
    for secret in relay_secrets(arm):
        assert secret not in run.output

    assert len(helm_releases(ext_sandbox)) == 1
    effective = ext_sandbox.kube_api(SITE).get("/api/v1/namespaces/azureml/configmaps/azureml-extension-settings")
    assert effective["data"]["inferenceRouterServiceType"] == "LoadBalancer"
    assert effective["data"]["trainingEnabled"] == "true"
    assert effective["data"]["inferenceEnabled"] == "true"
    assert effective["data"]["clusterPurpose"] == "DevTest"


def test_a_tag_added_to_the_relay_namespace_behind_our_back_stays(ext_sandbox, arm, play):
    namespace_path = relay_rule_path(arm).split("/hybridConnections/")[0]
    namespace = arm.call("GET", namespace_path, RELAY_API).json()
    # Azure Policy's modify effect (or a person) tags the namespace az created with only `created_by`.
    tags = {**namespace["tags"], "CostCenter": "4711"}
    body = {"location": namespace["location"], "sku": namespace["sku"], "tags": tags}
    arm.call("PUT", namespace_path, RELAY_API, json=body).raise_for_status()
    mark = ext_sandbox.admin.last_seq()

    (again,) = play([azureml(**LOAD_BALANCER)], "--diff").results

    assert not again.get("failed") and again["changed"] is False and again["relay"]["created"] == []
    assert arm_writes(arm_calls(ext_sandbox, mark)) == []  # an existing Relay is never written
    assert arm.call("GET", namespace_path, RELAY_API).json()["tags"] == tags


def test_drift_shows_in_check_diff_and_one_changed_setting_is_one_patch_of_that_change(ext_sandbox, play):
    changed = azureml(**LOAD_BALANCER, install_nvidia_device_plugin=True)
    mark = ext_sandbox.admin.last_seq()

    run = play([dict(changed, check_mode=True, diff=True), changed])

    checked, applied = run.results
    check_calls, apply_calls = calls_per_task(ext_sandbox, mark)
    assert checked["changed"] is True
    assert checked["changes"] == ["configurationSettings.installNvidiaDevicePlugin: (unset) -> 'True'"]
    assert "installNvidiaDevicePlugin" not in checked["diff"]["before"]["configuration_settings"]
    assert checked["diff"]["after"]["configuration_settings"]["installNvidiaDevicePlugin"] == "True"
    assert arm_writes(check_calls) == []
    assert not applied.get("failed"), run.output
    assert applied["changed"] is True
    assert applied["extension"]["provisioning_state"] == "Succeeded"
    assert [(method, body) for method, _path, body in arm_writes(apply_calls)] == [
        ("PATCH", {"properties": {"configurationSettings": {"installNvidiaDevicePlugin": "True"}}})
    ]


def test_an_extension_with_the_old_fingerprint_key_loses_it_on_the_next_run(ext_sandbox, arm, play):
    """Versions before issue 16 kept a protected-settings fingerprint in configurationSettings (so in the chart's
    values); a PATCH cannot remove a setting, so the next run PUTs the extension again without it."""
    legacy = "hciArcMlProtectedSettingsFingerprint"
    path = extension_path(arm, "azureml")
    old = {"properties": {"configurationSettings": {legacy: "pbkdf2-sha256$100000$c2FsdA$ZGln"}}}
    arm.call("PATCH", path, EXTENSIONS_API, json=old).raise_for_status()

    def settled():
        return arm.call("GET", path, EXTENSIONS_API).json()["properties"]["provisioningState"] == "Succeeded"

    wait_for(settled, "the extension with the old key")
    current = azureml(**LOAD_BALANCER, install_nvidia_device_plugin=True)
    mark = ext_sandbox.admin.last_seq()

    run = play([current, current], "--diff")

    migrated, again = run.results
    assert not migrated.get("failed"), run.output
    assert migrated["actions"] == [f"update extension azureml (configurationSettings.{legacy})"]
    assert migrated["extension"]["provisioning_state"] == "Succeeded"
    assert migrated["extension"]["protected_settings_fingerprint"] is False
    ((method, _path, body),) = arm_writes(arm_calls(ext_sandbox, mark))
    assert method == "PUT"
    assert legacy not in body["properties"]["configurationSettings"]
    assert body["properties"]["configurationSettings"]["installNvidiaDevicePlugin"] == "True"
    # The PUT replaces the protected settings too, so it carries the complete map.
    assert sorted(body["properties"]["configurationProtectedSettings"]) == [
        "relayServerConnectionString", "relayserver.relayConnectionString",
    ]  # fmt: skip
    assert again["changed"] is False, again
    stored = arm.call("GET", path, EXTENSIONS_API).json()["properties"]
    assert [key for key in stored["configurationSettings"] if key.startswith("hciArcMl")] == []
    assert "pbkdf2" not in run.output
    for secret in relay_secrets(arm):
        assert secret not in run.output


def test_a_router_type_change_rewrites_the_derived_flag_false_and_the_release_stays_succeeded(ext_sandbox, play):
    """NodePort and back: az's update writes scoringFe.serviceType.nodePort true or false (AzureMLKubernetes.py
    __normalize_config); a PATCH merge that left it true would fail the Azure ML release."""
    current = dict(LOAD_BALANCER, install_nvidia_device_plugin=True)
    nodeport = dict(current, inference_router_service_type="NodePort")
    mark = ext_sandbox.admin.last_seq()

    run = play([azureml(**nodeport), azureml(**current), azureml(**current)])

    to_nodeport, back, again = run.results
    for result in (to_nodeport, back):
        assert not result.get("failed"), run.output
        assert result["changed"] is True
        assert result["extension"]["provisioning_state"] == "Succeeded"
    assert again["changed"] is False, again
    patches = [body for method, _path, body in arm_writes(arm_calls(ext_sandbox, mark))]
    assert patches == [
        {"properties": {"configurationSettings": {
            "inferenceRouterServiceType": "NodePort", "scoringFe.serviceType.nodePort": "True",
        }}},
        {"properties": {"configurationSettings": {
            "inferenceRouterServiceType": "LoadBalancer", "scoringFe.serviceType.nodePort": "False",
        }}},
    ]  # fmt: skip
    effective = ext_sandbox.kube_api(SITE).get("/api/v1/namespaces/azureml/configmaps/azureml-extension-settings")
    assert effective["data"]["inferenceRouterServiceType"] == "LoadBalancer"


def test_https_from_pem_files_keeps_certificate_key_and_relay_secret_out_of_output(ext_sandbox, arm, play, tmp_path):
    cert, key, key_pem = self_signed(tmp_path)
    https = dict(LOAD_BALANCER, allow_insecure_connections=False, install_nvidia_device_plugin=True,
                 ssl_cert_file=str(cert), ssl_key_file=str(key), ssl_cname="ml.contoso.example")  # fmt: skip
    mark = ext_sandbox.admin.last_seq()

    run = play([azureml(**https), azureml(**https)], "-vvvv", "--diff")

    first, second = run.results
    assert not first.get("failed"), run.output
    assert first["changed"] is True
    (patch,) = arm_writes(arm_calls(ext_sandbox, mark))
    properties = patch[2]["properties"]
    # The whole protected map is sent (it replaces the old one), with the settings that changed.
    assert sorted(properties["configurationProtectedSettings"]) == [
        "relayServerConnectionString", "relayserver.relayConnectionString", "scoringFe.sslCert", "scoringFe.sslKey",
    ]  # fmt: skip
    # No fingerprint setting any more (issue 16): the new keys (sslCert, sslKey) are why the map is sent.
    assert sorted(properties["configurationSettings"]) == ["allowInsecureConnections", "sslCname"]
    assert second["changed"] is False, second
    secrets = [*relay_secrets(arm), key_pem.decode(), base64.b64encode(key_pem).decode()]
    secrets += [line for line in key_pem.decode().splitlines() if not line.startswith("-----")]
    for secret in secrets:
        assert secret not in run.output


def test_release_namespace_change_fails_unless_recreate(ext_sandbox, arm, play):
    mark = ext_sandbox.admin.last_seq()

    demo = {"extension_type": "microsoft.flux", "configuration_protected_settings": {"token": DEMO_SECRET}}

    run = play([
        extension(name="azureml", extension_type="Microsoft.AzureML.Kubernetes", release_namespace="other"),
        extension(**demo, release_namespace="ns-a"),
        extension(**demo, release_namespace="ns-b"),
        extension(**demo, release_namespace="ns-b", recreate=True),
    ], "-vvvv", "--diff")  # fmt: skip

    on_azureml, created, on_demo, recreated = run.results
    azureml_calls, create_calls, demo_calls, recreate_calls = calls_per_task(ext_sandbox, mark)
    assert on_azureml["failed"] is True
    assert on_azureml["msg"].startswith(
        "Cannot change the release namespace of extension azureml on connectedClusters ext-small (resource group "
        "rg-ext) from 'azureml' to 'other': Azure does not allow changing it on an existing extension. Set recreate: "
        "true"
    )
    assert arm_writes(azureml_calls) == []
    assert created["changed"] is True and created["extension"]["release_namespace"] == "ns-a"
    assert [m for m, _p, _b in arm_writes(create_calls)] == ["PUT"]
    assert on_demo["failed"] is True and "from 'ns-a' to 'ns-b'" in on_demo["msg"]
    assert arm_writes(demo_calls) == []
    assert not recreated.get("failed"), run.output
    assert recreated["changes"] == ["re-created: release namespace 'ns-a' -> 'ns-b'"]
    assert [m for m, _p, _b in arm_writes(recreate_calls)] == ["DELETE", "PUT"]
    stored = arm.call("GET", extension_path(arm, "demo"), EXTENSIONS_API).json()["properties"]
    assert stored["scope"] == {"cluster": {"releaseNamespace": "ns-b"}}
    assert stored["provisioningState"] == "Succeeded"
    assert list(stored["configurationProtectedSettings"]) == ["token"]
    assert DEMO_SECRET not in run.output


def test_a_failed_extension_is_reported_with_azure_s_error_and_repaired_on_request(ext_sandbox, arm, play):
    error = {"code": "ExtensionOperationFailed", "message": "helm install failed: pod healthcheck failed (E40002)"}
    ext_sandbox.admin.report_extension(extension_path(arm, "demo"), "Failed", error)
    demo = {"extension_type": "microsoft.flux", "release_namespace": "ns-b",
            "configuration_protected_settings": {"token": DEMO_SECRET}}  # fmt: skip
    mark = ext_sandbox.admin.last_seq()

    run = play([extension(**demo), extension(**demo, repair_failed=True), extension(**demo)])

    reported, repaired, settled = run.results
    assert reported["failed"] is True
    assert (
        "is Failed in Azure: ExtensionOperationFailed: helm install failed: pod healthcheck failed (E40002)"
        in (reported["msg"])
    )
    assert reported["extension"]["error"] == error
    assert repaired["changes"] == ["re-created: it is Failed"]
    assert repaired["extension"]["provisioning_state"] == "Succeeded"
    assert settled["changed"] is False
    assert [m for m, _p, _b in arm_writes(arm_calls(ext_sandbox, mark))] == ["DELETE", "PUT"]


def test_info_lists_and_reads_extensions(play):
    run = play([info(), info(name="azureml"), info(name="missing")])

    listed, one, missing = run.results
    assert sorted(e["name"] for e in listed["extensions"]) == ["azureml", "demo"]
    (azureml_ext,) = one["extensions"]
    assert azureml_ext["provisioning_state"] == "Succeeded"
    # Issue 16: the collection no longer keeps a fingerprint in the extension's settings.
    assert azureml_ext["protected_settings_fingerprint"] is False
    assert "hciArcMlProtectedSettingsFingerprint" not in azureml_ext["configuration_settings"]
    assert missing["extensions"] == []


# A cluster whose agents never answer, then removal.


def test_extension_on_a_cluster_that_is_not_connected_fails_with_the_azure_error(ext_sandbox, arm, play):
    _pem, public_key = new_onboarding_key()
    body = {"location": "eastus", "identity": {"type": "SystemAssigned"},
            "properties": {"agentPublicKeyCertificate": public_key, "distribution": "aks_workload"}}  # fmt: skip
    arm.call("PUT", arm.cluster_id(RESOURCE_GROUP, "ext-offline"), "2024-01-01", json=body).raise_for_status()

    run = play([azureml(cluster="ext-offline", training=True)])

    (result,) = run.results
    assert result["failed"] is True
    assert "Azure PUT " in result["msg"]
    assert "ExtensionOperationFailed" in result["msg"]
    assert "Unable to get response from the Agent in time" in result["msg"]
    assert "x-ms-request-id" in result["msg"]
    assert "check that the cluster is connected to Azure Arc" in result["msg"]
    assert "Check the task's options" not in result["msg"]
    assert result["extension"]["provisioning_state"] == "Failed"
    assert any("is Connecting, not Connected" in w for w in result.get("warnings", []))


def test_absent_removes_the_extension_and_its_release(ext_sandbox, arm, play):
    assert helm_releases(ext_sandbox)
    mark = ext_sandbox.admin.last_seq()

    run = play([dict(azureml(state="absent"), check_mode=True, diff=True), azureml(state="absent"),
                azureml(state="absent")])  # fmt: skip

    checked, removed, again = run.results
    check_calls, remove_calls, again_calls = calls_per_task(ext_sandbox, mark)
    assert checked["changed"] is True
    assert checked["diff"]["before"]["name"] == "azureml"
    assert checked["diff"]["after"] == {}
    assert arm_writes(check_calls) == []
    assert not removed.get("failed"), run.output
    assert removed["changed"] is True
    assert removed["extension"] == {}
    assert [m for m, _p, _b in arm_writes(remove_calls)] == ["DELETE"]
    assert remove_calls[-1][0] == "GET", "the delete was not confirmed"
    assert again["changed"] is False
    assert arm_writes(again_calls) == []
    assert arm.call("GET", extension_path(arm, "azureml"), EXTENSIONS_API).status_code == 404
    assert helm_releases(ext_sandbox) == []
