"""The helm runner, against a fake helm that records its argv, environment and the files it was handed."""

import json
import os
import stat
import subprocess
import sys
import textwrap

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.connection import KubeConnection
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.helm import HelmError, HelmRunner, find_helm

PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIJKQIBAAKCAgEAonboarding\n-----END RSA PRIVATE KEY-----\n"
API_TOKEN = "eyJhbGciOiJSUzI1NiJ9.kube-api-token"
CONTROLLER_SECRETS = {
    "AZURE_CLIENT_SECRET": "controller-client-secret",
    "AZURE_SECRET": "controller-awx-secret",
    "K8S_AUTH_API_KEY": "controller-k8s-token",
    "HELM_KUBETOKEN": "controller-helm-token",
}


class FakeHelm:
    def __init__(self, path, calls):
        self.path = path
        self.calls = calls


@pytest.fixture
def fake_helm(tmp_path):
    """Write a fake helm; `behaviour` maps a subcommand to its {rc, stdout, stderr}."""

    def make(behaviour=None, version="v3.14.4+g81c902a"):
        record = tmp_path / "calls.jsonl"
        script = tmp_path / "bin" / "helm"
        script.parent.mkdir(exist_ok=True)
        script.write_text(
            textwrap.dedent(
                f"""\
                #!{sys.executable}
                import json, os, stat, sys
                args = sys.argv[1:]
                files = {{}}
                for flag in ("--values", "--kubeconfig"):
                    if flag in args:
                        path = args[args.index(flag) + 1]
                        files[flag] = {{
                            "path": path,
                            "mode": stat.S_IMODE(os.stat(path).st_mode),
                            "dir_mode": stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode),
                            "content": open(path).read(),
                        }}
                with open({str(record)!r}, "a") as log:
                    log.write(json.dumps({{"argv": sys.argv, "env": dict(os.environ), "files": files}}) + "\\n")
                if args[0] == "version":
                    sys.stdout.write({version!r})
                    sys.exit(0)
                answer = {json.dumps(behaviour or {})!r}
                answer = json.loads(answer).get(args[0], {{"rc": 0, "stdout": "{{}}", "stderr": ""}})
                sys.stdout.write(answer.get("stdout", ""))
                sys.stderr.write(answer.get("stderr", ""))
                sys.exit(answer.get("rc", 0))
                """
            )
        )
        script.chmod(0o755)

        def calls():
            return [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []

        return FakeHelm(str(script), calls)

    return make


def host_connection(tmp_path):
    ca = tmp_path / "ca.crt"
    ca.write_text("ca")
    return KubeConnection.from_params({"host": "https://10.0.0.1:6443/", "api_key": API_TOKEN, "ca_cert": str(ca)}, {})


def plain_connection():
    return KubeConnection.from_params({"host": "https://10.0.0.1:6443"}, {})


def runner(binary, connection, environ=None):
    environ = dict(os.environ, **CONTROLLER_SECRETS) if environ is None else environ
    return HelmRunner(binary, connection, secrets=[PRIVATE_KEY], environ=environ)


def all_text(call):
    return json.dumps(call["argv"]) + json.dumps(call["env"])


def test_upgrade_install_keeps_every_secret_off_argv_and_environment(fake_helm, tmp_path):
    release = {
        "name": "azure-arc",
        "namespace": "azure-arc-release",
        "version": 1,
        "info": {"status": "deployed", "description": "Install complete"},
        "chart": {"metadata": {"name": "azure-arc-k8sagents", "version": "1.26.0", "appVersion": "1.26.0"}},
        "config": {"global": {"onboardingPrivateKey": PRIVATE_KEY}},
        "manifest": "kind: Secret\ndata:\n  privateKey: c2VjcmV0",
    }
    helm_bin = fake_helm({"upgrade": {"stdout": json.dumps(release)}})
    helm = runner(helm_bin.path, host_connection(tmp_path))
    values = {"global": {"onboardingPrivateKey": PRIVATE_KEY, "location": "eastus"}}

    summary = helm.upgrade_install("azure-arc", "/charts/azure-arc-k8sagents", "azure-arc-release", values=values)

    assert summary == {
        "name": "azure-arc",
        "namespace": "azure-arc-release",
        "revision": 1,
        "status": "deployed",
        "chart_version": "1.26.0",
    }
    (call,) = helm_bin.calls()
    text = all_text(call)
    for secret in [PRIVATE_KEY.strip(), "MIIJKQIBAAKCAgEAonboarding", API_TOKEN, *CONTROLLER_SECRETS.values()]:
        assert secret not in text
    assert call["argv"][1:6] == ["upgrade", "azure-arc", "/charts/azure-arc-k8sagents", "--install", "--namespace"]
    assert "--wait" in call["argv"] and "600s" in call["argv"]


def test_values_and_the_connections_kubeconfig_are_private_files(fake_helm, tmp_path):
    helm_bin = fake_helm()
    connection = host_connection(tmp_path)
    helm = runner(helm_bin.path, connection)
    helm.upgrade_install("r", "chart", "ns", values={"key": PRIVATE_KEY}, wait=False)

    (call,) = helm_bin.calls()
    values_file, kubeconfig = call["files"]["--values"], call["files"]["--kubeconfig"]
    assert values_file["mode"] == kubeconfig["mode"] == 0o600
    assert values_file["dir_mode"] == kubeconfig["dir_mode"] == 0o700
    assert json.loads(values_file["content"]) == {"key": PRIVATE_KEY}
    # helm reads the very document the Kubernetes client is built from, token and CA included.
    assert json.loads(kubeconfig["content"]) == connection.document
    assert connection.document["users"][0]["user"]["token"] == API_TOKEN
    assert connection.document["clusters"][0]["cluster"] == {
        "server": "https://10.0.0.1:6443",
        "certificate-authority": str(tmp_path / "ca.crt"),
    }
    # The values go right after the command; the kubeconfig stays for the next command, in the process's
    # private scratch directory (removed at exit and on SIGTERM, see test_kube.py).
    assert not os.path.exists(values_file["path"])
    assert not os.path.exists(os.path.dirname(values_file["path"]))
    assert kubeconfig["path"] == connection.kubeconfig_path()
    assert os.path.dirname(os.path.dirname(values_file["path"])) == os.path.dirname(os.path.dirname(kubeconfig["path"]))


def test_files_are_removed_when_helm_fails_too(fake_helm, tmp_path):
    helm_bin = fake_helm({"upgrade": {"rc": 1, "stderr": "Error: INSTALLATION FAILED: context deadline exceeded\n"}})
    with pytest.raises(HelmError):
        runner(helm_bin.path, host_connection(tmp_path)).upgrade_install("r", "chart", "ns", values={"k": "v"})
    (call,) = helm_bin.calls()
    assert not os.path.exists(call["files"]["--values"]["path"])


def test_helm_gets_only_the_resolved_kubeconfig_whatever_the_kubeconfig_said(fake_helm, tmp_path):
    kubeconfig = tmp_path / "kubeconfig-site1.yaml"
    kubeconfig.write_text(
        json.dumps(
            {
                "clusters": [
                    {"name": "c", "cluster": {"server": "https://10.0.0.9:6443", "insecure-skip-tls-verify": True}}
                ],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "site1-admin", "context": {"cluster": "c", "user": "u"}}, {"name": "x"}],
                "current-context": "x",
            }
        )
    )
    helm_bin = fake_helm({"list": {"stdout": "[]"}})
    connection = KubeConnection.from_params(
        {"kubeconfig": str(kubeconfig), "context": "site1-admin", "validate_certs": True}, {}
    )
    assert runner(helm_bin.path, connection).list_releases(name="azure-arc") == []
    call = helm_bin.calls()[0]
    assert call["argv"][1:] == [
        "list",
        "--all",
        "--all-namespaces",
        "--filter",
        "^azure\\-arc$",
        "--output",
        "json",
        "--kubeconfig",
        connection.kubeconfig_path(),
    ]
    handed = json.loads(call["files"]["--kubeconfig"]["content"])
    assert handed["current-context"] == "site1-admin"
    assert handed["clusters"][0]["cluster"] == {"server": "https://10.0.0.9:6443"}  # validate_certs: true wins


def test_environment_is_an_allow_list(fake_helm, tmp_path):
    helm_bin = fake_helm()
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "HTTPS_PROXY": "http://proxy:3128",
        "HELM_CACHE_HOME": str(tmp_path),
        "SOME_TOKEN": "x",
        # Each would make helm reach another cluster, or keep releases elsewhere, than the task's connection.
        "KUBECONFIG": "/elsewhere/config",
        "HELM_DRIVER": "configmap",
        "HELM_NAMESPACE": "kube-system",
        "HELM_KUBECONTEXT": "prod",
        "KUBERNETES_SERVICE_HOST": "10.96.0.1",
        **CONTROLLER_SECRETS,
    }
    runner(helm_bin.path, plain_connection(), environ=environ).run(["repo", "list"])
    env = helm_bin.calls()[0]["env"]
    assert env["HTTPS_PROXY"] == "http://proxy:3128"
    assert env["HELM_CACHE_HOME"] == str(tmp_path)
    assert "SOME_TOKEN" not in env
    assert not set(CONTROLLER_SECRETS) & set(env)
    assert not {"KUBECONFIG", "HELM_DRIVER", "HELM_NAMESPACE", "HELM_KUBECONTEXT", "KUBERNETES_SERVICE_HOST"} & set(env)


def test_helm_failure_is_one_line_with_the_error_and_no_secret(fake_helm, tmp_path):
    stderr = (
        "WARNING: Kubernetes configuration file is group-readable.\n"
        f"Error: INSTALLATION FAILED: values don't meet the specifications: onboardingPrivateKey={PRIVATE_KEY}"
    )
    helm_bin = fake_helm({"upgrade": {"rc": 1, "stderr": stderr}})
    with pytest.raises(HelmError) as caught:
        runner(helm_bin.path, host_connection(tmp_path)).upgrade_install(
            "azure-arc", "chart", "ns", values={"k": PRIVATE_KEY}
        )
    message = caught.value.message
    assert message.startswith("helm upgrade failed (exit 1): Error: INSTALLATION FAILED: values don't meet")
    assert "\n" not in message
    assert "MIIJKQIBAAKCAgEAonboarding" not in message
    assert "********" in message
    assert caught.value.details == {"rc": 1}


def test_json_output_is_parsed_and_garbage_is_an_error(fake_helm, tmp_path):
    helm_bin = fake_helm({"get": {"stdout": '{"global": {"location": "eastus"}}'}, "history": {"stdout": "not json"}})
    helm = runner(helm_bin.path, plain_connection())
    assert helm.run(["get", "values", "azure-arc"], json_output=True) == {"global": {"location": "eastus"}}
    with pytest.raises(HelmError, match="not JSON"):
        helm.run(["history", "azure-arc"], json_output=True)


def test_missing_release_is_false_for_uninstall(fake_helm):
    helm_bin = fake_helm(
        {"uninstall": {"rc": 1, "stderr": "Error: uninstall: Release not loaded: azure-arc: release: not found\n"}}
    )
    helm = runner(helm_bin.path, plain_connection())
    assert helm.uninstall("azure-arc", "azure-arc-release") is False


def test_version_check_accepts_helm_3_only(fake_helm):
    helm_bin = fake_helm()
    assert runner(helm_bin.path, plain_connection()).check_version() == (3, 14, 4)
    assert helm_bin.calls()[0]["argv"][1:] == ["version", "--template", "{{.Version}}"]


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("v4.0.1", r"is helm 4\.0\.1, which hci\.arc_ml does not support; install a helm 3 release \(3\.8 or later\)"),
        ("v3.7.2", r"is helm 3\.7\.2, older than 3\.8; install a helm 3 release"),
        ("", r"is not helm: `helm version` did not print a helm version .*; install a helm 3 release"),
    ],
)
def test_helm_4_old_helm_and_not_helm_are_refused_naming_what_to_install(fake_helm, version, message):
    helm_bin = fake_helm(version=version)
    with pytest.raises(HelmError, match=message):
        runner(helm_bin.path, plain_connection()).check_version()


def test_a_binary_that_fails_its_version_is_not_helm():
    with pytest.raises(HelmError, match=r"^/bin/false is not helm: `false version` did not print a helm version"):
        HelmRunner("/bin/false", plain_connection(), environ={"PATH": "/bin"}).check_version()


def test_helm_that_runs_too_long_is_stopped():
    def too_slow(argv, **kwargs):
        raise subprocess.TimeoutExpired(argv, kwargs["timeout"])

    helm = HelmRunner("/usr/bin/helm", plain_connection(), environ={}, run_process=too_slow)
    with pytest.raises(HelmError, match="helm upgrade did not finish within 660s"):
        helm.upgrade_install("r", "chart", "ns", timeout=600)


def test_find_helm(tmp_path, fake_helm):
    helm_bin = fake_helm()
    assert find_helm(environ={"PATH": os.path.dirname(helm_bin.path)}) == helm_bin.path
    assert find_helm(helm_bin.path) == helm_bin.path
    with pytest.raises(HelmError, match="helm was not found on PATH; install a helm 3 release"):
        find_helm(environ={"PATH": str(tmp_path / "empty")})
    plain = tmp_path / "not-executable"
    plain.write_text("")
    plain.chmod(stat.S_IRUSR)
    with pytest.raises(HelmError, match="is not an executable file"):
        find_helm(str(plain))


def test_a_secret_registered_after_the_runner_was_made_is_masked_too(fake_helm, tmp_path):
    helm_bin = fake_helm({"upgrade": {"rc": 1, "stderr": "Error: bad value late-s3cret"}})
    secrets = set()  # the module's no_log_values: filled as the task goes
    helm = HelmRunner(helm_bin.path, host_connection(tmp_path), secrets=secrets, environ=dict(os.environ))
    secrets.add("late-s3cret")
    with pytest.raises(HelmError) as caught:
        helm.upgrade_install("azure-arc", "chart", "ns", values={})
    assert "late-s3cret" not in caught.value.message and "********" in caught.value.message
