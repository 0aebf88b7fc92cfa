# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Is this cluster already onboarded, and to what?

`detect()` turns what the task observed (the ARM resource, the `azure-arc` helm release, the
`azure-arc/azure-clusterconfig` ConfigMap, the onboarding key Secret) into a Plan: the detected situation,
and either a failure message or the steps that bring the cluster to "connected". It makes no request:
the observations that cost a request are passed as callables and asked for only when the table needs them.

| helm release azure-arc     | ARM resource               | situation                | plan                          |
|----------------------------|----------------------------|--------------------------|-------------------------------|
| -                          | kind ProvisionedCluster    | platform_managed         | nothing (AKS Arc owns it)     |
| deployed, ConfigMap = this | exists, Connected, key ok, | onboarded                | PATCH/re-PUT what differs     |
|                            | or no key to compare       |                          |                               |
| deployed, ConfigMap = this | exists, key does not fit   | key_mismatch             | new key, re-PUT, helm upgrade |
| failed..., ConfigMap = this| exists                     | release_failed           | helm upgrade (key kept if ok) |
| pending-*/uninstalling     | exists                     | release_busy             | fail; force: clean, reinstall |
| ConfigMap = other          | the other resource exists  | onboarded_elsewhere      | fail, naming it               |
| ConfigMap = other          | the other one is gone      | stale_release            | fail naming it; force or a    |
|                            |                            |                          | fitting key: as the next row  |
| ConfigMap = this           | gone                       | stale_release            | clean up, then as if absent   |
| present, no ConfigMap      | -                          | release_without_config   | fail; force: clean, onboard   |
| absent                     | exists, in-cluster key fits| unfinished_onboarding    | install with that key         |
| absent                     | exists, no fitting key     | resource_without_release | fail; force: new key, install |
| absent, in-cluster key     | absent                     | unfinished_onboarding    | create it with that key       |
| absent                     | absent                     | not_onboarded            | (clean leftovers), onboard    |
| absent, ConfigMap = other  | absent                     | not_onboarded            | leftovers: fail; force: clean |

"This" compares subscription, resource group and name without case. Nothing in the cluster is removed unless it is
provably this resource's: azure-clusterconfig names it, or the key Secret fits its agentPublicKeyCertificate, or
`force` is set. Leftovers that name no resource at all (Arc CRDs, which az connectedk8s delete leaves without
--force; a namespace without the ConfigMap) are cleaned before a fresh onboarding, as az connectedk8s connect does.

The in-cluster key Secret
(azure-arc/azure-arc-connect-privatekey) is written, labelled for helm to adopt, before the ARM resource is
created (the agent chart then renders it from the helm value global.onboardingPrivateKey), so a run stopped
between the two finds the key that proves the resource is this cluster's and finishes the job instead of
refusing ("unfinished_onboarding"). With no ARM resource yet, a key Secret means an onboarding stopped (or still
running in another task) between storing its key and its ARM write: it is carried on with that key, never cleaned
up, so two tasks onboarding one cluster at once never pull the namespace from under each other's helm install.
`cluster_key_matches()` answers True (it fits ARM's
agentPublicKeyCertificate), False (it does not) or None (no key to compare): only False is a key_mismatch, so a
cluster that is merely Offline, or whose Secret cannot be read, is never re-keyed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.hci.arc_ml.plugins.module_utils._arc.cluster import RELEASE_NAME
from ansible_collections.hci.arc_ml.plugins.module_utils._arc.resource import is_connected, is_provisioned

DEPLOYED = "deployed"
BUSY_STATUSES = frozenset(("pending-install", "pending-upgrade", "pending-rollback", "uninstalling"))

PLATFORM_MANAGED = "platform_managed"
ONBOARDED = "onboarded"
KEY_MISMATCH = "key_mismatch"
RELEASE_FAILED = "release_failed"
RELEASE_BUSY = "release_busy"
ONBOARDED_ELSEWHERE = "onboarded_elsewhere"
STALE_RELEASE = "stale_release"
RELEASE_WITHOUT_CONFIG = "release_without_config"
UNFINISHED_ONBOARDING = "unfinished_onboarding"
RESOURCE_WITHOUT_RELEASE = "resource_without_release"
NOT_ONBOARDED = "not_onboarded"

CONFIG_IDENTITY_KEYS = ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZURE_RESOURCE_NAME")
NEW_KEY = "new"
CLUSTER_KEY = "cluster"


@dataclass(repr=False)
class Plan:
    """What to do about the situation.

    cleanup: remove the Arc leftovers in the cluster first (release, namespace azure-arc, Arc CRDs);
    install: install or upgrade the agents with helm;
    key: NEW_KEY (generate, and write the public half to ARM), CLUSTER_KEY (the in-cluster key already
         matches ARM) or None (helm is not run);
    failure: a message to fail with instead (nothing is done).
    """

    situation: str
    cleanup: bool = False
    install: bool = False
    key: str | None = None
    failure: str | None = None

    def __repr__(self):
        return "Plan({})".format(
            ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if v is not None and v is not False)
        )


@dataclass
class Observed:
    """What the task saw. `requested` is (subscription, resource group, name) lower-cased.

    resource: the ARM resource or None; release: {'name', 'namespace', 'status', ...} or None;
    config: the ConfigMap's data or None (read with or without a release: it names whose leftovers they are);
    where: how the cluster was reached (for messages).
    other_resource_exists(identity) -> bool, cluster_key_matches() -> True, False or None (nothing to
    compare), leftovers() -> list of names, cluster_has_key() -> whether the key Secret holds a key:
    asked only when needed.
    """

    requested: tuple
    resource: dict | None
    release: dict | None
    config: dict | None
    where: str
    other_resource_exists: object
    cluster_key_matches: object
    leftovers: object
    cluster_has_key: object

    def __post_init__(self):
        self.requested = tuple(part.lower() for part in self.requested)


def config_identity(config):
    """(subscription, resource group, name) lower-cased from azure-clusterconfig's data."""
    config = config or {}
    return tuple((config.get(key) or "").lower() for key in CONFIG_IDENTITY_KEYS)


def detect(observed, force=False):
    resource, release = observed.resource, observed.release
    if is_provisioned(resource):
        return Plan(PLATFORM_MANAGED)
    if release is None:
        return _without_release(observed, force)

    namespace, status = release.get("namespace"), (release.get("status") or "unknown").lower()
    if observed.config is None:
        if not force:
            return Plan(
                RELEASE_WITHOUT_CONFIG,
                failure=(
                    f"The helm release '{RELEASE_NAME}' exists in namespace '{namespace}' of the cluster at "
                    f"{observed.where}, but ConfigMap azure-arc/azure-clusterconfig is missing, so it is unknown "
                    f"which Azure resource it belongs to. Remove it (helm uninstall {RELEASE_NAME} --namespace "
                    f"{namespace} --no-hooks), or set force: true to clean it up and onboard again."
                ),
            )
        return _after_cleanup(_without_release(observed, force, stale=True), RELEASE_WITHOUT_CONFIG)

    identity = config_identity(observed.config)
    if identity != observed.requested:
        if observed.other_resource_exists(identity):
            subscription, group, name = _as_configured(observed.config)
            return Plan(
                ONBOARDED_ELSEWHERE,
                failure=(
                    f"The cluster at {observed.where} is already onboarded to Azure Arc as connected cluster "
                    f"'{name}' in resource group '{group}' (subscription {subscription}), not as "
                    f"'{observed.requested[2]}' in '{observed.requested[1]}'. Disconnect it from that resource "
                    "first (state: absent with that name and resource group), or check kubeconfig and context."
                ),
            )
        plan = _without_release(observed, force, stale=True)
        if plan.failure is None and not force and plan.key != CLUSTER_KEY:
            # Nothing proves these agents are this resource's: the ConfigMap names another one, which cannot be
            # found, and no key Secret fits this resource. az connectedk8s connect cleans such agents up ("Cleaning
            # up the stale arc agents", create_connectedk8s in
            # https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/custom.py);
            # here a run for another resource never wipes them without force.
            return Plan(
                STALE_RELEASE,
                failure=_names_another(
                    observed,
                    f"its helm release '{RELEASE_NAME}' in namespace '{namespace}'",
                    "that resource cannot be found",
                ),
            )
        return _after_cleanup(plan, STALE_RELEASE)

    if resource is None:
        return _after_cleanup(_without_release(observed, force, stale=True), STALE_RELEASE)
    if status == DEPLOYED and is_connected(resource):
        # The agents authenticated as this resource: nothing in the cluster needs a look.
        return Plan(ONBOARDED)
    matches = observed.cluster_key_matches()
    key = CLUSTER_KEY if matches else NEW_KEY
    if status in BUSY_STATUSES:
        if not force:
            return Plan(
                RELEASE_BUSY,
                failure=(
                    f"The helm release '{RELEASE_NAME}' in namespace '{namespace}' of the cluster at "
                    f"{observed.where} is {status}: another helm operation on it is running or was interrupted. "
                    "Re-run when it has finished; if it was interrupted, set force: true to reinstall the agents."
                ),
            )
        return Plan(RELEASE_BUSY, cleanup=True, install=True, key=key)
    if status != DEPLOYED:
        return Plan(RELEASE_FAILED, install=True, key=key)
    if key == CLUSTER_KEY or matches is None:
        # Deployed and not Connected (Connecting, Offline, Expired): only a key that positively differs from
        # ARM's is a reason to give the agents a new identity.
        return Plan(ONBOARDED)
    return Plan(KEY_MISMATCH, install=True, key=NEW_KEY)


def _without_release(observed, force, stale=False):
    """The plan when no release counts: none exists, or a stale one is removed first (`stale`).

    Leftovers (namespace azure-arc, Arc CRDs) are removed before a new onboarding; an interrupted onboarding
    keeps them, since its namespace holds the key that proves the resource is this cluster's (or, before its ARM
    write, the key another task may be onboarding with right now).
    """
    if observed.resource is None:
        names_another = _names_another_resource(observed)
        if not stale and not names_another and observed.cluster_has_key():
            return Plan(UNFINISHED_ONBOARDING, install=True, key=CLUSTER_KEY)
        cleanup = stale or bool(observed.leftovers())
        if cleanup and not stale and not force and names_another:
            return Plan(
                NOT_ONBOARDED,
                failure=_names_another(
                    observed, "what is left of its Arc agents", f"no helm release '{RELEASE_NAME}' is installed"
                ),
            )
        return Plan(NOT_ONBOARDED, cleanup=cleanup, install=True, key=NEW_KEY)
    if observed.cluster_key_matches():
        return Plan(UNFINISHED_ONBOARDING, cleanup=stale, install=True, key=CLUSTER_KEY)
    if force:
        cleanup = stale or bool(observed.leftovers())
        return Plan(RESOURCE_WITHOUT_RELEASE, cleanup=cleanup, install=True, key=NEW_KEY)
    _subscription, group, name = observed.requested
    return Plan(
        RESOURCE_WITHOUT_RELEASE,
        failure=(
            f"Connected cluster '{name}' in resource group '{group}' already exists, but the Arc agents are not "
            f"installed in the cluster at {observed.where} and nothing there proves that this cluster is the one "
            "connected as that resource: it may belong to another Kubernetes cluster. Check kubeconfig and context, "
            "or set force: true to onboard this cluster as that resource (it gets a new agent key, which "
            "disconnects any other cluster connected as it)."
        ),
    )


def _names_another_resource(observed):
    """Whether azure-clusterconfig is there and names another resource than the requested one."""
    return observed.config is not None and config_identity(observed.config) != observed.requested


def _names_another(observed, what, why):
    """The refusal to remove Arc objects that azure-clusterconfig ascribes to another resource."""
    subscription, group, name = _as_configured(observed.config)
    return (
        f"The cluster at {observed.where} is connected to Azure Arc as connected cluster '{name}' in resource group "
        f"'{group}' (subscription {subscription}), not as '{observed.requested[2]}' in '{observed.requested[1]}', "
        f"and {why}: nothing was removed. Removing {what} needs proof that it is this resource's. Check "
        "kubeconfig and context, disconnect the cluster from that resource (state: absent with its name and "
        "resource group), or set force: true to remove it and onboard this cluster anyway."
    )


def _after_cleanup(plan, situation):
    """The plan after removing a stale release; it reports the release's situation unless it fails for another."""
    if plan.failure is None:
        plan.situation = situation
    return plan


def _as_configured(config):
    return tuple(config.get(key) or "?" for key in CONFIG_IDENTITY_KEYS)
