"""Fixtures of the reliability suite: a sandbox per test module, with audited Kubernetes users.

`rel_sandbox_factory(name, sites, principals=())` starts `python -m sandbox up` on a sites file built from
`sites` (see `site()`), with kube-apiserver audit logs for the suite's users, and stops it at the end of
the module. Emulated operations are short (lro_seconds 1, provider registration 1 s) to keep the suite fast.
Every playbook run on it is secret-scanned (support.RelSandbox.run_playbook, scan.py) against the sandbox's
secret registry, `<sandbox>/azure/secrets.jsonl`.
"""

import os
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
for path in (REPO, REPO / "tests" / "integration"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from support import AUDITED, WORKSPACE, RelSandbox  # noqa: E402

from sandbox.testing import read_env_file, sandbox_cli, testbed_bin  # noqa: E402, F401 -- testbed_bin: a fixture


@pytest.fixture(scope="module")
def rel_sandbox_factory(testbed_bin, tmp_path_factory):  # noqa: F811 -- the fixture imported above
    started = []

    def start(name, sites, principals=(), lro_seconds=1.0):
        directory = tmp_path_factory.mktemp(f"rel-{name}")
        document = {"workspace": WORKSPACE, "sites": sites}
        if principals:
            document["principals"] = list(principals)
        sites_file = directory / "sites.yml"
        sites_file.write_text(yaml.safe_dump(document, sort_keys=False))
        env = {**os.environ, "ARCML_SANDBOX_AUDIT_USERS": AUDITED}
        sandbox_dir = directory / "sandbox"
        started.append(sandbox_dir)
        result = sandbox_cli("up", "--sites", str(sites_file), "--dir", str(sandbox_dir), env=env, check=False)
        assert result.returncode == 0, result.stderr
        work = directory / "work"
        work.mkdir()
        sandbox = RelSandbox(sandbox_dir, read_env_file(sandbox_dir / "env.sh"), {s["name"]: s for s in sites}, work)
        sandbox.admin.settings(lro_seconds=lro_seconds, provider_registration_seconds=1.0)
        return sandbox

    yield start
    for sandbox_dir in started:
        sandbox_cli("down", "--dir", str(sandbox_dir), check=False)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes minutes; in make test and make reliability, not reliability-quick")


def pytest_collection_modifyitems(items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            # A test here runs several playbooks and starts and stops a sandbox: more than the default 600 s
            # on a loaded machine. Every run inside has its own bound (support.RUN_TIMEOUT).
            item.add_marker(pytest.mark.timeout(2400))
