# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Connecting a Kubernetes cluster to Azure Arc, and disconnecting it: the connected_cluster task.

`Onboarding.connect()` reads the ARM resource and what the cluster holds, lets `_arc.detect.detect()` decide,
reports the plan (all that check mode does), then carries it out in a fixed order: clean up stale agents,
check the config data plane's health, store a new key in the helm-adoptable Secret azure-arc-connect-privatekey,
write to ARM, ask the data plane for the chart and its values, install the agents with helm (the private key also
as the value global.onboardingPrivateKey, from which the chart renders that Secret), wait for Connected.
On a cluster that is already onboarded, a change of agent_auto_upgrade or of the proxy options is applied as
`az connectedk8s update` applies it: the re-PUT (which PATCH cannot carry), then `helm upgrade azure-arc` with the
release's own values (`helm get values`), the data plane's settings and the changed values (see update_agents).
`Onboarding.disconnect()` deletes the ARM resource first, then removes the agents it can prove are this
resource's, as `az connectedk8s delete` does.
"""

from __future__ import annotations

import shutil

from ansible_collections.hci.arc_ml.plugins.module_utils._arc import chart as _arc_chart
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import dataplane as _arc_dataplane
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import detect as _arc_detect
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import keys as _arc_keys
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import resource as _arc_resource
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import values as _arc_values
from ansible_collections.hci.arc_ml.plugins.module_utils._arc.cluster import (
    ARC_NAMESPACE,
    ARC_NAMESPACES,
    RELEASE_NAME,
    RELEASE_NAMESPACE,
    ArcCluster,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import resource_path
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.errors import AzureApiError
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._common.scratch import private_directory
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.helm import release_summary

RESOURCE_GROUP_API_VERSION = "2022-09-01"
# The public key that a new key pair will have; only shown in check mode, where no key is generated.
NEW_PUBLIC_KEY = "(a new RSA-4096 public key)"


class Onboarding:
    """One connected_cluster task: the Azure side, and the cluster side (loaded when needed)."""

    def __init__(self, module):
        self.module = module
        params = module.params
        # First: every result, a failure's too, echoes the options back, a proxy URL's password included.
        # The proxy's CA is read later, by connect(), from the file proxy.ca_cert names.
        proxy = params.get("proxy") or {}
        self.proxy = _arc_values.Proxy(proxy.get("https_proxy"), proxy.get("http_proxy"), proxy.get("no_proxy"))
        module.protect(self.proxy.secrets)
        _arc_resource.check_names(params["name"], params["resource_group"], params.get("location"))
        self.name = params["name"]
        self.resource_group = params["resource_group"]
        self.force = params["force"]
        self.azure = module.azure()
        self.arm = self.azure.arm
        self.path = _arc_resource.cluster_path(self.azure.subscription_id, self.resource_group, self.name)
        self.requested = (self.azure.subscription_id, self.resource_group, self.name)
        self.desired = _arc_resource.Desired(
            name=self.name,
            location=params["location"],
            tags=params["tags"],
            append_tags=params["append_tags"],
            distribution=params["distribution"],
            infrastructure=params["infrastructure"],
            agent_auto_upgrade=params["agent_auto_upgrade"],
        )
        self.chart_source = _arc_chart.parse_chart_ref(params["chart_ref"])
        self._cluster = None
        self._helm = None
        self._cluster_key = None
        self._cluster_key_read = False
        module.result.update(helm_release={}, connected_cluster={})

    # The cluster, met only when needed.

    @property
    def where(self):
        return self.module.kube().describe()

    def cluster(self):
        if self._cluster is None:
            cluster = ArcCluster(self.module.kube_client(), self.where)
            cluster.server_version()
            self._cluster = cluster
        return self._cluster

    def helm(self):
        if self._helm is None:
            self._helm = self.module.helm()
        return self._helm

    def arc_release(self):
        """The latest revision of release azure-arc in any namespace (helm list -a), or None.

        A release uninstalled with --keep-history is only history: it counts as none.
        """
        releases = [r for r in self.helm().list_releases(name=RELEASE_NAME) if r.get("status") != "uninstalled"]
        releases.sort(key=lambda r: r.get("namespace") != RELEASE_NAMESPACE)
        return releases[0] if releases else None

    def cluster_key(self):
        """The key in the cluster's key Secret (masked from here on), or None."""
        if not self._cluster_key_read:
            self._cluster_key = self.cluster().onboarding_key()
            self._cluster_key_read = True
            if self._cluster_key is not None:
                self.module.protect(self._cluster_key.secrets)
        return self._cluster_key

    def cluster_key_matches(self, resource):
        """Whether the cluster's key fits ARM's public key: True, False, or None when there is nothing to compare.

        None (no readable key Secret, or no public key in ARM) proves no mismatch: detect() re-keys only on False.
        """
        key = self.cluster_key()
        public = _arc_resource.properties_of(resource).get("agentPublicKeyCertificate")
        if key is None or not public:
            return None
        return key.public_key_certificate == public

    def other_resource_exists(self, identity):
        """Whether the connected cluster the in-cluster ConfigMap names exists (any subscription we can see)."""
        path = _arc_resource.cluster_path(*identity)
        try:
            return self.arm.get_or_none(path, _arc_resource.API_VERSION) is not None
        except AzureApiError as exc:
            if exc.status == 403:
                # Not ours to see: it may well exist, so never treat it as stale.
                return True
            raise

    # Waiting.

    def waiter(self):
        """The task's waiter; when `wait` is false, one for the steps that must finish before the next."""
        return self.module.waiter(required=True)

    def remaining_seconds(self):
        return max(1, int(self.waiter().start().remaining()))

    # state=present

    def connect(self):
        """state=present: connect the cluster, or bring an existing connection to what the task asks."""
        module = self.module
        self.read_proxy_ca()  # a wrong path fails here, before any write and in check mode too
        # In check mode an unregistered Microsoft.Kubernetes means no connected cluster yet (errors.is_absent).
        resource = self.arm.get_or_none(self.path, _arc_resource.API_VERSION, check_mode=module.check_mode)
        if _arc_resource.is_provisioned(resource):
            module.result.update(detected=_arc_detect.PLATFORM_MANAGED)
            module.result["connected_cluster"] = _arc_resource.summary(resource)
            module.set_diff(_arc_resource.diff_view(resource), _arc_resource.diff_view(resource))
            return
        release, plan = self.survey(resource)
        current_values, proxy_drift = self.release_proxy_drift(release, plan)
        # A proxy change is recorded in ARM as az connectedk8s update records it (feature "proxy", no secrets).
        configurations = [_arc_resource.agentry_configuration(_arc_resource.PROXY_FEATURE)] if proxy_drift else None
        key = self.onboarding_key(plan)
        write = self.plan_write(resource, plan, key.public_key_certificate if key else NEW_PUBLIC_KEY, configurations)
        update = self.agent_update_reasons(plan, write, proxy_drift)
        self.report(resource, plan, write, update, release, current_values)
        if not module.check_mode:
            self.carry_out(resource, release, plan, key, write, update, current_values)

    def survey(self, resource):
        """What the cluster holds, and the Plan for it; fails here, before any write, when it must."""
        cluster = self.cluster()
        release = self.arc_release()
        # Read with or without a release: it says whose leftovers a cleanup would remove (detect() refuses to remove
        # what names another resource).
        config = cluster.cluster_config()
        observed = _arc_detect.Observed(
            self.requested,
            resource,
            release,
            config,
            self.where,
            other_resource_exists=self.other_resource_exists,
            cluster_key_matches=lambda: self.cluster_key_matches(resource),
            leftovers=cluster.leftovers,
            cluster_has_key=lambda: self.cluster_key() is not None,
        )
        plan = _arc_detect.detect(observed, force=self.force)
        self.module.result["detected"] = plan.situation
        self.module.result["helm_release"] = release_summary(release)
        if plan.failure:
            raise ArcMLError(plan.failure, detected=plan.situation)
        return release, plan

    def release_proxy_drift(self, release, plan):
        """(the release's values, the proxy values that differ) on an onboarded cluster the task gives a proxy for.

        (None, []) when there is nothing to compare: no proxy options, or the agents are (re)installed anyway.
        """
        if not self.proxy.given or plan.situation != _arc_detect.ONBOARDED or plan.install or release is None:
            return None, []
        current = self.release_values(release)
        return current, self.proxy.drift(current)

    def release_values(self, release):
        """`helm get values azure-arc` (the values the release was installed with); its secrets masked from here on."""
        current = self.helm().run(
            ["get", "values", release["name"], "--namespace", release["namespace"]], json_output=True
        )
        current = current if isinstance(current, dict) else {}
        self.module.protect(_arc_values.release_secrets(current))
        return current

    @staticmethod
    def agent_update_reasons(plan, write, proxy_drift):
        """What makes a `helm upgrade` of the onboarded agents necessary: [] when none (or they are reinstalled)."""
        if plan.install or plan.situation != _arc_detect.ONBOARDED:
            return []
        reasons = []
        if "agentAutoUpgrade" in write.changes:
            reasons.append("agentAutoUpgrade")
        if proxy_drift:
            reasons.append("proxy")
        return reasons

    def onboarding_key(self, plan):
        """The key the agents will hold: the cluster's when it fits, a new one (not in check mode), or None."""
        if plan.key == _arc_detect.CLUSTER_KEY:
            return self.cluster_key()
        if plan.key == _arc_detect.NEW_KEY and not self.module.check_mode:
            key = _arc_keys.generate()
            self.module.protect(key.secrets)
            return key
        return None

    def report(self, resource, plan, write, update=(), release=None, current_values=None):
        """Diff, planned actions and the resource as it will be: what check mode returns, and a run's start.

        With the release's values read (a proxy given on an onboarded cluster), the diff shows its proxy values too.
        """
        module = self.module
        before, after = _arc_resource.diff_view(resource), _arc_resource.diff_view(write.after)
        if current_values is not None:
            before["agent_proxy"] = _proxy_view(current_values)
            after["agent_proxy"] = _proxy_view(_arc_values.merge(current_values, self.proxy.values()))
        module.set_diff(before, after)
        module.result["connected_cluster"] = _arc_resource.summary(write.after)
        if plan.cleanup:
            module.act(
                f"remove the stale Arc agents (helm release {RELEASE_NAME}, namespace {ARC_NAMESPACE}, Arc CRDs)"
            )
        if write.action:
            module.act(write.action)
        if plan.install:
            module.act(f"install the Arc agents (helm release {RELEASE_NAME} in namespace {RELEASE_NAMESPACE})")
        if update:
            namespace = (release or {}).get("namespace") or RELEASE_NAMESPACE
            module.act(
                f"update the Arc agents (helm upgrade of release {RELEASE_NAME} in namespace {namespace}: "
                f"{', '.join(update)})"
            )

    def carry_out(self, resource, release, plan, key, write, update=(), current_values=None):
        """Clean up, data plane health, key Secret, ARM write, helm, then wait for Connected: in that order.

        A new key (or the cluster's, after a cleanup removed it) is written into the helm-adoptable Secret
        azure-arc/azure-arc-connect-privatekey before the ARM write (ArcCluster.store_onboarding_key, as the
        connectedk8s fork's inject_onboarding_private_key_secret does before helm): a run stopped after the PUT and
        before helm leaves the key that proves the resource is this cluster's, and the next run finishes the
        onboarding without force (unfinished_onboarding). helm gets the key as a value too (see install_agents).
        The health check comes before the ARM write, as New-AzConnectedKubernetes does it (Invoke-ConfigDPHealthCheck,
        then the PUT, then Get-HelmValues with the PUT's answer):
        https://github.com/Azure/azure-powershell/blob/main/src/ConnectedKubernetes/ConnectedKubernetes.Autorest/custom/New-AzConnectedKubernetes.ps1
        (az connectedk8s calls healthCheck after the PUT, right before GetHelmSettings; an unhealthy data plane
        then leaves a resource without agents behind, which this order avoids).
        """
        module = self.module
        if plan.cleanup:
            self.remove_agents(release)
        dataplane = None
        if plan.install or update:
            dataplane = self.dataplane((resource or {}).get("location") or write.after.get("location"))
            dataplane.health_check()
        if plan.install and (plan.key == _arc_detect.NEW_KEY or plan.cleanup):
            # Before the ARM resource exists: should this run stop half-way, the key in the cluster is what proves
            # that the resource is this cluster's. A fresh namespace cannot hold one yet.
            fresh = plan.cleanup or plan.situation == _arc_detect.NOT_ONBOARDED
            self.cluster().store_onboarding_key(key, replace=not fresh)
        resource = self.write_resource(write, wait_for_it=plan.install or bool(update)) or resource
        if plan.install:
            module.result["helm_release"] = self.install_agents(resource, key, dataplane)
        elif update:
            if current_values is None:
                current_values = self.release_values(release)
            module.result["helm_release"] = self.update_agents(resource, release, dataplane, current_values)
        resource = self.wait_connected(resource)
        module.result["connected_cluster"] = _arc_resource.summary(resource)

    def plan_write(self, resource, plan, public_key, configurations=None):
        """The ARM write (_arc.resource.Write): a PUT that creates, a re-PUT, a PATCH, or none."""
        if resource is None:
            location = self.desired.location or self.resource_group_location()
            return _arc_resource.plan_create(self.desired, location, public_key, self.path)
        new_public_key = public_key if plan.key == _arc_detect.NEW_KEY else None
        return _arc_resource.plan_update(resource, self.desired, new_public_key, configurations)

    def resource_group_location(self):
        group = self.arm.get(
            resource_path("subscriptions", self.azure.subscription_id, "resourcegroups", self.resource_group),
            RESOURCE_GROUP_API_VERSION,
        )
        location = (group or {}).get("location")
        if not location:
            raise ArcMLError(f"Resource group {self.resource_group} has no location; set the location option.")
        return location

    def write_resource(self, write, wait_for_it):
        """Send the planned write; the resource Azure returns (after its operation when waiting)."""
        waiter = self.waiter() if wait_for_it else self.module.waiter()
        if write.put is not None:
            return self.arm.put(self.path, _arc_resource.API_VERSION, write.put, waiter=waiter)
        if write.patch is not None:
            return self.arm.patch(self.path, _arc_resource.API_VERSION, write.patch, waiter=waiter)
        return None

    def dataplane(self, location):
        """The config data plane of `location` (the cloud's arcConfigEndpoint, else the regional one)."""
        cloud = self.azure.cloud
        location = location or self.desired.location
        client = self.azure.client(cloud.arc_config_endpoint_for(location), audience=cloud.management_audience)
        return _arc_dataplane.ConfigDataPlane(client)

    def install_agents(self, resource, key, dataplane):
        """Data plane settings, the chart, `helm upgrade --install`; the release as `helm_release` shows it.

        The private key goes to helm as global.onboardingPrivateKey, for every chart version, in the 0600 values
        file (never on argv), as every client passes it: az connectedk8s `--set global.onboardingPrivateKey=`
        (helm_install_release in
        https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/_utils.py) and
        New-AzConnectedKubernetes `--set global.onboardingPrivateKey=$AgentPrivateKey`
        (https://github.com/Azure/azure-powershell/blob/main/src/ConnectedKubernetes/ConnectedKubernetes.Autorest/custom/New-AzConnectedKubernetes.ps1).
        The chart renders Secret azure-arc/azure-arc-connect-privatekey from it, adopting the one carry_out stored.
        """
        params = self.module.params
        cloud = self.azure.cloud
        location = resource.get("location") or self.desired.location
        settings = dataplane.helm_settings(resource)

        scratch = private_directory("chart-")
        try:
            chart_path, registry, chart_version = self.agent_chart(settings, scratch)
            current = _arc_resource.properties_of(resource)
            values = _arc_values.agent_values(
                settings.values,
                distribution=current.get("distribution") or params["distribution"],
                infrastructure=current.get("infrastructure") or params["infrastructure"],
                cloud_name=cloud.name,
                private_key_pem=key.private_key_pem,
                proxy=self.proxy,
                cloud_overrides=self.cloud_overrides(resource, location, registry),
            )
            waiting = self.module.waiter() is not None
            released = self.helm().upgrade_install(
                RELEASE_NAME,
                chart_path,
                RELEASE_NAMESPACE,
                values=values,
                wait=waiting,
                timeout=self.remaining_seconds(),
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        # The release_summary() of helm's answer; {} when helm printed none.
        released = released or {}
        return {
            "name": released.get("name") or RELEASE_NAME,
            "namespace": released.get("namespace") or RELEASE_NAMESPACE,
            "status": released.get("status"),
            "revision": released.get("revision"),
            "chart_version": released.get("chart_version") or chart_version,
            # Our helm-adoptable Secret (for a new key) and the value, from which the chart renders that Secret:
            # the same for every chart version.
            "private_key_delivery": "secret_and_value",
        }

    def agent_chart(self, settings, scratch, agent_version=None):
        """(chart path, registry host, chart version): chart_ref's chart, else the data plane's, pulled.

        `agent_version` (an update: the version the agents run) takes the place of the data plane's version.
        """
        source = self.chart_source
        if source is not None and source.path:
            chart_path, registry = source.path, settings.chart.registry
        else:
            source = source or _arc_chart.ChartSource(oci_url=settings.chart.oci_url)
            version = source.version or agent_version or settings.chart.version
            chart_path = _arc_chart.pull(self.helm(), source, version, scratch, ca_file=self.azure.ca_bundle)
            registry = source.oci_url[len("oci://") :].split("/", 1)[0]
        return chart_path, registry, str(_arc_chart.chart_metadata(chart_path)["version"])

    def update_agents(self, resource, release, dataplane, current_values):
        """`helm upgrade azure-arc` of onboarded agents, as `az connectedk8s update` does it after its re-PUT.

        update_connected_cluster (custom.py) re-PUTs, asks GetHelmSettings with the PUT's answer, pulls the chart
        of the version the agents run (`connected_cluster.agent_version`), then `helm_update_agent` (_utils.py)
        runs `helm get values azure-arc` and `helm upgrade azure-arc <chart> -f <those values> --set <data plane
        values> --wait`; the proxy options come last, as its `--set global.httpsProxy=...` did:
        https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/custom.py
        https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/_utils.py
        The values go in the 0600 values file; the release keeps its onboarding key.
        """
        settings = dataplane.helm_settings(resource)
        agent_version = _arc_resource.properties_of(resource).get("agentVersion")
        scratch = private_directory("chart-")
        try:
            chart_path, _registry, chart_version = self.agent_chart(settings, scratch, agent_version)
            values = _arc_values.update_values(current_values, settings.values, self.proxy)
            released = self.helm().upgrade_install(
                release["name"],
                chart_path,
                release["namespace"],
                values=values,
                wait=self.module.waiter() is not None,
                timeout=self.remaining_seconds(),
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        released = released or {}
        return {
            "name": released.get("name") or release["name"],
            "namespace": released.get("namespace") or release["namespace"],
            "status": released.get("status"),
            "revision": released.get("revision"),
            "chart_version": released.get("chart_version") or chart_version,
        }

    def read_proxy_ca(self):
        path = (self.module.params.get("proxy") or {}).get("ca_cert")
        if not path:
            return
        try:
            with open(path, encoding="utf-8") as handle:
                self.proxy.ca_cert = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise ArcMLError(f"Cannot read proxy.ca_cert {path}: {exc}.") from None

    def cloud_overrides(self, resource, location, registry):
        """The endpoint values a cloud with its own Arc config endpoint needs (from the metadata read at login)."""
        metadata = self.azure.cloud.metadata  # None for a known cloud
        if not metadata:
            return {}
        return _arc_values.custom_cloud_values(metadata, resource, _arc_resource.location_key(location), registry)

    def wait_connected(self, resource):
        waiter = self.module.waiter()
        if waiter is None or _arc_resource.is_connected(resource):
            return resource

        def poll():
            answer = self.arm.request("GET", self.path, _arc_resource.API_VERSION)
            body = answer.body or {}
            if not _arc_resource.is_connected(body):
                self.fail_if_agents_removed()
            return body, answer.retry_after

        return waiter.poll_until(
            poll,
            done=_arc_resource.is_connected,
            what=(
                f"connected cluster {self.name} to report connectivityStatus Connected (the agents in namespace "
                f"{ARC_NAMESPACE} must reach Azure: kubectl get pods -n {ARC_NAMESPACE})"
            ),
            describe=lambda body: _arc_resource.properties_of(body).get("connectivityStatus") or "unknown",
            first=(resource, None),
        )

    def fail_if_agents_removed(self):
        """Stop waiting for Connected once the agents' namespace is deleted: they will never connect.

        Another task (a teardown, a forced onboarding) removed them while this one waited; without this check the
        task would wait out its whole timeout.
        """
        removed = self.cluster().agents_namespace_removed()
        if removed:
            raise ArcMLError(
                f"Namespace {ARC_NAMESPACE} on the cluster at {self.where} is {removed} while connected cluster "
                f"{self.name} waits for its agents to report Connected: another task, or someone by hand, removed "
                "the Arc agents. Re-run the task when that removal has finished."
            )

    def remove_agents(self, release):
        """Remove stale agents before onboarding again: release (no hooks), Arc CRDs, namespace azure-arc.

        Waits until they are gone (within the deadline): the chart creates them again.
        """
        cluster = self.cluster()
        if release is not None:
            self.helm().uninstall(
                release["name"], release["namespace"], no_hooks=True, wait=False, timeout=self.remaining_seconds()
            )
        cluster.delete_arc_crds()
        cluster.delete_namespace(ARC_NAMESPACE)
        cluster.wait_removed([ARC_NAMESPACE], self.waiter())

    def not_ours(self, configured):
        """The warning of a disconnect that leaves Arc agents in place: they are not provably this resource's."""
        return (
            f"The cluster at {self.where} is connected to Azure Arc as {configured}, not as '{self.name}' in "
            f"'{self.resource_group}': its Arc agents were left in place. Check kubeconfig and context, or set "
            "force: true to remove them anyway."
        )

    # state=absent

    def skip_platform_managed(self, resource):
        """state=absent on an AKS Arc cluster: nothing to do here, reported as skipped, not failed.

        az connectedk8s delete refuses a ProvisionedCluster ("Deleting a Provisioned Cluster is not supported from
        the Connected Cluster CLI. Please use the 'az aksarc delete' CLI command."), whose Arc connection the AKS Arc
        platform owns and removes with the cluster:
        https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/custom.py
        Skipping lets a teardown still detach the compute and remove the extensions of such a cluster.
        """
        module = self.module
        module.result["connected_cluster"] = _arc_resource.summary(resource)
        module.set_diff(_arc_resource.diff_view(resource), _arc_resource.diff_view(resource))
        module.result["msg"] = (
            f"Skipped: connected cluster {self.name} in resource group {self.resource_group} is owned by AKS Arc "
            "(kind ProvisionedCluster), which keeps it connected; delete the cluster with az aksarc delete to end it."
        )
        module.warn(module.result["msg"])

    def disconnect(self):
        """state=absent: delete the ARM resource, then remove the agents that are this resource's."""
        module = self.module
        resource = self.arm.get_or_none(self.path, _arc_resource.API_VERSION)
        if _arc_resource.is_provisioned(resource):
            self.skip_platform_managed(resource)
            return
        cluster = None
        try:
            cluster = self.cluster()
        except ArcMLError as exc:
            if not (self.force and resource is not None):
                raise
            module.warn(f"The cluster cannot be reached, so only the Azure resource is deleted: {exc.message}")
        release = self.arc_release() if cluster is not None else None
        config = cluster.cluster_config() if cluster is not None else None
        identity = _arc_detect.config_identity(config) if config is not None else None
        names_this = identity == tuple(part.lower() for part in self.requested)
        configured = "an unknown resource (ConfigMap azure-arc/azure-clusterconfig is missing)"
        if config is not None:
            configured = "connected cluster '{}' in resource group '{}'".format(
                config.get("AZURE_RESOURCE_NAME"), config.get("AZURE_RESOURCE_GROUP")
            )
        # Nothing is removed from the cluster unless it is provably this resource's (azure-clusterconfig names it,
        # or, with no release, the key Secret fits its agentPublicKeyCertificate) or force is set, as
        # delete_connectedk8s refuses agents whose ConfigMap names another resource ("The current context in the
        # kubeconfig file does not correspond to the connected cluster resource specified"):
        # https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/custom.py
        agents_are_ours = False
        if release is not None:
            if names_this or self.force:
                agents_are_ours = True
            elif resource is not None:
                raise ArcMLError(
                    f"The cluster at {self.where} is connected as {configured}, not as '{self.name}' in "
                    f"'{self.resource_group}': nothing was deleted. Check kubeconfig and context, or set force: true "
                    "to delete the resource and remove these agents anyway."
                )
            else:
                module.warn(self.not_ours(configured))
        elif cluster is not None and resource is not None and self.cluster_key_matches(resource):
            # An onboarding that stopped before helm (or agents removed without their namespace): the key Secret
            # there is this resource's, unless the ConfigMap next to it names another resource.
            if config is None or names_this or self.force:
                agents_are_ours = True
            else:
                module.warn(self.not_ours(configured))

        module.set_diff(_arc_resource.diff_view(resource), {})
        if resource is not None:
            module.act(f"delete connected cluster {self.name}")
        if agents_are_ours:
            module.act(
                f"remove the Arc agents (helm release {RELEASE_NAME}, namespaces {ARC_NAMESPACE} and "
                f"{RELEASE_NAMESPACE}{', Arc CRDs' if self.force else ''})"
            )
        module.result["helm_release"] = release_summary(release)
        if module.check_mode:
            return

        waiter = module.waiter()
        if resource is not None:
            # Only what DELETE connectedClusters defines in our api-version: api-version, no `force` query
            # (az connectedk8s delete --force adds params={"force": True}; the spec has no such parameter):
            # https://github.com/Azure/azure-rest-api-specs/blob/main/specification/hybridkubernetes/resource-manager/Microsoft.Kubernetes/HybridKubernetes/stable/2026-05-01/connectedClusters.json
            self.arm.delete(self.path, _arc_resource.API_VERSION, waiter=waiter)
        if agents_are_ours:
            if release is not None:
                self.helm().uninstall(
                    release["name"],
                    release["namespace"],
                    no_hooks=self.force,
                    wait=False,
                    timeout=self.remaining_seconds(),
                )
            if self.force:
                # delete_connectedk8s removes the Arc CRDs (crd_cleanup_force_delete) only with --force; without
                # it, helm delete and the namespaces only:
                # https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/custom.py
                cluster.delete_arc_crds()
            # Only azure-arc and azure-arc-release, wherever helm reports the release (kube-system, a shared
            # namespace): it was uninstalled from there, and that namespace stays, as az connectedk8s delete leaves
            # it (delete_arc_agents, cleanup_release_install_namespace_if_exists in
            # https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/_utils.py).
            namespaces = list(ARC_NAMESPACES)
            for namespace in namespaces:
                cluster.delete_namespace(namespace)
            if waiter is not None:
                cluster.wait_removed(namespaces, waiter, crds=self.force)
        module.result["helm_release"] = {}


def _proxy_view(values):
    """The proxy values of a release, as --diff shows them (passwords are masked in every output)."""
    chart_global = (values or {}).get("global") or {}
    return {key: chart_global[key] for key in _arc_values.PROXY_KEYS if key in chart_global}
