"""Bad inputs: each fails with one clear line that names the problem, no traceback, and nothing changes.

All cases run as the tasks of one play (ignore_errors, so every case runs) at -vvvv; the run's ARM request log
and the Kubernetes audit log of its user show that nothing was written anywhere, and its output is scanned
for every secret the sandbox issued.
"""

import json
import socket
import uuid

import pytest
import yaml
from support import USER, WORKSPACE, find_secrets, site

from bench.measure import kube_writes

SITE = "rel-bad"
GUID = "0f5e5c5a-1b2c-4d3e-8f90-a1b2c3d4e5f6"
# Secrets put in plain configuration_settings (refused, and never printed, not even in the echoed module arguments).
PLAIN_RELAY = (
    "Endpoint=sb://relbad.servicebus.windows.net/;SharedAccessKeyName=azureml_rw;"
    "SharedAccessKey=cmVsLWJhZC1wbGFpbi1yZWxheS1rZXktMDEyMzQ1Njc4OQ=;EntityPath=rel-bad"
)
PLAIN_SAS = "https://relbad.blob.core.windows.net/logs?sv=2022-11-02&sp=rw&sig=cmVsLWJhZC1zYXMtc2ln%3D"
PLAIN_SECRETS = {PLAIN_RELAY: "relay connection string in configuration_settings", PLAIN_SAS: "SAS URL in them"}


@pytest.fixture(scope="module")
def bad(rel_sandbox_factory):
    no_rights = {"name": "no-rights", "rights": "none"}
    sandbox = rel_sandbox_factory("bad", [site(SITE, windows=True)], principals=[no_rights])
    # Registered providers, as in any subscription site.yml has run in: the errors are then about the inputs.
    namespaces = ["Microsoft.Kubernetes", "Microsoft.KubernetesConfiguration", "Microsoft.ExtendedLocation",
                  "Microsoft.MachineLearningServices", "Microsoft.Relay"]  # fmt: skip
    run = sandbox.run_tasks([{"hci.arc_ml.resource_provider": {"namespaces": namespaces}}], label="register")
    assert run.rc == 0, run.output[-2000:]
    return sandbox


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def expired_kubeconfig(sandbox, path):
    """A kubeconfig whose client certificate (signed by the cluster's CA) expired yesterday."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from sandbox.k8s import kubeconfig

    cluster = sandbox.cluster(SITE)
    ca_cert = x509.load_pem_x509_certificate(cluster.pki("ca.crt"))
    ca_key = serialization.load_pem_private_key(cluster.pki("ca.key"), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
                         x509.NameAttribute(NameOID.COMMON_NAME, USER)])  # fmt: skip
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=30)).not_valid_after(now - datetime.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())  # fmt: skip
    text = kubeconfig.render(SITE, cluster.server, cluster.pki("ca.crt"), USER,
                             cert.public_bytes(serialization.Encoding.PEM), key_pem)  # fmt: skip
    path.write_text(text)
    return path


def cases(sandbox):
    """(id, task, a fragment the one-line message must hold): at least 20 kinds of bad input."""
    work = sandbox.work
    kube = {"kubeconfig": str(sandbox.kubeconfig(SITE)), "context": f"{USER}@{SITE}"}
    rg = sandbox.sites[SITE]["resource_group"]
    garbage = work / "garbage.kubeconfig"
    garbage.write_text("apiVersion: v1\nclusters: [ {name: x\n")
    unreachable = work / "unreachable.kubeconfig"
    unreachable.write_text(sandbox.kubeconfig(SITE).read_text().replace(
        sandbox.cluster(SITE).server, f"https://127.0.0.1:{closed_port()}"))  # fmt: skip
    expired = expired_kubeconfig(sandbox, work / "expired.kubeconfig")
    from sandbox.emulator import principal_credentials

    admin = principal_credentials(sandbox.dir / "azure")
    no_rights = principal_credentials(sandbox.dir / "azure", "no-rights")
    providers = {"namespaces": ["Microsoft.Kubernetes"]}
    ext = {"cluster_name": SITE, "resource_group": rg, **kube}
    compute = {"workspace_name": WORKSPACE["name"], "resource_group": WORKSPACE["resource_group"],
               "cluster_name": SITE, "cluster_resource_group": rg}  # fmt: skip
    taint = {"label_selector": "kubernetes.io/os=windows", **kube}
    cluster = sandbox.cluster(SITE)
    token = {"host": cluster.server, "api_key": "not-a-token", "ca_cert": str(cluster.dir / "pki" / "ca.crt")}
    site_kubeconfig = yaml.safe_load(sandbox.kubeconfig(SITE).read_text())
    return [
        # names
        ("arc-resource-group-missing",
         {"hci.arc_ml.connected_cluster": {"name": SITE, "resource_group": "rg-does-not-exist", **kube}},
         "rg-does-not-exist"),
        ("compute-name-digits", {"hci.arc_ml.ml_compute": {"name": "site-01", **compute}}, "site-01"),
        ("compute-name-too-long", {"hci.arc_ml.ml_compute": {"name": "c" * 20, **compute}}, "c" * 20),
        ("compute-workspace-missing",
         {"hci.arc_ml.ml_compute": {"name": "relbad", **dict(compute, workspace_name="mlw-missing")}},
         "mlw-missing"),
        ("provider-namespace-unknown", {"hci.arc_ml.resource_provider": {"namespaces": ["Microsoft.DoesNotExist"]}},
         "Microsoft.DoesNotExist"),
        # names that would change an ARM request path ('..', '.', a final newline, '#', '?'): refused before any
        # request (percent-encoding does not make '..' safe: servers normalise %2E%2E)
        ("path-provider-namespace-dot-dot", {"hci.arc_ml.resource_provider": {"namespaces": [".."]}},
         "namespaces '..' is not a valid resource provider namespace"),
        ("path-arc-resource-group-newline",
         {"hci.arc_ml.connected_cluster": {"name": SITE, "resource_group": rg + "\n", **kube}},
         "resource group '" + rg + "\\n' is not a valid resource group name"),
        ("path-arc-location-hash",
         {"hci.arc_ml.connected_cluster": {"name": SITE, "resource_group": rg, "location": "eastus#x", **kube}},
         "location 'eastus#x' is not a valid Azure location"),
        ("path-arc-info-group-dot", {"hci.arc_ml.connected_cluster_info": {"resource_group": "."}},
         "resource_group '.' is not a valid resource group name"),
        ("path-ext-name-dot-dot",
         {"hci.arc_ml.cluster_extension": {"name": "..", "extension_type": "contoso.logs", "cluster_name": SITE,
                                           "resource_group": rg}},
         "name '..' is not a valid extension name"),
        ("path-ext-cluster-name-query",
         {"hci.arc_ml.azureml_extension": {**ext, "training": True, "cluster_name": SITE + "?api-version=1"}},
         "cluster_name '" + SITE + "?api-version=1' is not a valid cluster name"),
        ("path-relay-namespace-dot-dot",
         {"hci.arc_ml.azureml_extension": {**ext, "training": True, "relay": {"namespace": ".."}}},
         "relay.namespace '..' is not a valid Azure Relay namespace name"),
        ("path-workspace-newline",
         {"hci.arc_ml.ml_compute": {"name": "relbad", **dict(compute, workspace_name=WORKSPACE["name"] + "\n")}},
         "workspace_name '" + WORKSPACE["name"] + "\\n' is not a workspace name"),
        ("path-compute-cluster-group-dot-dot",
         {"hci.arc_ml.ml_compute": {"name": "relbad", **dict(compute, cluster_resource_group="..")}},
         "the resource group in cluster_name and cluster_resource_group '..' is not a valid resource group name"),
        # combinations of settings
        ("ext-no-feature", {"hci.arc_ml.azureml_extension": {"training": False, "inference": False, **ext}},
         "training"),
        ("ext-inference-without-ssl",
         {"hci.arc_ml.azureml_extension": {"inference": True, "allow_insecure_connections": False, **ext}},
         "ssl"),
        ("ext-cert-without-key", {"hci.arc_ml.azureml_extension": {"ssl_cert_file": "/etc/hostname", **ext}},
         "ssl_key_file"),
        ("ext-ssl-files-missing",
         {"hci.arc_ml.azureml_extension": {"inference": True, "ssl_cert_file": str(work / "no.crt"),
                                           "ssl_key_file": str(work / "no.key"), "ssl_cname": "ml.example.com",
                                           "inference_router_service_type": "LoadBalancer", **ext}},
         "no.crt"),
        ("ext-relay-string-in-plain-settings",
         {"hci.arc_ml.azureml_extension": {"training": True, "configuration_settings": {
             "relayserver.relayConnectionString": PLAIN_RELAY}, **ext}},
         "configuration_protected_settings"),
        ("ext-sas-url-in-plain-settings",
         {"hci.arc_ml.cluster_extension": {"name": "logs", "extension_type": "contoso.logs", "configuration_settings": {
             "keyVaultName": "kv-relbad", "upload.url": PLAIN_SAS}, "cluster_name": SITE, "resource_group": rg}},
         "'upload.url'"),
        ("ext-version-with-auto-upgrade",
         {"hci.arc_ml.azureml_extension": {"version": "1.1.0", "auto_upgrade_minor_version": True, **ext}},
         "auto_upgrade_minor_version"),
        ("taint-effect-invalid",
         {"hci.arc_ml.node_taint": {"taints": [{"key": "a", "effect": "Sometimes"}], **taint}}, "Sometimes"),
        ("taint-selector-invalid",
         {"hci.arc_ml.node_taint": {**taint, "label_selector": "kubernetes.io/os in (windows"}}, "windows"),
        ("wait-sleep-zero", {"hci.arc_ml.resource_provider": {**providers, "wait_sleep": 0}}, "wait_sleep"),
        ("preflight-cluster-too-small", {"hci.arc_ml.cluster_preflight": {"min_linux_cpu": 64, **kube}}, "64"),
        # Kubernetes connection and credentials
        ("kubeconfig-missing", {"hci.arc_ml.node_taint": {**taint, "kubeconfig": str(work / "none.yaml")}},
         "none.yaml"),
        ("kubeconfig-garbage", {"hci.arc_ml.node_taint": {**taint, "kubeconfig": str(garbage)}}, "kubeconfig"),
        ("kubeconfig-context-unknown", {"hci.arc_ml.node_taint": {**taint, "context": "no-such-context"}},
         "no-such-context"),
        ("kube-api-unreachable", {"hci.arc_ml.node_taint": {**taint, "kubeconfig": str(unreachable)}}, "127.0.0.1"),
        ("kube-certificate-expired", {"hci.arc_ml.cluster_preflight": {**kube, "kubeconfig": str(expired)}},
         "401"),
        ("kube-token-wrong", {"hci.arc_ml.node_taint": {"label_selector": "kubernetes.io/os=windows", **token}}, "401"),
        # a kubeconfig whose token (as cluster_credentials hands out, a JWT with exp) has expired: fetch a fresh one
        ("kube-token-expired", {"hci.arc_ml.node_taint": {**taint, "kubeconfig": dict(site_kubeconfig, users=[dict(
            site_kubeconfig["users"][0], user={"token": "e30.eyJleHAiOjF9.c2ln"})])}},
         "hci.arc_ml.cluster_credentials"),
        # the kubeconfig as a vault or AWX credential holds it (text or dict): refused without a word of it
        ("kubeconfig-dict-wrong-context",
         {"hci.arc_ml.node_taint": {**taint, "kubeconfig": site_kubeconfig, "context": "no-such-context"}},
         "Context no-such-context is not in the inline kubeconfig"),
        ("kubeconfig-text-not-yaml",
         {"hci.arc_ml.node_taint": {**taint, "context": None,
                                    "kubeconfig": yaml.safe_dump(site_kubeconfig) + "  - [unclosed: {\n"}},
         "The inline kubeconfig is not YAML"),
        ("kubeconfig-path-is-a-directory", {"hci.arc_ml.node_taint": {**taint, "kubeconfig": str(work)}},
         f"kubeconfig {work} is a directory"),
        ("helm-binary-not-helm",
         {"hci.arc_ml.connected_cluster": {"name": SITE, "resource_group": rg, "helm_binary": "/bin/true", **kube}},
         "/bin/true is not helm"),
        # Azure credentials, rights and endpoints
        ("azure-secret-wrong",
         {"hci.arc_ml.resource_provider": {**providers, "client_id": admin["client_id"], "tenant": admin["tenant_id"],
                                           "secret": "not-the-secret"}},
         "AADSTS7000215"),
        ("azure-client-unknown",
         {"hci.arc_ml.resource_provider": {**providers, "client_id": str(uuid.uuid4()), "tenant": admin["tenant_id"],
                                           "secret": "whatever-it-is"}},
         "AADSTS700016"),
        ("azure-tenant-unknown",
         {"hci.arc_ml.resource_provider": {**providers, "client_id": admin["client_id"], "tenant": GUID,
                                           "secret": "whatever-it-is"}},
         GUID),
        ("azure-principal-incomplete",
         {"hci.arc_ml.resource_provider": {**providers, "client_id": admin["client_id"], "secret": "x-secret-x"}},
         "tenant"),
        ("azure-403-on-scope",
         {"hci.arc_ml.resource_provider": {**providers, "client_id": no_rights["client_id"],
                                           "tenant": no_rights["tenant_id"], "secret": no_rights["client_secret"]}},
         "AuthorizationFailed"),
        ("azure-subscription-not-guid", {"hci.arc_ml.resource_provider": {**providers, "subscription_id": "my-sub"}},
         "my-sub"),
        ("azure-subscription-unknown", {"hci.arc_ml.resource_provider": {**providers, "subscription_id": GUID}},
         "SubscriptionNotFound"),
        ("azure-cloud-unknown", {"hci.arc_ml.resource_provider": {**providers, "cloud_environment": "AzureMoon"}},
         "AzureMoon"),
        ("azure-cloud-foreign-login",
         {"hci.arc_ml.resource_provider": {
             **providers, "cloud_environment": sandbox.env["ARCML_SANDBOX_URL"] + "/variants/foreign-login"}},
         "names the login endpoint https://login.arcml-hostile.invalid on host login.arcml-hostile.invalid"),
    ]  # fmt: skip


def test_each_bad_input_fails_with_one_clear_line_and_changes_nothing(bad):
    table = cases(bad)
    assert len(table) >= 20
    tasks = [dict(task, name=case_id, ignore_errors=True) for case_id, task, _ in table]
    run = bad.run_tasks(tasks, label="bad-inputs")
    results = {r["task"]: r for r in run.results}
    problems = []
    for case_id, _task, fragment in table:
        result = results.get(case_id)
        if result is None:
            problems.append(f"{case_id}: did not run")
            continue
        message = result.get("msg") or ""
        if not result["failed"]:
            problems.append(f"{case_id}: did not fail")
        elif result["exception"] or "Traceback" in message or "This is a bug" in message:
            problems.append(f"{case_id}: traceback or unexpected error: {message}")
        elif "\n" in message or not message.strip():
            problems.append(f"{case_id}: not one line: {message!r}")
        elif fragment.lower() not in message.lower():
            problems.append(f"{case_id}: message does not name {fragment!r}: {message}")
        elif result["changed"]:
            problems.append(f"{case_id}: reported a change")
    assert not problems, "\n".join(problems)
    assert "Traceback (most recent call last)" not in run.output
    client_key = yaml.safe_load(bad.kubeconfig(SITE).read_text())["users"][0]["user"]["client-key-data"]
    kube_secrets = {client_key: "client key of the site's kubeconfig", **PLAIN_SECRETS}
    assert find_secrets(run.output + "\n" + json.dumps(run.records), kube_secrets) == []
    assert run.arm_writes() == [], [f"{e['method']} {e['path']}" for e in run.arm_writes()]
    assert [e for events in run.kube.values() for e in kube_writes(events)] == []


@pytest.mark.slow
def test_an_unreachable_azure_endpoint_fails_with_one_line_after_bounded_retries(bad):
    endpoint = f"https://127.0.0.1:{closed_port()}"
    options = {"namespaces": ["Microsoft.Kubernetes"], "cloud_environment": endpoint}
    task = {"name": "unreachable", "ignore_errors": True, "hci.arc_ml.resource_provider": options}
    run = bad.run_tasks([task], label="azure-unreachable")
    (result,) = run.results
    assert result["failed"] and not result["exception"]
    assert endpoint in result["msg"] and "\n" not in result["msg"], result["msg"]
    assert run.wall < 240, run.wall


@pytest.mark.slow
def test_an_invalid_connected_cluster_name_is_refused_before_anything_is_written(bad):
    # connectedClusters names: 1-63 characters, alphanumerics, '-' and '_', starting and ending with an
    # alphanumeric; the module refuses both names below before any request.
    kube = {"kubeconfig": str(bad.kubeconfig(SITE)), "context": f"{USER}@{SITE}"}
    group = bad.sites[SITE]["resource_group"]
    names = ["bad_name!", "a" * 70]
    options = [{"name": name, "resource_group": group, **kube} for name in names]
    tasks = [{"name": o["name"], "ignore_errors": True, "hci.arc_ml.connected_cluster": o} for o in options]
    run = bad.run_tasks(tasks, label="arc-name-invalid")
    for result, name in zip(run.results, names):
        assert result["failed"] and name in (result["msg"] or ""), result
    assert run.arm_writes() == [] and run.kube_writes() == []


def test_a_proxy_password_is_never_printed_when_the_options_fail_validation(bad):
    # AnsibleModule fails inside its constructor on wait_timeout "abc", before the task runs; at -vvvv the
    # failure echoes every option back. Passwords holding URL delimiters, raw and %-escaped.
    import json

    from support import find_secrets

    kube = {"kubeconfig": str(bad.kubeconfig(SITE)), "context": f"{USER}@{SITE}"}
    group = bad.sites[SITE]["resource_group"]
    shapes = {"pl41n-Pr0xy-pw": None, "sl/ash#h4sh?qu3ry": None, "at@s1gn-pw@x": None, "p3rc%2Fent%23pw": "p3rc/ent#pw"}
    tasks = []
    for number, password in enumerate(shapes):
        proxy = {"https_proxy": f"http://ops:{password}@proxy.example:3128", "no_proxy": [".svc"]}
        options = {"name": SITE, "resource_group": group, "proxy": proxy, "wait_timeout": "abc", **kube}
        tasks.append({"name": f"proxy-{number}", "ignore_errors": True, "hci.arc_ml.connected_cluster": options})
    run = bad.run_tasks(tasks, label="proxy-password-bad-input")
    assert len(run.results) == len(shapes)
    for result in run.results:
        message = result.get("msg") or ""
        assert result["failed"] and not result["changed"] and "wait_timeout" in message, result
        assert "\n" not in message and not result["exception"], message
    secrets = {form: "proxy password" for password, decoded in shapes.items() for form in (password, decoded) if form}
    assert find_secrets(run.output + "\n" + json.dumps(run.records), secrets) == []
    assert run.arm_writes() == [] and run.kube_writes() == []
