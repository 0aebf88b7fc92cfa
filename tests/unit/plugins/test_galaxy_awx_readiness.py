"""Galaxy and AWX readiness, checked from the files: galaxy.yml's links, meta/runtime.yml's requires_ansible
against tests/sanity's ignore files, and the AWX assets in playbooks/awx (they parse, the credential type's
injectors use only its inputs, the job template runs a playbook that exists, the survey asks for variables
site.yml reads).
"""

import re
from pathlib import Path
from urllib.parse import urlparse

import ansible.release
import pytest
import yaml
from ansible.parsing.utils.yaml import from_yaml

REPO = Path(__file__).resolve().parents[3]
LINK_KEYS = ("repository", "documentation", "homepage", "issues")
PLACEHOLDER_HOSTS = re.compile(r"(^|\.)(example\.(com|org|net)|[^.]+\.(invalid|example|test|localhost)|localhost)$")
PLACEHOLDER_PATHS = re.compile(r"your[-_]?(org|name|user|repo)|<[^>]+>|changeme", re.I)
AWX = REPO / "playbooks" / "awx"
# Jinja references in an AWX injector: {{ field }} or {{ tower.filename.NAME }} / {{ awx.filename.NAME }}.
REFERENCE = re.compile(r"{{\s*([A-Za-z_][\w.]*)\s*}}")


def minor(version):
    major, minor_version = version.split(".")[:2]
    return int(major), int(minor_version)


def test_galaxy_links_are_real_or_absent():
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    for key in LINK_KEYS:
        if key not in galaxy:
            continue
        url = urlparse(galaxy[key])
        assert url.scheme == "https" and url.hostname, f"galaxy.yml {key}: {galaxy[key]!r} is not an https URL"
        assert not PLACEHOLDER_HOSTS.search(url.hostname), f"galaxy.yml {key} points at a placeholder host"
        assert not PLACEHOLDER_PATHS.search(url.path), f"galaxy.yml {key} has a placeholder path"


@pytest.mark.parametrize("url", ["https://example.invalid/hci/arc_ml", "https://github.com/your-org/arc_ml",
                                 "https://www.example.com/x", "https://localhost/x"])  # fmt: skip
def test_the_placeholder_rule_catches_what_was_there(url):
    parsed = urlparse(url)
    assert PLACEHOLDER_HOSTS.search(parsed.hostname) or PLACEHOLDER_PATHS.search(parsed.path)


def requires_ansible_floor():
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    found = re.fullmatch(r">=\s*(\d+\.\d+)\.\d+", runtime["requires_ansible"])
    assert found, f"requires_ansible {runtime['requires_ansible']!r} is not of the form '>=X.Y.Z'"
    return minor(found.group(1))


def ignore_files():
    paths = (REPO / "tests" / "sanity").glob("ignore-*.txt")
    return {minor(path.name[len("ignore-") : -len(".txt")]): path for path in paths}


def test_requires_ansible_matches_the_sanity_ignore_files():
    floor = requires_ansible_floor()
    versions = sorted(ignore_files())
    assert versions and versions[0] == floor, f"the oldest ignore file is not requires_ansible's {floor}"
    expected = [(floor[0], m) for m in range(floor[1], versions[-1][1] + 1)]
    assert versions == expected, "an ignore file for each ansible-core version from requires_ansible up"


def test_make_sanity_has_an_ignore_file_for_the_installed_ansible_core():
    installed = minor(ansible.release.__version__)
    assert installed >= requires_ansible_floor(), "the tests run an ansible-core the collection does not support"
    assert installed in ignore_files()


def test_each_sanity_ignore_entry_is_justified():
    for path in ignore_files().values():
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            if line.strip() and not line.startswith("#"):
                assert number and lines[number - 1].startswith("#"), f"{path.name}:{number + 1} has no reason above it"


def test_the_sanity_copy_ships_tests_sanity():
    makefile = (REPO / "Makefile").read_text()
    exclude = re.search(r"^SANITY_EXCLUDE := (.*)$", makefile, re.M).group(1)
    assert not re.search(exclude, "tests/sanity/ignore-2.19.txt")


def awx_tasks():
    plays = from_yaml((AWX / "configure.yml").read_text())
    return {next(k for k in task if k.startswith("awx.awx.")): task for play in plays for task in play["tasks"]}


def test_the_awx_assets_parse():
    for path in AWX.glob("*.yml"):
        assert from_yaml(path.read_text()) is not None, path
    assert (AWX / "README.md").is_file()


def test_the_credential_type_injectors_use_only_its_inputs():
    credential_type = awx_tasks()["awx.awx.credential_type"]["awx.awx.credential_type"]
    fields = {field["id"] for field in credential_type["inputs"]["fields"]}
    assert set(credential_type["inputs"]["required"]) <= fields
    injectors = credential_type["injectors"]
    files = {key.split(".", 1)[1] if "." in key else "" for key in injectors.get("file", {})}
    templates = list(injectors.get("file", {}).values()) + list(injectors.get("env", {}).values())
    templates += list(injectors.get("extra_vars", {}).values())
    referenced = [name for template in templates for name in REFERENCE.findall(str(template))]
    assert referenced
    for name in referenced:
        if name.startswith(("tower.filename", "awx.filename")):
            # {{ tower.filename }} names the file of `template`, {{ tower.filename.x }} that of `template.x`.
            assert (name.split(".", 2)[2:] or [""])[0] in files, f"the injector references {name!r}: no such file"
        else:
            assert name in fields, f"the injector references {name!r}, which is not an input of the credential type"
    # The modules read a kubeconfig path from K8S_AUTH_KUBECONFIG (plugins/module_utils/_kube/connection.py).
    assert "K8S_AUTH_KUBECONFIG" in injectors["env"]


def test_the_job_template_runs_site_yml_and_its_survey_asks_for_what_site_yml_reads():
    tasks = awx_tasks()
    template = tasks["awx.awx.job_template"]["awx.awx.job_template"]
    assert (REPO / template["playbook"]).is_file()
    site = (REPO / template["playbook"]).read_text()
    questions = template["survey_spec"]["spec"]
    for question in questions:
        assert question["variable"] in site, f"site.yml does not read the survey's {question['variable']}"
        if question["type"] == "multiplechoice":
            assert question["default"] in question["choices"]
    schedule = tasks["awx.awx.schedule"]["awx.awx.schedule"]
    assert schedule["unified_job_template"] == template["name"]
    assert set(schedule["extra_data"]) <= {question["variable"] for question in questions}
    assert schedule["rrule"].startswith("DTSTART:") and "RRULE:FREQ=" in schedule["rrule"]
    assert (
        template["execution_environment"]
        == tasks["awx.awx.execution_environment"]["awx.awx.execution_environment"]["name"]
    )
