#!/usr/bin/python
# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: resource_provider
short_description: Register or unregister Azure resource providers in a subscription
version_added: 0.1.0
description:
  - Ensures that Azure resource providers (such as C(Microsoft.Kubernetes)) are registered in, or unregistered
    from, a subscription, and waits until Azure reports the final state.
  - Connecting clusters to Azure Arc and attaching them to Azure Machine Learning needs C(Microsoft.Kubernetes),
    C(Microsoft.KubernetesConfiguration), C(Microsoft.ExtendedLocation), C(Microsoft.MachineLearningServices) and
    C(Microsoft.Relay).
  - Registration is per subscription, not per cluster, so run this task once per subscription (for example with
    C(run_once)).
author:
  - hci.arc_ml maintainers (!UNKNOWN)
options:
  namespaces:
    description:
      - The resource provider namespaces, for example V(Microsoft.Kubernetes). Case does not matter.
    type: list
    elements: str
    required: true
  state:
    description:
      - V(registered) registers every namespace that is not registered or registering.
      - V(unregistered) unregisters every namespace that is registered or registering. Azure refuses this while
        the subscription still has resources of that provider.
    type: str
    choices: [registered, unregistered]
    default: registered
extends_documentation_fragment:
  - hci.arc_ml.azure_auth
  - hci.arc_ml.wait
  - hci.arc_ml.attributes
  - hci.arc_ml.attributes.MUTATING_MODULE
  - hci.arc_ml.attributes.ACTIONGROUP_AZURE
"""

EXAMPLES = r"""
- name: Register the providers Arc-enabled Kubernetes and Azure ML need
  hci.arc_ml.resource_provider:
    subscription_id: "{{ azure_subscription_id }}"
    namespaces:
      - Microsoft.Kubernetes
      - Microsoft.KubernetesConfiguration
      - Microsoft.ExtendedLocation
      - Microsoft.MachineLearningServices
      - Microsoft.Relay
  run_once: true

- name: Start registration without waiting for it
  hci.arc_ml.resource_provider:
    namespaces: [Microsoft.Kubernetes]
    wait: false

- name: Unregister a provider that is no longer used
  hci.arc_ml.resource_provider:
    namespaces: [Microsoft.Relay]
    state: unregistered
    wait_timeout: 900
"""

RETURN = r"""
actions:
  description: What the task did, or in check mode would do, in order; empty when nothing needed doing.
  returned: always
  type: list
  elements: str
  sample:
    - register resource provider Microsoft.Kubernetes
providers:
  description: One entry per requested namespace, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: The namespace as Azure spells it.
      returned: always
      type: str
      sample: Microsoft.Kubernetes
    registration_state:
      description:
        - The registration state last reported by Azure.
        - In check mode, the state the task would have brought about.
      returned: always
      type: str
      sample: Registered
    changed:
      description: Whether the task asked (or, in check mode, would have asked) Azure to register or unregister it.
      returned: always
      type: bool
      sample: true
"""

from ansible_collections.hci.arc_ml.plugins.module_utils._azure.providers import ensure_providers
from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule


def argument_spec():
    return dict(
        namespaces=dict(type="list", elements="str", required=True),
        state=dict(type="str", choices=["registered", "unregistered"], default="registered"),
    )


def main():
    ArcMLModule(argument_spec(), azure=True, wait=True, mutating=True).run(ensure_providers)


if __name__ == "__main__":
    main()
