"""The collection's layout and dependency rule (docs/architecture.md), checked on the source with `ast`.

Each test names every offending file:line, so a failure says what to move rather than that something is wrong.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PLUGINS = ROOT / "plugins"
MODULE_UTILS = PLUGINS / "module_utils"
MODULES = PLUGINS / "modules"
COLLECTION = "ansible_collections.hci.arc_ml"
MODULE_UTILS_PREFIX = f"{COLLECTION}.plugins.module_utils"

# The shared layers: what every domain builds on.
FOUNDATION = {"_common", "_azure", "_kube"}
DOMAINS = {"_arc", "_extension", "_azureml", "_compute", "_nodes", "_cluster_access", "_storage"}
# What each foundation package may import besides itself. _common is the base; _azure and _kube are
# independent clients on it. _common.module is the one place that wires them together for a module run.
FOUNDATION_IMPORTS = {"_common": set(), "_azure": {"_common"}, "_kube": {"_common"}}
FOUNDATION_FILE_IMPORTS = {"_common/module.py": {"_azure", "_kube"}}
# The only imports from one domain into another, each with why it is not a layering mistake.
SEAMS = {
    ("_azureml", "_extension"): "the Azure ML extension is a cluster extension: it reuses the settings "
    "normalisation, ExtensionSpec and the extension task",
    ("_compute", "_azureml"): "a compute needs the Azure ML extension's constants (such as its extension type)",
    ("_storage", "_compute"): "a training volume's claim must be in its compute's namespace: the compute is read "
    "with the compute client, in the workspace the compute options name",
}
# Seams that may carry only constants (UPPER_CASE names), not behaviour.
CONSTANTS_ONLY_SEAMS = {("_compute", "_azureml")}
SHIPPED = ("plugins", "roles", "playbooks", "docs", "README.md")
# A citation of the research notes that are not shipped: `specs/<file>.md`, a bare section sign with a number
# (their section numbers), or the notes' own folder. `azure-rest-api-specs/` is a public repository, not one.
SPEC_CITATION = re.compile(r"(?<![\w-])specs/|§\s*\d|/work/shared|\.\./shared")


def python_files(folder):
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def package_files():
    """The files of module_utils' packages (flat files are test_module_utils_is_packages_with_empty_inits')."""
    return [p for p in python_files(MODULE_UTILS) if p.parent != MODULE_UTILS]


def where(path, node=None):
    relative = path.relative_to(ROOT)
    return f"{relative}:{node.lineno}" if node is not None else str(relative)


def parse(path):
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def collection_imports(path, tree):
    """(node, imported module, imported names) for every import of collection code in the file.

    Relative imports are resolved against the file's package, so that `from .errors import X` counts too.
    """
    package = ".".join((COLLECTION, *path.relative_to(ROOT).parent.parts))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(COLLECTION + "."):
                    found.append((node, alias.name, []))
        elif isinstance(node, ast.ImportFrom):
            names = [alias.name for alias in node.names]
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
                found.append((node, module, names))
            elif node.module and node.module.startswith(COLLECTION + "."):
                found.append((node, node.module, names))
    return found


def imported_packages(module, names):
    """The module_utils packages an import reaches: `..module_utils._azure.arm` -> {"_azure"}."""
    if module == MODULE_UTILS_PREFIX:
        return set(names)
    if module.startswith(MODULE_UTILS_PREFIX + "."):
        return {module[len(MODULE_UTILS_PREFIX) + 1 :].split(".")[0]}
    return set()


def package_of(path):
    return path.relative_to(MODULE_UTILS).parts[0]


def test_module_utils_is_packages_with_empty_inits():
    problems = [f"{where(p)}: a flat file; module_utils holds only packages" for p in MODULE_UTILS.glob("*.py")]
    folders = [MODULE_UTILS] + [d for d in MODULE_UTILS.rglob("*") if d.is_dir() and d.name != "__pycache__"]
    for folder in folders:
        init = folder / "__init__.py"
        if folder != MODULE_UTILS and not init.exists():
            problems.append(f"{where(folder)}: no __init__.py")
        elif init.exists() and init.stat().st_size:
            problems.append(f"{where(init)}: not empty (ansible-test's empty-init rule)")
    assert not problems, "\n".join(problems)


def test_packages_import_only_what_the_dependency_rule_allows():
    unknown = sorted({package_of(p) for p in package_files()} - FOUNDATION - DOMAINS)
    assert not unknown, f"packages the rule does not know (add them to FOUNDATION or DOMAINS): {unknown}"
    violations = []
    for path in package_files():
        own = package_of(path)
        file_key = "/".join(path.relative_to(MODULE_UTILS).parts)
        if own in FOUNDATION:
            allowed = {own} | FOUNDATION_IMPORTS[own] | FOUNDATION_FILE_IMPORTS.get(file_key, set())
        else:
            allowed = {own} | FOUNDATION | {to for (source, to) in SEAMS if source == own}
        for node, module, names in collection_imports(path, parse(path)):
            if not module.startswith(MODULE_UTILS_PREFIX):
                violations.append(f"{where(path, node)}: module_utils imports {module} (only module_utils allowed)")
                continue
            for target in sorted(imported_packages(module, names) - allowed):
                violations.append(f"{where(path, node)}: {own} imports {target} ({module})")
            for target in imported_packages(module, names) & allowed:
                constants = [n for n in names if not n.isupper() or n == "*"]
                if (own, target) in CONSTANTS_ONLY_SEAMS and (constants or not names):
                    violations.append(
                        f"{where(path, node)}: {own} may take only constants from {target}, not "
                        f"{', '.join(constants) or module}"
                    )
    assert not violations, "Imports against the dependency rule (docs/architecture.md):\n" + "\n".join(violations)


def test_collection_code_is_imported_at_the_top_of_a_file():
    violations = []
    for path in python_files(PLUGINS):
        tree = parse(path)
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node, module, _names in collection_imports(path, function):
                violations.append(f"{where(path, node)}: {module} imported inside {function.name}()")
    violations = sorted(set(violations))
    assert not violations, "Collection imports belong at the top of the file:\n" + "\n".join(violations)


def test_modules_import_only_module_utils():
    violations = []
    for path in python_files(MODULES):
        for node, module, _names in collection_imports(path, parse(path)):
            if not module.startswith(MODULE_UTILS_PREFIX):
                violations.append(f"{where(path, node)}: imports {module}")
    assert not violations, "A module imports only module_utils, never another module:\n" + "\n".join(violations)


def shipped_text_files():
    for name in SHIPPED:
        target = ROOT / name
        candidates = [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
        for path in candidates:
            if "__pycache__" in path.parts:
                continue
            try:
                yield path, path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue


def test_shipped_files_cite_no_unshipped_research_notes():
    violations = []
    for path, text in shipped_text_files():
        for number, line in enumerate(text.splitlines(), 1):
            if SPEC_CITATION.search(line):
                violations.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not violations, "Cite a public source or a file in docs/ instead:\n" + "\n".join(violations)
