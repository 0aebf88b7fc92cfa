"""AWX / Ansible Automation Platform readiness.

- site.yml through ansible-runner (what AWX runs inside an execution environment) with only the environment
  AWX's Azure Resource Manager credential injects: AZURE_CLIENT_ID, AZURE_SECRET, AZURE_TENANT,
  AZURE_SUBSCRIPTION_ID, AZURE_CLOUD_ENVIRONMENT (plus the CA bundle and PATH, which in AWX come from the
  execution environment image). It converges, a second job changes nothing, and neither job's output nor its
  events hold a secret.
- `ansible-builder create` on execution-environment.yml produces a build context with our Python
  requirements, our system packages, the collection itself and a helm install step.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import RelSandbox, assert_no_secrets, assert_site_converged, site

REPO = Path(__file__).resolve().parents[2]
SITES = ("rel-awx-a", "rel-awx-b")
AWX_AZURE_NAMES = (
    "AZURE_CLIENT_ID",
    "AZURE_SECRET",
    "AZURE_TENANT",
    "AZURE_SUBSCRIPTION_ID",
    "AZURE_CLOUD_ENVIRONMENT",
)


@pytest.fixture(scope="module")
def awx(rel_sandbox_factory):
    return rel_sandbox_factory("awx", [site(SITES[0], windows=True), site(SITES[1])])


def awx_job(sandbox: RelSandbox, ident: str, tmp_path: Path):
    """One job the way AWX starts it: a private data dir with project, inventory and credential environment."""
    import ansible_runner

    private = tmp_path / f"awx-{ident}"
    project = private / "project"
    shutil.copytree(REPO / "playbooks", project / "playbooks")
    (private / "inventory").mkdir(parents=True)
    shutil.copy(sandbox.inventory(), private / "inventory" / "hosts.yml")
    env = {name: sandbox.env[name] for name in AWX_AZURE_NAMES}
    env.update(
        REQUESTS_CA_BUNDLE=sandbox.env["REQUESTS_CA_BUNDLE"],
        # In an execution environment ansible-playbook and helm are on the image's PATH.
        PATH=f"{Path(sys.executable).parent}:{sandbox.env['PATH']}",
        ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "collections"),
        ANSIBLE_NOCOLOR="1",
    )
    outputs = []
    result = ansible_runner.run(
        private_data_dir=str(private),
        playbook="playbooks/site.yml",
        ident=ident,
        envvars=env,
        verbosity=4,
        quiet=True,
        timeout=900,
        event_handler=lambda event: outputs.append(json.dumps(event, default=str)) or True,
    )
    stdout = result.stdout.read()
    return result, stdout, outputs


@pytest.mark.slow
def test_site_yml_through_ansible_runner_with_the_awx_credential_environment(awx, tmp_path):
    # The azure-identity names must not be what makes it work.
    assert {"AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"} <= set(awx.env)
    first, stdout, events = awx_job(awx, "job-1", tmp_path)
    assert first.status == "successful" and first.rc == 0, stdout[-3000:]
    assert first.stats["failures"] == {} and first.stats["dark"] == {}
    assert set(first.stats["changed"]) == set(SITES)
    for name in SITES:
        assert_site_converged(awx, name)
    assert_no_secrets(awx, stdout + "\n".join(events), "ansible-runner job 1")

    second, stdout, events = awx_job(awx, "job-2", tmp_path)
    assert second.status == "successful", stdout[-3000:]
    assert second.stats["changed"] == {}
    assert_no_secrets(awx, stdout + "\n".join(events), "ansible-runner job 2")


def galaxy_version():
    return yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]


def test_ansible_builder_create_makes_a_context_with_our_requirements_and_helm(tmp_path):
    definition = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    tarball = f"hci-arc_ml-{galaxy_version()}.tar.gz"
    # The definition names the tarball of the collection's current version.
    assert definition["additional_build_files"][0]["src"] == f".build/dist/{tarball}"
    assert definition["dependencies"]["galaxy"]["collections"][0]["name"] == f"collections/{tarball}"
    dist = REPO / ".build" / "dist"
    subprocess.run([str(Path(sys.executable).with_name("ansible-galaxy")), "collection", "build", "--force",
                    "--output-path", str(dist), str(REPO)], check=True, capture_output=True, timeout=300)  # fmt: skip
    context = tmp_path / "context"
    builder = Path(sys.executable).with_name("ansible-builder")
    create = [str(builder), "create", "-f", "execution-environment.yml", "-c", str(context),
              "--output-filename", "Containerfile"]  # fmt: skip
    subprocess.run(create, cwd=REPO, check=True, capture_output=True, timeout=300)

    build = context / "_build"
    ours = [line.split(">=")[0] for line in (REPO / "meta" / "ee-requirements.txt").read_text().splitlines()
            if line and not line.startswith("#")]  # fmt: skip
    requirements = (build / "requirements.txt").read_text()
    assert ours and all(name in requirements for name in ours)
    assert "azure-identity" in ours and "kubernetes" in ours
    assert "openssl [platform:rpm]" in (build / "bindep.txt").read_text()
    assert (build / "collections" / tarball).is_file()
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    assert galaxy["collections"] == [{"name": f"collections/{tarball}", "type": "file"}]

    containerfile = (context / "Containerfile").read_text()
    builder_stage = containerfile[
        containerfile.index("FROM base AS builder") : containerfile.index("FROM base AS final")
    ]
    final = containerfile[containerfile.index("FROM base AS final") :]
    # helm comes from the Go module proxy (a package registry), version-stamped so that `helm version` prints it.
    assert "ARG HELM_VERSION=" in builder_stage and "go install" in builder_stage
    assert (
        "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" in builder_stage
        and "version.version=${HELM_VERSION}" in builder_stage
    )
    assert "COPY --from=builder /output/ /output/" in final and "/output/helm/helm /usr/local/bin/helm" in final
    assert "ansible-galaxy collection install" in containerfile and "introspect" in containerfile
    assert "ansible-runner" in containerfile and "ansible-core" in containerfile
    # The collection that goes in carries its own EE metadata, which introspection reads when it is installed.
    import tarfile

    with tarfile.open(build / "collections" / tarball) as archive:
        names = archive.getnames()
    assert {"meta/execution-environment.yml", "meta/ee-requirements.txt", "meta/ee-bindep.txt"} <= set(names)
    assert not any(name.startswith(("sandbox/", "tests/", "bench/")) for name in names)
