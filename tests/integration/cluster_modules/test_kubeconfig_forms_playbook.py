"""The kubeconfig as fleets hold it: a path, its text (a vault lookup) or a dict, through ansible-playbook.

Each form reaches the same real kube-apiserver, a second run changes nothing, and at -vvvv neither the
kubeconfig's key nor its text shows up anywhere; bad kubeconfigs fail with one line and write nothing; an
explicit kubeconfig beats the K8S_AUTH_* variables of an AWX Kubernetes credential; validate_certs forces
verification over the kubeconfig's insecure-skip-tls-verify.
"""

import json
import os
import re
from pathlib import Path

import pytest
import yaml
from cluster_helpers import dump, task

pytestmark = pytest.mark.testbed

WINDOWS = ["mixed-win-1", "mixed-win-2"]


def forms(cluster):
    """Play variables holding the cluster's kubeconfig in each form, as inventory or vault variables would."""
    text = Path(cluster.kubeconfig).read_text()
    return {"kubeconfig_path": cluster.kubeconfig, "kubeconfig_text": text, "kubeconfig_dict": yaml.safe_load(text)}


def leftover_scratch(tmp_path):
    """Private directories a module process left behind in the run's temp directory."""
    return sorted(p.name for p in (tmp_path / "tmp").glob("hci-arc-ml-*"))


@pytest.fixture
def run_with_tmp(playbook, tmp_path):
    """The playbook runner with the run's own TMPDIR, to see what the modules leave behind."""
    (tmp_path / "tmp").mkdir()

    def run(tasks, *args, env=None, **kwargs):
        return playbook(tasks, *args, env=dict(env or {}, TMPDIR=str(tmp_path / "tmp")), **kwargs)

    return run


def test_every_form_reaches_the_cluster_twice_without_change_and_prints_no_content(
    pristine_taints, run_with_tmp, tmp_path
):
    mixed = pristine_taints
    variables = forms(mixed)
    tasks = [
        task("node_taint", kubeconfig="{{ kubeconfig_text }}"),
        task("node_taint", kubeconfig="{{ kubeconfig_dict }}"),
        task("node_taint", kubeconfig="{{ kubeconfig_path }}"),
    ]

    run = run_with_tmp(tasks, "-vvvv", play_vars=variables)
    check = run_with_tmp(tasks, "--check", "--diff", "-vvvv", play_vars=variables)

    first, second, third = run.results
    assert not run.failed and not check.failed, dump(run) + dump(check)
    assert first["changed"] is True and first["matched_nodes"] == WINDOWS
    assert second["changed"] is False and third["changed"] is False
    assert [r["changed"] for r in check.results] == [False, False, False]
    # At -vvvv each result echoes its module arguments: an inline kubeconfig reads as a placeholder.
    assert run.output.count('"kubeconfig": "(inline kubeconfig)"') == 2, run.output[-3000:]
    assert f'"kubeconfig": "{mixed.kubeconfig}"' in run.output
    everything = run.output + check.output + json.dumps(run.results + check.results)
    for secret in mixed.secrets():
        assert secret not in everything
    assert leftover_scratch(tmp_path) == []


def test_bad_kubeconfigs_fail_with_one_line_naming_the_problem_and_write_nothing(mixed, run_with_tmp, tmp_path):
    variables = forms(mixed)
    variables["wrong_context"] = dict(variables["kubeconfig_dict"], **{"current-context": "elsewhere"})
    variables["not_yaml"] = variables["kubeconfig_text"] + "\n  - [unclosed: {\n"
    before = mixed.versions()
    cases = {
        "Context elsewhere is not in the inline kubeconfig (its contexts: ": "{{ wrong_context }}",
        "The inline kubeconfig is not YAML: ": "{{ not_yaml }}",
        f"kubeconfig {tmp_path} is a directory; give the path of a kubeconfig file.": str(tmp_path),
    }
    tasks = [task("node_taint", kubeconfig=value) for value in cases.values()]

    run = run_with_tmp(tasks, "-vvvv", play_vars=variables)

    assert len(run.results) == len(cases)
    for (fragment, _), result in zip(cases.items(), run.results):
        message = result.get("msg") or ""
        assert result["failed"] and fragment in message, message
        assert "\n" not in message and "Traceback" not in run.output, message
    for secret in mixed.secrets():
        assert secret not in run.output + json.dumps(run.results)
    assert mixed.versions() == before
    assert leftover_scratch(tmp_path) == []


def test_an_explicit_kubeconfig_beats_an_awx_kubernetes_credential_in_the_environment(pristine_taints, playbook):
    # AWX's Kubernetes bearer-token credential injects K8S_AUTH_HOST/API_KEY/VERIFY_SSL for the whole job; a host's
    # own kubeconfig must still win, and the credential's token must not be sent anywhere.
    awx = {
        "K8S_AUTH_HOST": "https://127.0.0.1:9",
        "K8S_AUTH_API_KEY": "awx-job-token-that-must-stay-home",
        "K8S_AUTH_VERIFY_SSL": "false",
    }
    run = playbook([task("node_taint", kubeconfig=pristine_taints.kubeconfig)], "--check", env=awx)
    (result,) = run.results
    assert not result.get("failed"), dump(run)
    assert result["matched_nodes"] == WINDOWS

    ambient = playbook([task("node_taint")], "--check", env=awx)
    (result,) = ambient.results
    assert result["failed"] and "https://127.0.0.1:9" in result["msg"], result


def test_validate_certs_true_verifies_even_where_the_kubeconfig_says_insecure(mixed, playbook, tmp_path):
    document = forms(mixed)["kubeconfig_dict"]
    cluster = document["clusters"][0]["cluster"]
    cluster.pop("certificate-authority-data", None)
    cluster.pop("certificate-authority", None)
    cluster["insecure-skip-tls-verify"] = True
    insecure = dict(kubeconfig=document)

    run = playbook(
        [task("cluster_preflight", **insecure), task("cluster_preflight", validate_certs=True, **insecure)],
        env={"SSL_CERT_FILE": os.devnull},
    )

    trusting, verifying = run.results
    assert not trusting.get("failed"), dump(run)
    assert verifying["failed"] and "certificate verify failed" in verifying["msg"].lower(), verifying["msg"]
    assert "\n" not in verifying["msg"]


def test_a_role_given_the_kubeconfig_text_as_arcml_kubeconfig_prints_none_of_it(
    pristine_taints, run_with_tmp, tmp_path
):
    # The inventory or vault variable arcml_kubeconfig flows through the role's argument validation into the module.
    mixed = pristine_taints
    variables = {"arcml_kubeconfig": forms(mixed)["kubeconfig_text"]}
    role = {"name": "Taint through the role", "ansible.builtin.include_role": {"name": "hci.arc_ml.windows_taint"}}

    run = run_with_tmp([role, role], "-vvvv", play_vars=variables)

    assert run.rc == 0, run.output[-3000:]
    assert mixed.taints()["mixed-win-2"] != []
    for secret in mixed.secrets():
        assert secret not in run.output
    # changed=3 in the recap: the runner's two result-saving tasks, and the role's taint task once; the second
    # include finds the taints in place.
    assert re.search(r"localhost\s+: ok=\d+\s+changed=3\s", run.output), run.output[-1000:]
    assert leftover_scratch(tmp_path) == []
