"""The files `sandbox up` writes for users and tests: inventory, env.sh, kubeconfigs."""

import os
import shlex
from pathlib import Path

import yaml

INVENTORY_GROUP = "hci_clusters"


def kubeconfig_path(sandbox_dir, site_name: str) -> Path:
    return Path(sandbox_dir) / f"kubeconfig-{site_name}.yaml"


def write_kubeconfig(sandbox_dir, site_name: str, admin_kubeconfig: Path) -> Path:
    path = kubeconfig_path(sandbox_dir, site_name)
    path.write_bytes(Path(admin_kubeconfig).read_bytes())
    path.chmod(0o600)
    return path


def inventory(sites, sandbox_dir, contexts: dict) -> dict:
    """One host per site, with every variable playbooks/site.yml needs."""
    hosts = {}
    for site in sites.sites:
        hosts[site.name] = {
            "arcml_cluster_name": site.name,
            "arcml_resource_group": site.resource_group,
            "arcml_location": site.location,
            "arcml_kubeconfig": str(kubeconfig_path(sandbox_dir, site.name)),
            "arcml_kube_context": contexts[site.name],
        }
    return {
        INVENTORY_GROUP: {
            "hosts": hosts,
            "vars": {
                "ansible_connection": "local",
                "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                "arcml_workspace_name": sites.workspace.name,
                "arcml_workspace_resource_group": sites.workspace.resource_group,
            },
        }
    }


def write_inventory(sites, sandbox_dir, contexts: dict) -> Path:
    path = Path(sandbox_dir) / "inventory.yml"
    header = "# Written by `python -m sandbox up`: one host per sandbox site.\n"
    path.write_text(header + yaml.safe_dump(inventory(sites, sandbox_dir, contexts), sort_keys=False))
    return path


def write_env(sandbox_dir, env: dict, testbed_bin) -> Path:
    """env.sh: `source` it and the modules, helm and kubectl talk to the sandbox."""
    path = Path(sandbox_dir) / "env.sh"
    # site.yml records each site's last outcome under ARCML_STATE_DIR (playbooks/vars/paths.yml): in the
    # sandbox's own directory, never in the user's ~/.local/state.
    env = {**env, "ARCML_STATE_DIR": Path(sandbox_dir).resolve() / "state"}
    lines = ["# Written by `python -m sandbox up`. Source it: . " + shlex.quote(str(path))]
    lines += [f"export {key}={shlex.quote(str(value))}" for key, value in sorted(env.items())]
    lines.append(f'export PATH={shlex.quote(str(testbed_bin))}:"$PATH"')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path
