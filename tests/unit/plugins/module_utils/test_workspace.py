"""The workspace a task names: explicit options, or config.json found the way Workspace.from_config finds it."""

import json
import os

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.workspace import (
    Workspace,
    WorkspaceConfigError,
    find_config_file,
    read_config_file,
    workspace_from_params,
)

SUB = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
OTHER_SUB = "0a1b2c3d-0000-4000-8000-000000000001"


def write_config(path, subscription_id=SUB, resource_group="rg-ml", workspace_name="mlw-prod", **extra):
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"subscription_id": subscription_id, "resource_group": resource_group, "workspace_name": workspace_name}
    path.write_text(json.dumps({**body, **extra}))
    return path


# Finding the file.


def test_a_file_is_used_as_it_is(tmp_path):
    config = write_config(tmp_path / "some-name.json")
    assert find_config_file(str(config)) == str(config)


def test_a_directory_with_config_json(tmp_path):
    config = write_config(tmp_path / "config.json")
    assert find_config_file(str(tmp_path)) == str(config)


def test_dot_azureml_in_a_parent_beats_config_json_in_the_directory(tmp_path):
    """azureml-core tries each (directory, file name) pair all the way up before the next pair."""
    start = tmp_path / "project" / "notebooks"
    write_config(start / "config.json", workspace_name="near")
    far = write_config(tmp_path / ".azureml" / "config.json", workspace_name="far")
    assert find_config_file(str(start)) == str(far)
    assert read_config_file(find_config_file(str(start))).name == "far"


def test_search_order_of_directories_and_names(tmp_path):
    start = tmp_path / "a" / "b"
    start.mkdir(parents=True)
    candidates = [
        tmp_path / "project.json",
        tmp_path / "a" / "config.json",
        tmp_path / "aml_config" / "project.json",
        tmp_path / "a" / "aml_config" / "config.json",
        tmp_path / ".azureml" / "project.json",
        tmp_path / ".azureml" / "config.json",
    ]
    # Add the candidates from the lowest priority up: each new one must win.
    for candidate in candidates:
        write_config(candidate)
        assert find_config_file(str(start)) == str(candidate)


def test_relative_path_is_resolved_against_cwd(tmp_path):
    config = write_config(tmp_path / "ml" / "config.json")
    assert find_config_file("ml", cwd=str(tmp_path)) == str(config)
    assert find_config_file("ml/config.json", cwd=str(tmp_path)) == str(config)


def test_symlinked_directory_walks_up_from_its_target(tmp_path):
    target = tmp_path / "real" / "inner"
    target.mkdir(parents=True)
    config = write_config(tmp_path / "real" / "config.json")
    (tmp_path / "elsewhere").mkdir()
    link = tmp_path / "elsewhere" / "link"
    os.symlink(target, link)
    assert os.path.realpath(find_config_file(str(link))) == str(config)


def test_nothing_found_names_the_start_and_what_to_do(tmp_path):
    start = tmp_path / "empty"
    start.mkdir()
    with pytest.raises(WorkspaceConfigError, match=r"could not be found in .*empty or its parent directories"):
        find_config_file(str(start))


def test_missing_path_fails(tmp_path):
    with pytest.raises(WorkspaceConfigError, match="does not exist"):
        find_config_file(str(tmp_path / "nope.json"))


# Reading it.


def test_keys_are_read(tmp_path):
    workspace = read_config_file(write_config(tmp_path / "config.json", subscription_id=SUB.upper(), extra="ignored"))
    assert (workspace.subscription_id, workspace.resource_group, workspace.name) == (SUB, "rg-ml", "mlw-prod")
    assert workspace.config_file == str(tmp_path / "config.json")


def test_legacy_scope(tmp_path):
    path = tmp_path / "project.json"
    scope = f"/subscriptions/{SUB}/resourceGroups/rg-old/providers/Microsoft.MachineLearningServices/workspaces/mlw-old"
    path.write_text(json.dumps({"Id": "whatever", "Scope": scope}))
    assert read_config_file(path) == Workspace(SUB, "rg-old", "mlw-old")


def test_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "config.json"
    path.write_bytes(
        b"\xef\xbb\xbf" + json.dumps({"subscription_id": SUB, "resource_group": "g", "workspace_name": "ws1"}).encode()
    )
    assert read_config_file(path).name == "ws1"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"subscription_id": SUB, "workspace_name": "mlw"}, "does not seem to contain the required parameters"),
        ({"subscription_id": SUB, "resource_group": "", "workspace_name": "mlw"}, "required parameters"),
        ({"Scope": "/subscriptions/x"}, "is not a workspace resource id"),
        ({"subscription_id": "not-a-guid", "resource_group": "g", "workspace_name": "mlw"}, "is not a GUID"),
        ({"subscription_id": SUB, "resource_group": "g", "workspace_name": "x"}, "is not a workspace name"),
        ([1, 2], "is not a JSON object"),
    ],
)
def test_unusable_content_fails_clearly(tmp_path, content, message):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(content))
    with pytest.raises(WorkspaceConfigError, match=message):
        read_config_file(path)


def test_invalid_json(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{not json")
    with pytest.raises(WorkspaceConfigError, match="is not valid JSON"):
        read_config_file(path)


# From module options.


def test_explicit_options():
    params = {"workspace_name": "mlw-prod", "resource_group": "rg-ml", "subscription_id": SUB}
    assert workspace_from_params(params) == Workspace(SUB, "rg-ml", "mlw-prod")


def test_explicit_options_need_a_subscription():
    with pytest.raises(ArcMLError, match="subscription_id is required"):
        workspace_from_params({"workspace_name": "mlw-prod", "resource_group": "rg-ml", "subscription_id": None})


def test_config_file_wins_over_the_subscription_option(tmp_path):
    write_config(tmp_path / "config.json", subscription_id=OTHER_SUB)
    workspace = workspace_from_params({"workspace_config": str(tmp_path), "subscription_id": SUB})
    assert workspace.subscription_id == OTHER_SUB
    assert workspace.config_file == str(tmp_path / "config.json")


def test_workspace_path_is_its_arm_id():
    assert Workspace(SUB, "rg ml", "mlw").path == (
        f"/subscriptions/{SUB}/resourceGroups/rg%20ml/providers/Microsoft.MachineLearningServices/workspaces/mlw"
    )


def path_breakers(valid, max_length):
    return ["..", ".", valid + "\n", valid + "#b", valid + "?b", valid + "/b", "a" * (max_length + 1)]


@pytest.mark.parametrize(
    ("option", "value"),
    [("workspace_name", v) for v in path_breakers("mlw-prod", 33)]
    + [("resource_group", v) for v in path_breakers("rg-ml", 90)]
    + [("subscription_id", SUB + "\n")],
)
def test_a_workspace_name_that_would_change_the_request_path_is_refused(option, value):
    params = {"workspace_name": "mlw-prod", "resource_group": "rg-ml", "subscription_id": SUB, option: value}
    # The subscription is refused by the shared subscription check (an ArcMLError), the names by the workspace's.
    with pytest.raises(ArcMLError) as failed:
        workspace_from_params(params)
    assert f"{option} {value!r}" in str(failed.value) and "\n" not in str(failed.value).replace(repr(value), "")


@pytest.mark.parametrize(("key", "value"), [("workspace_name", "mlw-prod\n"), ("resource_group", "..")])
def test_a_config_file_name_that_would_change_the_request_path_is_refused(tmp_path, key, value):
    path = write_config(tmp_path / "config.json", **{key: value})
    with pytest.raises(WorkspaceConfigError) as failed:
        read_config_file(path)
    assert f"{key} in {path} {value!r}" in str(failed.value) or f"{key} {value!r}" in str(failed.value)


def test_a_credentials_file_profiles_subscription_names_the_workspace_when_the_option_is_unset():
    profile_subscription = "5c1e8b7e-0000-4000-8000-00000000cafe"
    params = {"workspace_name": "mlw-fleet", "resource_group": "rg-ml", "subscription_id": None}
    workspace = workspace_from_params(params, subscription_id=profile_subscription)
    assert workspace.subscription_id == profile_subscription
    explicit = dict(params, subscription_id="11111111-2222-4333-8444-555555555555")
    assert (
        workspace_from_params(explicit, subscription_id=profile_subscription).subscription_id
        == explicit["subscription_id"]
    )
