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
  - hci.arc_ml.attributes.ACTIONGROUP_AZURE
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
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

from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import resource_path
from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule

API_VERSION = "2022-09-01"
TARGET_STATES = {"registered": ("Registered",), "unregistered": ("NotRegistered", "Unregistered")}
# States on the way to the target: no request is needed, only waiting.
TRANSITIONAL_STATES = {"registered": ("Registering",), "unregistered": ("Unregistering",)}
ACTIONS = {"registered": "register", "unregistered": "unregister"}


def unique_namespaces(namespaces):
    """The namespaces without duplicates (compared case-insensitively), in the order given."""
    seen = set()
    unique = []
    for namespace in (n.strip() for n in namespaces):
        if namespace and namespace.lower() not in seen:
            seen.add(namespace.lower())
            unique.append(namespace)
    return unique


def ensure_providers(module):
    state = module.params["state"]
    azure = module.azure()
    arm = azure.arm

    def provider_path(namespace, action=None):
        segments = ("subscriptions", azure.subscription_id, "providers", namespace)
        return resource_path(*segments + ((action,) if action else ()))

    providers = []
    for namespace in unique_namespaces(module.params["namespaces"]):
        current = arm.get(provider_path(namespace), API_VERSION)
        providers.append(
            {
                "namespace": current.get("namespace") or namespace,
                "before": current.get("registrationState") or "NotRegistered",
                "changed": False,
            }
        )

    for provider in providers:
        provider["registration_state"] = provider["before"]
        if provider["before"] in TARGET_STATES[state] + TRANSITIONAL_STATES[state]:
            continue
        provider["changed"] = True
        if module.check_mode:
            provider["registration_state"] = TARGET_STATES[state][0]
            continue
        answer = arm.request("POST", provider_path(provider["namespace"], ACTIONS[state]), API_VERSION)
        provider["registration_state"] = (answer.body or {}).get("registrationState") or TRANSITIONAL_STATES[state][0]
        provider["retry_after"] = answer.retry_after
    report(module, providers)

    waiter = module.waiter()
    if waiter is None or module.check_mode:
        return
    waited = False
    for provider in providers:
        if provider["registration_state"] in TARGET_STATES[state]:
            continue
        # The registrations run side by side: once one has been waited for, the next is asked at once
        # rather than after another wait_sleep.
        first = None if waited else ({"registrationState": provider["registration_state"]}, provider.get("retry_after"))
        waited = True
        final = waiter.poll_until(
            poll=lambda p=provider: _poll_provider(arm, provider_path(p["namespace"])),
            done=lambda body: body.get("registrationState") in TARGET_STATES[state],
            what=f"{provider['namespace']} to become {TARGET_STATES[state][0]}",
            describe=lambda body: body.get("registrationState") or "unknown",
            first=first,
        )
        provider["registration_state"] = final["registrationState"]
        report(module, providers)


def report(module, providers):
    """Put the providers in the result; called before waiting too, so a timeout still reports what changed."""
    module.set_changed(any(p["changed"] for p in providers))
    module.set_diff(
        before={p["namespace"]: p["before"] for p in providers},
        after={p["namespace"]: p["registration_state"] for p in providers},
    )
    module.result["providers"] = [
        {"namespace": p["namespace"], "registration_state": p["registration_state"], "changed": p["changed"]}
        for p in providers
    ]


def _poll_provider(arm, path):
    response = arm.request("GET", path, API_VERSION)
    return response.body or {}, response.retry_after


def main():
    module = ArcMLModule(
        argument_spec=dict(
            namespaces=dict(type="list", elements="str", required=True),
            state=dict(type="str", choices=["registered", "unregistered"], default="registered"),
        ),
        azure=True,
        wait=True,
    )
    module.run(ensure_providers)


if __name__ == "__main__":
    main()
