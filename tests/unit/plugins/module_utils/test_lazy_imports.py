"""Module start-up imports no SDK: each task pays only for the libraries its code path uses."""

import subprocess
import sys
from pathlib import Path

COLLECTIONS = Path(__file__).resolve().parents[4] / ".build" / "collections"
MODULES = [
    "ansible_collections.hci.arc_ml.plugins.modules.resource_provider",
    "ansible_collections.hci.arc_ml.plugins.module_utils._common.module",
    "ansible_collections.hci.arc_ml.plugins.module_utils._azure.auth",
    "ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm",
    "ansible_collections.hci.arc_ml.plugins.module_utils._azure.cloud",
    "ansible_collections.hci.arc_ml.plugins.module_utils._azure.errors",
    "ansible_collections.hci.arc_ml.plugins.module_utils._azure.policies",
    "ansible_collections.hci.arc_ml.plugins.module_utils._azure.token_cache",
    "ansible_collections.hci.arc_ml.plugins.module_utils._kube.connection",
    "ansible_collections.hci.arc_ml.plugins.module_utils._kube.helm",
    "ansible_collections.hci.arc_ml.plugins.module_utils._common.wait",
]
HEAVY = ("azure", "msal", "kubernetes", "requests", "cryptography", "yaml")


def test_importing_the_module_and_its_utils_loads_no_sdk():
    probe = (
        f"import sys; sys.path.insert(0, {str(COLLECTIONS)!r})\n"
        + "".join(f"import {name}\n" for name in MODULES)
        + f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
