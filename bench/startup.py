"""Module start-up: what each module imports, on its own and along the code path a real run takes.

Two measurements:
- `module_file_imports`: importing the module file alone (what every task of it pays before any work), in a
  fresh interpreter, repeated; which third-party packages that loads (none is the goal).
- `code_path_imports`: a real run of site.yml whose module processes run under `python -X importtime`
  (through an interpreter wrapper); per module, the import time of the whole process and by top-level
  package (ansible, azure, msal, kubernetes, cryptography, ...).
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from .measure import COLLECTIONS, REPO, median

MODULES_DIR = REPO / "plugins" / "modules"
# Packages whose import is worth naming in the report.
NAMED_ROOTS = ("ansible", "azure", "msal", "kubernetes", "cryptography", "yaml", "requests", "urllib3", "jwt")
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")

_PROBE = """
import importlib, json, sys, time
sys.path.insert(0, {collections!r})
before = set(sys.modules)
started = time.perf_counter()
importlib.import_module({name!r})
seconds = time.perf_counter() - started
roots = sorted({{m.split('.')[0] for m in set(sys.modules) - before}})
print(json.dumps({{"seconds": seconds, "roots": roots}}))
"""


def module_names() -> list:
    return sorted(p.stem for p in MODULES_DIR.glob("*.py") if not p.name.startswith("_"))


def module_file_imports(repeats: int = 5) -> dict:
    """module -> {"seconds": median import time of the module file, "third_party": [packages it loads]}."""
    results = {}
    for name in module_names():
        dotted = f"ansible_collections.hci.arc_ml.plugins.modules.{name}"
        samples, roots = [], set()
        for _ in range(repeats):
            out = subprocess.run(
                [sys.executable, "-c", _PROBE.format(collections=str(COLLECTIONS), name=dotted)],
                capture_output=True, text=True, check=True, timeout=120,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            ).stdout  # fmt: skip
            probe = json.loads(out.strip().splitlines()[-1])
            samples.append(probe["seconds"])
            roots.update(probe["roots"])
        third_party = sorted(r for r in roots if r in NAMED_ROOTS and r != "ansible")
        results[name] = {"seconds": median(samples), "third_party": third_party}
    return results


def write_wrapper(directory: Path) -> Path:
    """An interpreter for ansible_python_interpreter that runs each module under -X importtime."""
    directory.mkdir(parents=True, exist_ok=True)
    wrapper = directory / "python-importtime"
    wrapper.write_text(
        "#!/bin/sh\n"
        "# Runs an AnsiballZ module with -X importtime; the import log goes to one file per process.\n"
        'name=$(basename "${1:-stdin}" .py)\n'
        f'exec {sys.executable} -X importtime "$@" 2>"{directory}/$name.$$.log"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP)
    return wrapper


def parse_importtime(text: str) -> dict:
    """{"total": seconds, "by_root": {root: seconds}, "loaded": [roots]} of one -X importtime log.

    Top-level entries (no indentation) add up to the process's import time; a package imported inside
    another counts for the outer one, which is how its cost is paid.
    """
    total, by_root, loaded = 0, {}, set()
    for line in text.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        cumulative, indent, name = int(match.group(2)), len(match.group(3)), match.group(4)
        root = name.split(".")[0]
        loaded.add(root)
        if indent <= 1:
            total += cumulative
            by_root[root] = by_root.get(root, 0) + cumulative
    return {
        "total": total / 1e6,
        "by_root": {k: v / 1e6 for k, v in sorted(by_root.items(), key=lambda kv: -kv[1])},
        "loaded": sorted(loaded),
    }


def code_path_imports(log_dir: Path) -> dict:
    """module -> median import profile over the processes the wrapper logged in `log_dir`."""
    per_module = {}
    for path in sorted(log_dir.glob("AnsiballZ_*.log")):
        module = path.name[len("AnsiballZ_") :].split(".", 1)[0]
        per_module.setdefault(module, []).append(parse_importtime(path.read_text(errors="replace")))
    summary = {}
    for module, profiles in sorted(per_module.items()):
        roots = {}
        for profile in profiles:
            for root, seconds in profile["by_root"].items():
                roots.setdefault(root, []).append(seconds)
        named = {}
        for root in NAMED_ROOTS:
            if root in roots:
                named[root] = median(roots[root] + [0.0] * (len(profiles) - len(roots[root])))
        summary[module] = {
            "processes": len(profiles),
            "total": median([p["total"] for p in profiles]),
            "by_package": named,
            "loaded": sorted(set().union(*(set(p["loaded"]) for p in profiles)) & set(NAMED_ROOTS)),
        }
    return summary
