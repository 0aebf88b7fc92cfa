# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The task of resource_provider: register or unregister resource providers in a subscription.

Every registration is asked for first, then waited for: they run side by side in Azure.
"""

from __future__ import annotations

from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import resource_path
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.resource_id import (
    PROVIDER_NAMESPACE,
    SUBSCRIPTION_ID,
    check_names,
)

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
    """resource_provider: register or unregister the namespaces, then wait for the final states."""
    state = module.params["state"]
    namespaces = unique_namespaces(module.params["namespaces"])
    # Every namespace reaches a request path: all are checked before the first request (sign-in included).
    check_names(*(("namespaces", n, PROVIDER_NAMESPACE) for n in namespaces), what="resource_provider request")
    azure = module.azure()
    arm = azure.arm

    def provider_path(namespace, action=None):
        segments = ("subscriptions", azure.subscription_id, "providers", namespace)
        return resource_path(*segments + ((action,) if action else ()))

    check_names(("subscription_id", azure.subscription_id, SUBSCRIPTION_ID), what="resource_provider request")
    providers = []
    for namespace in namespaces:
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
    for provider in providers:
        if provider["changed"]:
            module.act(f"{ACTIONS[state]} resource provider {provider['namespace']}")
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
