"""The sandbox as integration tests see it: `python -m sandbox` runs and what env.sh exports."""

import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SITES = Path(__file__).resolve().parent / "sites.yml"


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


def sandbox_cli(*args, check=True, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        cwd=REPO,
        check=check,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
