#!/usr/bin/env bash
# A script target, not a role target like the others: ansible-test would run this target as role
# `azureml_extension`, and inside the collection that name is the collection's own role
# hci.arc_ml.azureml_extension. runme.yml runs the tasks of setup_sandbox and of this target instead.
set -eux
ansible-playbook runme.yml -i ../../inventory -e @../../integration_config.yml "$@"
