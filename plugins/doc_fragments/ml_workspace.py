# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which Azure Machine Learning workspace (_compute/options.py workspace_argument_spec)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  workspace_name:
    description:
      - The name of the Azure Machine Learning workspace.
      - Requires O(resource_group); the subscription is O(subscription_id).
      - Either this or O(workspace_config) is required.
    type: str
  resource_group:
    description:
      - The resource group of the workspace.
    type: str
  workspace_config:
    description:
      - The workspace's C(config.json), as downloaded from Azure Machine Learning studio and read by azureml-core's
        C(Workspace.from_config), instead of O(workspace_name) and O(resource_group).
      - A file is read as it is. A directory is searched the way C(Workspace.from_config) searches its C(path), walking
        up from the directory to the filesystem root for C(.azureml/config.json), then C(aml_config/config.json), then
        C(config.json) (and C(project.json) in the same places), so a C(.azureml/config.json) in any parent directory
        wins over a C(config.json) next to it.
      - The file names C(subscription_id), C(resource_group) and C(workspace_name), or a legacy C(Scope) (the
        workspace's resource ID). Its subscription is the workspace's; O(subscription_id) is then not used for the
        workspace.
      - A relative path is relative to the module's current directory; for a task that runs on the controller (local
        connection) that is where C(ansible-playbook) was started. C({{ playbook_dir }}/config.json) avoids the
        ambiguity.
    type: path
"""
