"""The sandbox as tests see it: `python -m sandbox` runs, what env.sh exports, a bare emulator, the testbed
fixtures, and Arc onboarding by hand. Shared by the collection's integration and reliability suites and the
sandbox's own tests (sandbox/tests); not shipped.
"""

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def read_env_file(path: Path) -> dict:
    """The variables an env.sh exports (PATH resolved against this process's PATH)."""
    env = {}
    for line in path.read_text().splitlines():
        if not line.startswith("export "):
            continue
        name, _, value = line[len("export ") :].partition("=")
        env[name] = shlex.split(value.replace('"$PATH"', os.environ["PATH"]))[0]
    return env


@dataclass
class Sandbox:
    """A running `python -m sandbox up`: its directory, the env.sh variables and the admin client."""

    dir: Path
    env: dict

    @property
    def inventory(self) -> Path:
        return self.dir / "inventory.yml"

    @property
    def admin(self):
        from sandbox.emulator.client import AdminClient

        return AdminClient(self.env["ARCML_SANDBOX_URL"], self.env["REQUESTS_CA_BUNDLE"])

    def kubeconfig(self, site: str) -> Path:
        return self.dir / f"kubeconfig-{site}.yaml"

    def kube_api(self, site: str):

        from sandbox.k8s.controlplane import Cluster

        state = json.loads((self.dir / "clusters" / site / "cluster.json").read_text())
        return Cluster(site, self.dir / "clusters" / site, state["ports"]["api"]).api()

    def process_env(self) -> dict:
        """This process's environment plus env.sh: what a user has after sourcing it."""
        return {**os.environ, **self.env}


def sandbox_cli(*args, check=True, timeout=300, env=None):
    """`python -m sandbox ARGS` in the repository, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        cwd=REPO,
        env=env,
        check=check,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# Emulator settings for playbook tests: Azure's operations and provider registrations finish in half a second.
FAST_OPERATIONS = {"lro_seconds": 0.5, "provider_registration_seconds": 0.5}


@contextmanager
def running_sandbox(sites, directory, **settings):
    """`python -m sandbox up` on the sites file `sites` in `directory`, with the emulator `settings` applied;
    stopped when the block ends."""
    sandbox_cli("up", "--sites", str(sites), "--dir", str(directory))
    try:
        sandbox = Sandbox(directory, read_env_file(directory / "env.sh"))
        if settings:
            sandbox.admin.settings(**settings)
        yield sandbox
    finally:
        sandbox_cli("down", "--dir", str(directory), check=False)


# A bare `python -m sandbox.emulator` (Azure only, no testbeds), for tests that start one of their own.

EMULATOR_START_TIMEOUT = 30.0
EMULATOR_STOP_TIMEOUT = 10.0


@dataclass
class RunningEmulator:
    """A running `python -m sandbox.emulator`, from `RunningEmulator.start`; as a context manager, stopped when
    the block ends. Tests subclass it for what they read of the emulator."""

    directory: Path
    process: subprocess.Popen
    log_path: Path
    url: str
    ca_bundle: str

    @classmethod
    def start(cls, directory: Path, sites=None, *options: str, port=0, lro_seconds=None, **settings):
        """The emulator with its state in `directory`, seeded from `sites` (a sites file, or its content: written to
        sites.yml beside `directory`), on `port` (0: any free port), its output in `directory`.log beside it.
        `options` are further command-line options; `settings` are applied through its admin API once it is up."""
        if isinstance(sites, dict):
            sites = _write_sites_file(directory.parent / "sites.yml", sites)
        command = _emulator_command(directory, sites, port, lro_seconds)
        log_path = directory.parent / f"{directory.name}.log"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [*command, *options], cwd=REPO, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        info = _wait_until_ready(directory, process, log_path)
        running = cls(directory, process, log_path, info["url"], info["ca_bundle"])
        try:
            if settings:
                running.admin.settings(**settings)
        except BaseException:
            running.stop()
            raise
        return running

    @property
    def env(self) -> dict:
        """What env.sh exports for this emulator (sandbox.emulator.client_env)."""
        from sandbox.emulator import client_env

        return client_env(self.directory)

    @property
    def subscription_id(self) -> str:
        return self.env["AZURE_SUBSCRIPTION_ID"]

    @cached_property
    def admin(self):
        """The emulator's /_sandbox/ API."""
        from sandbox.emulator.client import AdminClient

        return AdminClient(self.url, self.ca_bundle)

    def stop(self) -> None:
        """SIGTERM, and SIGKILL if it has not exited within EMULATOR_STOP_TIMEOUT."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(EMULATOR_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(EMULATOR_STOP_TIMEOUT)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def _write_sites_file(path: Path, sites: dict) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(sites))
    return path


def _emulator_command(directory: Path, sites, port: int, lro_seconds) -> list:
    command = [sys.executable, "-m", "sandbox.emulator", "--dir", str(directory), "--port", str(port)]
    if sites is not None:
        command += ["--sites", str(sites)]
    if lro_seconds is not None:
        command += ["--lro-seconds", str(lro_seconds)]
    return command


def _wait_until_ready(directory: Path, process: subprocess.Popen, log_path: Path) -> dict:
    """emulator.json once the emulator has written it; the test fails if the emulator exits or is not ready in
    time (and is killed then)."""
    from sandbox.emulator.env import read_info
    from sandbox.emulator.paths import EmulatorPaths

    deadline = time.monotonic() + EMULATOR_START_TIMEOUT
    while not EmulatorPaths(directory).info.exists():
        if process.poll() is not None:
            pytest.fail(f"the emulator exited with {process.returncode}; see {log_path}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the emulator was not ready within {EMULATOR_START_TIMEOUT}s; see {log_path}")
        time.sleep(0.05)
    return read_info(directory)


# pytest fixtures: a conftest.py imports the ones its tests use.


@pytest.fixture(scope="session")
def testbed_bin() -> Path:
    """The directory of the testbed binaries, built (or found in the cache) by sandbox/k8s/build.sh."""
    out = subprocess.run(
        ["bash", str(REPO / "sandbox" / "k8s" / "build.sh")], check=True, stdout=subprocess.PIPE, text=True
    )
    return Path(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def testbed_env(testbed_bin) -> dict:
    """The environment with the testbed's helm and kubectl first on PATH."""
    return {**os.environ, "PATH": f"{testbed_bin}{os.pathsep}{os.environ['PATH']}"}


@pytest.fixture(scope="session")
def start_cluster(testbed_bin, tmp_path_factory):
    """A factory that starts testbed clusters; every one is stopped at the end of the session."""
    from sandbox.k8s.controlplane import start_cluster as start

    started = []

    def _start(name: str):
        cluster = start(name, tmp_path_factory.mktemp(f"cluster-{name}"), testbed_bin)
        started.append(cluster)
        return cluster

    yield _start
    for cluster in started:
        cluster.stop()


# Arc onboarding done by hand (the SDK and helm), for tests of modules that need a Connected cluster
# without depending on the connected_cluster module.

ARC_CHART = REPO / "sandbox" / "charts" / "azure-arc"
CONNECT_TIMEOUT = 60.0


def wait_for(predicate, what, timeout=CONNECT_TIMEOUT, interval=0.1):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(interval)


def new_onboarding_key(bits=2048):
    """(private key PEM, agentPublicKeyCertificate) the way az connectedk8s encodes them."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return pem, base64.b64encode(der).decode()


class ArmSession:
    """Plain ARM calls against the sandbox with a token from its Entra ID stand-in."""

    def __init__(self, env):
        import requests

        self.env = env
        self.session = requests.Session()
        # Only the sandbox's CA: the machine's REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE would otherwise win.
        self.session.trust_env = False
        self.session.verify = env["REQUESTS_CA_BUNDLE"]
        base = env["AZURE_CLOUD_ENVIRONMENT"].rstrip("/")
        metadata = self.session.get(f"{base}/metadata/endpoints?api-version=2022-09-01", timeout=10).json()
        scope = metadata["authentication"]["audiences"][0].rstrip("/") + "/.default"
        token = self.session.post(
            f"{metadata['authentication']['loginEndpoint'].rstrip('/')}/{env['AZURE_TENANT_ID']}/oauth2/v2.0/token",
            data={"grant_type": "client_credentials", "client_id": env["AZURE_CLIENT_ID"],
                  "client_secret": env["AZURE_CLIENT_SECRET"], "scope": scope},
            timeout=10,
        )  # fmt: skip
        token.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        self.base = base
        self.subscription = f"/subscriptions/{env['AZURE_SUBSCRIPTION_ID']}"

    def call(self, method, path, api_version, **kwargs):
        sep = "&" if "?" in path else "?"
        return self.session.request(method, f"{self.base}{path}{sep}api-version={api_version}", timeout=30, **kwargs)

    def register(self, *namespaces):
        for namespace in namespaces:
            self.call("POST", f"{self.subscription}/providers/{namespace}/register", "2022-09-01").raise_for_status()

        def state(ns):
            return self.call("GET", f"{self.subscription}/providers/{ns}", "2022-09-01").json()["registrationState"]

        wait_for(lambda: all(state(ns) == "Registered" for ns in namespaces), "provider registration")

    def cluster_id(self, resource_group, name):
        provider = "providers/Microsoft.Kubernetes/connectedClusters"
        return f"{self.subscription}/resourceGroups/{resource_group}/{provider}/{name}"


def connect_site(sandbox, site, resource_group, location="eastus", name=None):
    """Onboard a sandbox site to Arc by hand and wait until ARM reports it Connected; return its ARM id."""
    name = name or site
    arm = ArmSession(sandbox.env)
    arm.register("Microsoft.Kubernetes", "Microsoft.KubernetesConfiguration", "Microsoft.ExtendedLocation")
    pem, public = new_onboarding_key()
    cluster_id = arm.cluster_id(resource_group, name)
    body = {"location": location, "identity": {"type": "SystemAssigned"},
            "properties": {"agentPublicKeyCertificate": public, "distribution": "aks_workload",
                           "infrastructure": "azure_stack_hci"}}  # fmt: skip
    arm.call("PUT", cluster_id, "2024-01-01", json=body).raise_for_status()
    values = {"global": {"subscriptionId": sandbox.env["AZURE_SUBSCRIPTION_ID"], "resourceGroupName": resource_group,
                         "resourceName": name, "location": location, "tenantId": sandbox.env["AZURE_TENANT_ID"],
                         "onboardingPrivateKey": pem}}  # fmt: skip
    import requests

    # The cloud values az connectedk8s sets from /metadata/endpoints, without which the stand-in agents (like the
    # real ones) cannot reach the emulator's custom cloud: its name upper-cased and its Arc config endpoint.
    cloud = requests.get(f"{sandbox.env['AZURE_CLOUD_ENVIRONMENT']}/metadata/endpoints?api-version=2022-09-01",
                         verify=sandbox.env["REQUESTS_CA_BUNDLE"], timeout=10).json()  # fmt: skip
    values["global"]["azureEnvironment"] = cloud["name"].upper()
    endpoint = cloud["dataplaneEndpoints"]["arcConfigEndpoint"]
    values["systemDefaultValues"] = {"azureArcAgents": {"config_dp_endpoint_override": endpoint}}
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(values, f)
        f.flush()
        subprocess.run(
            ["helm", f"--kubeconfig={sandbox.kubeconfig(site)}", "upgrade", "--install", "azure-arc", str(ARC_CHART),
             "--namespace", "azure-arc-release", "--create-namespace", "--values", f.name],
            env=sandbox.process_env(), check=True, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    wait_for(
        lambda: arm.call("GET", cluster_id, "2024-01-01").json()["properties"].get("connectivityStatus") == "Connected",
        f"{name} Connected",
    )
    return cluster_id
