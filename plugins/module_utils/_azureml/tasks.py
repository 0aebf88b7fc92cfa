# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The task of azureml_extension: the Azure ML extension as az k8s-extension builds it, with its Azure Relay.

The order of a present run: everything az checks and reads locally (settings, rules, PEM files), then the
extension and the cluster from Azure, the node count when it decides settings, the Relay (found with reads, created
when missing), its connection string only when the write of the extension carries it, and last the extension itself
through _extension's ExtensionTask.
"""

from __future__ import annotations

import base64

from ansible_collections.hci.arc_ml.plugins.module_utils._azureml import relay as _relay
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml import rules as _azureml_rules
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml import settings as _azureml_settings
from ansible_collections.hci.arc_ml.plugins.module_utils._azureml.cluster import linux_node_count, read_cluster
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.client import extension_client
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.ensure import ExtensionTask
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.plan import ExtensionSpec, plan_update
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.tasks import refuse_plain_secrets

PEM_MARKERS = {"certificate": "-----BEGIN CERTIFICATE-----", "private key": "PRIVATE KEY-----"}
# The Relay connection string's keys (AzureMLKubernetes.py: RELAY_SERVER_CONNECTION_STRING, RELAY_CONNECTION_STRING_KEY,
# and the deprecated RelayConnectionString): the module has an option of its own for it.
RELAY_HINT = (
    "For the Azure Relay, relay.connection_string (with relay.hybrid_connection_id) takes the connection string too."
)
PLAIN_SECRET_HINTS = dict.fromkeys(
    ("relayserverconnectionstring", "relayserver.relayconnectionstring", "relayconnectionstring"), RELAY_HINT
)
# az k8s-extension sends the extension type in lower case.
EXTENSION_TYPE = _azureml_settings.EXTENSION_TYPE.lower()


def read_pem(module, path, kind):
    """A PEM file's bytes; its contents are masked in all output from here on."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ArcMLError(f"Cannot read the SSL {kind} file {path}: {exc.strerror or exc}.") from None
    text = data.decode("ascii", errors="replace")
    module.protect([text, text.strip(), base64.b64encode(data).decode("ascii")])
    if kind == "private key":
        module.protect(line for line in text.splitlines() if len(line) >= 16 and not line.startswith("-----"))
    if PEM_MARKERS[kind] not in text:
        raise ArcMLError(f"The SSL {kind} file {path} is not a PEM {kind} (no '{PEM_MARKERS[kind]}' line).")
    if "-----BEGIN ENCRYPTED PRIVATE KEY-----" in text or "Proc-Type: 4,ENCRYPTED" in text:
        raise ArcMLError(f"The SSL {kind} file {path} is encrypted: the extension needs a key without a passphrase.")
    return data


def provide_relay(module, client, cluster, options):
    """The Relay the settings name, and the RelayTarget whose connection string is still to be read.

    Returns ((connection string, hybrid connection id, hybrid connection name), target). With
    relay.connection_string: that string, and no target. Otherwise the Relay is found with reads or created, and the
    connection string is the stand-in NOT_READ until relay_key_needed() says a write sends it.
    """
    if options["connection_string"]:
        module.protect([options["connection_string"]])
        hybrid_connection_id = options["hybrid_connection_id"]
        if "/hybridconnections/" not in hybrid_connection_id.lower():
            raise ArcMLError(
                f"relay.hybrid_connection_id {hybrid_connection_id!r} is not the ARM id of a hybrid connection "
                "(/subscriptions/.../providers/Microsoft.Relay/namespaces/<ns>/hybridConnections/<name>)."
            )
        name = hybrid_connection_id.rstrip("/").split("/")[-1]
        return (options["connection_string"], hybrid_connection_id, name), None
    ref = client.cluster
    resource_group = options["resource_group"] or ref.resource_group
    target = _relay.RelayTarget(
        ref.subscription_id,
        resource_group,
        options["namespace"] or _relay.default_namespace(ref.cluster_name, ref.subscription_id, ref.resource_group),
        options["hybrid_connection"] or ref.cluster_name,
        options["authorization_rule"],
    ).check()
    relay = _relay.ensure_relay(
        client.arm,
        target,
        cluster.location,
        create=options["create"],
        check_mode=module.check_mode,
        waiter=module.waiter(required=True),  # the Relay must exist before the extension can use it
    )
    module.result["relay"] = relay.result()
    for created in relay.created:
        module.act(f"create relay {created}")
    return (_relay.NOT_READ, target.hybrid_connection_id, target.hybrid_connection), target


def relay_key_needed(current, spec, policy, creating):
    """Whether the extension write this run sends carries the protected settings, and with them the Relay's
    connection string (no I/O: the extension planner decides, on a spec holding the stand-in).

    A create or re-create sends them; an update only when the planner puts them in its PATCH, or replaces the
    extension with a PUT. The planner compares the protected settings by their keys (Azure never returns the values,
    _extension.protected), so the stand-in plans exactly what the real string would.
    """
    if creating:
        return True
    plan = plan_update(current, spec, policy)
    if plan.immutable:
        return False  # refused before any write (with recreate, `creating` said so)
    return "configurationProtectedSettings" in plan.patch or plan.replace is not None


def protected_reason(relay_result):
    """Why the protected settings must be sent although their keys are the same, or None.

    Azure returns the keys of the protected settings, never their values (_extension.protected), so a new value
    under the same key is only known here: a Relay this run created has a new connection string.
    """
    if (relay_result or {}).get("created"):
        return "the Azure Relay was created, with a new connection string"
    return None


def plan_before_the_cluster(module, client, configured):
    """Check mode on a cluster Azure does not have yet: an earlier task of the play (connected_cluster) only planned
    to connect it. The settings derived from the cluster (location, nodes, Relay) cannot be known, so the install is
    reported with the settings the task asks for; a run outside check mode still fails on the missing cluster.
    """
    ref = client.cluster
    after = "after the cluster is connected" if ref.cluster_type == "connectedClusters" else "after the cluster exists"
    module.act(f"install extension {client.name} ({after})")
    if _azureml_settings.needs_relay(configured, ref.cluster_type):
        module.act(f"find or create the Azure Relay of extension {client.name} ({after})")
    module.result.update(extension={}, changes=["created"], relay={})
    module.result["msg"] = (
        f"The cluster {ref.describe()} is not in Azure yet (check mode): {client.name} would be installed {after}."
    )
    module.set_diff(
        before={},
        after={
            "name": client.name,
            "extension_type": EXTENSION_TYPE,
            "release_namespace": _azureml_rules.RELEASE_NAMESPACE,
            "configuration_settings": dict(configured.settings),
            "configuration_protected_settings": sorted(configured.protected),
        },
    )


def ensure_azureml(module):
    """azureml_extension: install, update or remove the Azure ML extension (and find or create its Relay)."""
    params = module.params
    # First of all: a failed result echoes the module arguments, so a secret in them is masked before anything fails.
    refuse_plain_secrets(
        module, params["configuration_settings"], refuse=params["state"] == "present", hints=PLAIN_SECRET_HINTS
    )
    if params["state"] == "absent":
        ExtensionTask(module, extension_client(module, params["name"])).absent(force=params["force_delete"])
        return
    relay_options = params["relay"]
    # Everything az checks and reads locally comes first: an invalid request writes nothing.
    settings, protected = _azureml_settings.requested(params, relay_options["enabled"])
    _azureml_rules.validate(
        settings,
        protected,
        version=params["version"],
        auto_upgrade_minor_version=params["auto_upgrade_minor_version"],
    )
    configured = _azureml_settings.configure(settings, protected, lambda path, kind: read_pem(module, path, kind))
    # The Relay names given as options reach request paths: checked with the extension's before any request
    # (the namespace derived from the cluster's names is checked when the target is built, before its first read).
    _relay.check_relay_names(
        relay_options["resource_group"],
        relay_options["namespace"],
        relay_options["hybrid_connection"],
        relay_options["authorization_rule"],
    )

    client = extension_client(module, params["name"])
    task = ExtensionTask(module, client, params["protected_settings_update"])
    current = task.current()
    cluster = read_cluster(client.arm, client.cluster, required=not module.check_mode)
    if cluster is None:
        plan_before_the_cluster(module, client, configured)
        return
    if cluster.cluster_type == "connectedClusters" and cluster.connectivity not in (None, "Connected"):
        module.warn(
            f"The cluster {client.cluster.describe()} is {cluster.connectivity}, not Connected: its agents may not "
            "carry out the extension operation, which then fails."
        )
    node_count = None
    identity = ExtensionSpec(EXTENSION_TYPE, scope="cluster", release_namespace=_azureml_rules.RELEASE_NAMESPACE)
    creating = task.creates(current, identity, params["recreate"], params["repair_failed"])
    if creating and params["node_count_source"] == "kubernetes":
        node_count = linux_node_count(module.kube_client(), module.kube().describe(), params["node_selector"])
        module.result["node_count"] = node_count
    relay, unread = None, None
    module.result["relay"] = {}
    if _azureml_settings.needs_relay(configured, cluster.cluster_type):
        relay, unread = provide_relay(module, client, cluster, relay_options)
    stored = None if creating else ((current or {}).get("properties") or {}).get("configurationSettings") or {}
    reason = protected_reason(module.result["relay"])
    spec = extension_spec(params, configured, cluster, relay, node_count, stored, reason)
    if creating:
        for warning in configured.warnings:
            module.warn(warning)
    # Check mode sends nothing, so it never needs the key; the stand-in plans the same changes.
    if unread is not None and not module.check_mode and relay_key_needed(current, spec, task.policy, creating):
        relay = (_relay.read_connection_string(client.arm, unread, module.protect), *relay[1:])
        spec = extension_spec(params, configured, cluster, relay, node_count, stored, reason)
    task.present(
        spec,
        recreate=params["recreate"],
        repair_failed=params["repair_failed"],
        force_delete=params["force_delete"],
        current=current,
    )


def extension_spec(params, configured, cluster, relay, node_count, stored_settings, reason):
    """The desired extension (no I/O): the request completed from the cluster and the Relay.

    `stored_settings` are the configuration settings of the extension to update, None when it is created;
    `reason` is protected_reason().
    """
    completed = _azureml_settings.complete(configured, cluster, relay, node_count)
    settings = dict(completed.settings)
    if stored_settings is not None:
        # A PATCH merges settings: a derived flag stored true that is now false must be sent false.
        settings.update(_azureml_settings.stale_flags(configured, stored_settings))
    return ExtensionSpec(
        extension_type=EXTENSION_TYPE,
        scope="cluster",
        release_namespace=_azureml_rules.RELEASE_NAMESPACE,
        auto_upgrade_minor_version=params["auto_upgrade_minor_version"],
        release_train=params["release_train"],
        default_release_train=_azureml_settings.DEFAULT_RELEASE_TRAIN,
        version=params["version"],
        settings=settings,
        create_only_settings=completed.create_only,
        protected=completed.protected,
        identity={"type": "SystemAssigned"},
        case_insensitive_keys=_azureml_settings.CASE_INSENSITIVE_KEYS,
        protected_reason=reason,
    )
