# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Which Azure ML workspace a task means: explicit options, or the config.json azureml-core reads.

`Workspace.from_config(path)` (azureml-core; azure-ai-ml's `MLClient.from_config` is the same) takes
`path` itself when it is a file. Otherwise, for each directory in (.azureml, aml_config, the directory
itself) and each file name in (config.json, project.json), it walks from `path` up to the filesystem
root and takes the first match, so a `.azureml/config.json` in any parent beats a `./config.json`.
The file holds `subscription_id`, `resource_group` and `workspace_name`, or the legacy `Scope` (the
workspace's ARM id). `MLClient.from_config`: https://github.com/Azure/azure-sdk-for-python/blob/main/sdk/ml/azure-ai-ml/azure/ai/ml/_ml_client.py.
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.hci.arc_ml.plugins.module_utils._azure import resource_id as _resource_id
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.auth import check_subscription_id
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.resource_id import GroupResource
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError, one_line

CONFIG_DIRECTORIES = (".azureml", "aml_config", None)
CONFIG_FILE_NAMES = ("config.json", "project.json")
# Path pattern of workspaceName in the API (2025-12-01), matched whole (re.fullmatch: `$` with re.match would let
# a final newline through); the rule and its source are in _azure/resource_id.py.
WORKSPACE_NAME = re.compile(_resource_id.WORKSPACE_NAME.pattern)
_REQUIRED_KEYS = ("subscription_id", "resource_group", "workspace_name")


class WorkspaceConfigError(ArcMLError):
    """The workspace options or the workspace config file cannot be used."""


class Workspace(GroupResource):
    """An Azure ML workspace by subscription, resource group and name; `config_file` when read from one."""

    def __init__(self, subscription_id, resource_group, name, config_file=None):
        super().__init__(subscription_id, resource_group)
        self.name = name
        self.config_file = config_file

    @property
    def path(self):
        """The workspace's ARM id, as a request path."""
        return self.resource_path("Microsoft.MachineLearningServices", "workspaces", self.name)

    def facts(self):
        """What a task returns about the workspace it used."""
        return {
            "subscription_id": self.subscription_id,
            "resource_group": self.resource_group,
            "name": self.name,
            "config_file": self.config_file,
        }

    def describe(self):
        return f"workspace {self.name} (resource group {self.resource_group}, subscription {self.subscription_id})"

    def __eq__(self, other):
        return isinstance(other, Workspace) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return f"Workspace({self.subscription_id!r}, {self.resource_group!r}, {self.name!r})"

    def _key(self):
        return (self.subscription_id.lower(), self.resource_group.lower(), self.name.lower())


def find_config_file(path, cwd=None):
    """The config file `Workspace.from_config(path)` would read; raise WorkspaceConfigError if there is none."""
    start = os.path.abspath(os.path.join(cwd or os.getcwd(), os.path.expanduser(path)))
    if os.path.isfile(start):
        return start
    if not os.path.isdir(start):
        raise WorkspaceConfigError(
            f"workspace_config {path} does not exist: give the workspace's config.json, or a directory to search "
            "from (as Workspace.from_config does)."
        )
    for directory in CONFIG_DIRECTORIES:
        for file_name in CONFIG_FILE_NAMES:
            found = _walk_up(start, os.path.join(directory, file_name) if directory else file_name)
            if found:
                return found
    raise WorkspaceConfigError(
        f"The workspace configuration file config.json could not be found in {start} or its parent directories "
        "(looked for .azureml/config.json, aml_config/config.json and config.json, and project.json in the same "
        "places). Download config.json from the workspace's page in Azure ML studio, or set workspace_name and "
        "resource_group instead."
    )


def _walk_up(start, relative):
    current = start
    while True:
        candidate = os.path.join(current, relative)
        if os.path.isfile(candidate):
            return candidate
        # As azureml-core does: the parent of the resolved directory, so symlinks lead where they point.
        parent = os.path.realpath(os.path.join(current, os.pardir))
        if parent == current:
            return None
        current = parent


def read_config_file(path):
    """The Workspace a config.json names (keys, or the legacy Scope); WorkspaceConfigError if it names none."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            config = json.load(handle)
    except OSError as exc:
        raise WorkspaceConfigError(f"Cannot read workspace config {path}: {exc.strerror or exc}.") from None
    except ValueError as exc:
        raise WorkspaceConfigError(f"Workspace config {path} is not valid JSON: {one_line(exc, 200)}.") from None
    if not isinstance(config, dict):
        raise WorkspaceConfigError(f"Workspace config {path} is not a JSON object.")
    scope = config.get("Scope")
    if scope:
        pieces = str(scope).split("/")
        if len(pieces) < 9 or not all(pieces[i] for i in (2, 4, 8)):
            raise WorkspaceConfigError(
                f"The Scope in workspace config {path} is not a workspace resource id "
                "(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.MachineLearningServices/"
                "workspaces/<name>)."
            )
        values = (pieces[2], pieces[4], pieces[8])
    else:
        if not all(config.get(key) for key in _REQUIRED_KEYS):
            raise WorkspaceConfigError(
                f"The config file found in: {path} does not seem to contain the required parameters. Please make "
                "sure it contains your subscription_id, resource_group and workspace_name."
            )
        values = tuple(str(config[key]) for key in _REQUIRED_KEYS)
    subscription_id, resource_group, name = values
    try:
        subscription_id = check_subscription_id(subscription_id)
    except ArcMLError:
        raise WorkspaceConfigError(
            f"subscription_id {subscription_id!r} in workspace config {path} is not a GUID."
        ) from None
    check_workspace_name(name, f"workspace_name in {path}")
    check_workspace_names(subscription_id, resource_group, f"in {path}")
    return Workspace(subscription_id, resource_group, name, config_file=str(path))


def check_workspace_names(subscription_id, resource_group, where=""):
    """The subscription and resource group of the workspace's request path, matched whole before any request."""
    problems = _resource_id.name_problems(
        (" ".join(filter(None, ("subscription_id", where))), subscription_id, _resource_id.SUBSCRIPTION_ID),
        (" ".join(filter(None, ("resource_group", where))), resource_group, _resource_id.RESOURCE_GROUP),
    )
    if problems:
        raise WorkspaceConfigError("Invalid workspace: {}. Nothing was sent to Azure.".format("; ".join(problems)))


def check_workspace_name(name, what="workspace_name"):
    if not isinstance(name, str) or not WORKSPACE_NAME.fullmatch(name):
        raise WorkspaceConfigError(
            f"{what} {name!r} is not a workspace name: 3-33 characters, letters, digits, '_' and '-', starting "
            "with a letter or digit."
        )
    return name


def workspace_from_params(params, cwd=None, subscription_id=None):
    """The Workspace the module options name: workspace_name + resource_group (+ subscription_id), or workspace_config.

    No request is made. With workspace_config, the file's subscription is the workspace's; else the
    subscription_id option, or `subscription_id` (a credentials file profile's) when the option is unset.
    """
    if params.get("workspace_config"):
        return read_config_file(find_config_file(params["workspace_config"], cwd))
    name = check_workspace_name(params.get("workspace_name"))
    if not params.get("resource_group"):
        raise WorkspaceConfigError("resource_group (the workspace's resource group) is required with workspace_name.")
    subscription_id = check_subscription_id(params.get("subscription_id") or subscription_id)
    check_workspace_names(subscription_id, params["resource_group"])
    return Workspace(subscription_id, params["resource_group"], name)
