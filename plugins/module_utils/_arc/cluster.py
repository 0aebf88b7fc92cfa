# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""What the Arc onboarding reads and writes in the cluster through the Kubernetes API (not helm).

- ConfigMap azure-arc/azure-clusterconfig: which Azure resource the installed agents belong to;
- Secret azure-arc/azure-arc-connect-privatekey: the onboarding private key. It is written here, with namespace
  azure-arc, before the ARM resource exists (store_onboarding_key), both labelled and annotated so that helm adopts
  them when the agent chart renders them from the helm value global.onboardingPrivateKey, which every client
  passes as well (az connectedk8s, New-AzConnectedKubernetes: see _arc.onboarding.Onboarding.install_agents).
  The Azure Arc team's connectedk8s fork creates the same Secret itself, with the same ownership metadata, before
  helm runs (`inject_onboarding_private_key_secret` in _utils.py; its unit tests:
  https://github.com/AzureArcForKubernetes/connectedk8s/blob/main/src/connectedk8s/azext_connectedk8s/tests/unittests/test_custom.py).
  A run stopped between the ARM PUT and helm thus leaves the key that proves the resource is this cluster's;
- the Arc CRDs and namespaces that a disconnect or a stale-agent cleanup removes.
Every Kubernetes error is one KubernetesError line (_kube.client) that names the call, the cluster and what to do.
"""

from __future__ import annotations

import base64
import time
from urllib.parse import quote

from ansible_collections.hci.arc_ml.plugins.module_utils._arc import keys as _arc_keys
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.client import OTHER, KubeClient, KubernetesError

ARC_NAMESPACE = "azure-arc"
RELEASE_NAMESPACE = "azure-arc-release"
RELEASE_NAME = "azure-arc"
# The only namespaces the collection ever deletes. The release itself may sit elsewhere (helm list reports, e.g.,
# kube-system or default for old installs): it is uninstalled from there, and that namespace is left alone, as
# az connectedk8s delete leaves it: delete_arc_agents runs `helm delete azure-arc --namespace <release namespace>`,
# waits for azure-arc (ensure_namespace_cleanup) and deletes only consts.Release_Install_Namespace
# (cleanup_release_install_namespace_if_exists), in
# https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/_utils.py
ARC_NAMESPACES = (ARC_NAMESPACE, RELEASE_NAMESPACE)
CLUSTER_CONFIG = "azure-clusterconfig"
KEY_SECRET = "azure-arc-connect-privatekey"  # noqa: S105 -- the Secret's name, not a secret
KEY_FIELD = "privateKey"
ARC_CRDS = (
    "connectedclusters.arc.azure.com",
    "arccertificates.clusterconfig.azure.com",
    "azureclusteridentityrequests.clusterconfig.azure.com",
    "azureextensionidentities.clusterconfig.azure.com",
    "customlocationsettings.clusterconfig.azure.com",
    "extensionconfigs.clusterconfig.azure.com",
    "gitconfigs.clusterconfig.azure.com",
)
CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
# How long a deleted CRD may stay Terminating before its finalizers are removed (az connectedk8s: 20 s).
CRD_DELETE_GRACE = 20
# The PATCH bodies here are JSON merge patches.
MERGE_PATCH = "application/merge-patch+json"
# What makes helm adopt an object it did not create, when the chart renders it.
HELM_OWNERSHIP = {
    "labels": {"app.kubernetes.io/managed-by": "Helm"},
    "annotations": {"meta.helm.sh/release-name": RELEASE_NAME, "meta.helm.sh/release-namespace": RELEASE_NAMESPACE},
}
# What to do when an Arc call fails with this HTTP status.
HINTS = {
    403: "connecting a cluster to Azure Arc needs cluster-admin rights: use a kubeconfig user that has them",
    OTHER: "check the cluster's state and re-run the task",
}


class ArcCluster:
    """The Arc objects of one cluster; `api_client` is a kubernetes.client.ApiClient, `where` names the cluster."""

    def __init__(self, api_client, where):
        # No urllib3 retries: an API server that refuses the connection fails the task at once.
        self.kube = KubeClient(api_client, where, retries=False)
        self.where = where

    def _call(self, what, method, path, body=None, **options):
        return self.kube.call(what, method, path, body=body, hints=HINTS, **options)

    # reads

    def server_version(self):
        """The API server's gitVersion; the first call, so an unreachable cluster fails here."""
        return self._call("read the Kubernetes version", "GET", "/version").get("gitVersion")

    def cluster_config(self):
        """azure-clusterconfig's data, or None when the ConfigMap does not exist."""
        config_map = self._call(
            f"read configmap {ARC_NAMESPACE}/{CLUSTER_CONFIG}",
            "GET",
            _namespaced(ARC_NAMESPACE, "configmaps", CLUSTER_CONFIG),
            missing_ok=True,
        )
        return None if config_map is None else dict(config_map.get("data") or {})

    def onboarding_key(self):
        """The OnboardingKey in the key Secret, or None when there is none (or it holds no RSA key).

        The caller must mask its secrets before anything else happens.
        """
        secret = self._call(
            f"read secret {ARC_NAMESPACE}/{KEY_SECRET}",
            "GET",
            _namespaced(ARC_NAMESPACE, "secrets", KEY_SECRET),
            missing_ok=True,
        )
        encoded = ((secret or {}).get("data") or {}).get(KEY_FIELD)
        if not encoded:
            return None
        try:
            pem = base64.b64decode(encoded).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            return None
        return _arc_keys.from_pem(pem)

    def namespace_exists(self, name):
        return self._namespace(name) is not None

    def agents_namespace_removed(self):
        """'gone' or 'being deleted' when namespace azure-arc (where the agents run) is, else None."""
        namespace = self._namespace(ARC_NAMESPACE)
        if namespace is None:
            return "gone"
        return "being deleted" if (namespace.get("metadata") or {}).get("deletionTimestamp") else None

    def existing_arc_crds(self):
        listed = self._call("list customresourcedefinitions", "GET", CRD_PATH)
        names = {(item.get("metadata") or {}).get("name") for item in listed.get("items") or []}
        return [name for name in ARC_CRDS if name in names]

    def leftovers(self):
        """Arc objects present without a helm release: the namespace azure-arc and Arc CRDs."""
        found = [f"namespace {ARC_NAMESPACE}"] if self.namespace_exists(ARC_NAMESPACE) else []
        return found + [f"CRD {name}" for name in self.existing_arc_crds()]

    # writes

    def store_onboarding_key(self, key, replace):
        """Create namespace azure-arc and the key Secret, both adoptable by helm.

        Called before the ARM PUT, so that a run stopped after the PUT and before helm leaves the key that proves
        the resource is this cluster's (detect(): unfinished_onboarding) and the next run finishes without force.
        The agent chart renders the same Secret from the helm value global.onboardingPrivateKey, which is passed
        too; helm adopts this one (label app.kubernetes.io/managed-by=Helm, annotations meta.helm.sh/release-name
        and release-namespace) instead of refusing it.
        The Azure Arc team's connectedk8s fork does the same: `inject_onboarding_private_key_secret` (in
        azext_connectedk8s/_utils.py) creates Secret azure-arc-connect-privatekey with that label and the release
        annotation in a namespace it prepares for helm, and patches it on a 409; unit tests
        test_private_key_injection_patches_existing_secret and test_private_key_injection_forwards_command_context
        in https://github.com/AzureArcForKubernetes/connectedk8s/blob/main/src/connectedk8s/azext_connectedk8s/tests/unittests/test_custom.py

        An existing Secret is replaced only when `replace`; otherwise it can only be another task's onboarding,
        started since this one looked, and this one stops before it writes anything else.
        """
        self._ensure_arc_namespace()
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": dict(_helm_owned_metadata(), name=KEY_SECRET, namespace=ARC_NAMESPACE),
            "type": "Opaque",
            "stringData": {KEY_FIELD: key.private_key_pem},
        }
        created = self._call(
            f"create secret {ARC_NAMESPACE}/{KEY_SECRET}",
            "POST",
            _namespaced(ARC_NAMESPACE, "secrets"),
            secret,
            conflict_ok=True,
        )
        if created is None and not replace:
            raise KubernetesError(
                f"Secret {ARC_NAMESPACE}/{KEY_SECRET} appeared on the cluster at {self.where} while this task was "
                "running: another task is onboarding this cluster. Re-run when it has finished."
            )
        if created is None:
            self._call(
                f"replace secret {ARC_NAMESPACE}/{KEY_SECRET}",
                "PUT",
                _namespaced(ARC_NAMESPACE, "secrets", KEY_SECRET),
                secret,
            )

    def delete_namespace(self, name):
        """Start deleting namespace azure-arc or azure-arc-release; False when it did not exist.

        Any other namespace (one helm reports the release in, such as kube-system) is refused before any request.
        """
        _only_arc_namespaces([name])
        done = self._call(f"delete namespace {name}", "DELETE", _namespace_path(name), missing_ok=True)
        return done is not None

    def delete_arc_crds(self):
        """Start deleting the Arc CRDs that exist; their names."""
        present = self.existing_arc_crds()
        for name in present:
            self._call(
                f"delete customresourcedefinition {name}", "DELETE", f"{CRD_PATH}/{quote(name)}", missing_ok=True
            )
        return present

    def wait_removed(self, namespaces, waiter, clock=time.monotonic, crds=True):
        """Wait until `namespaces` and (`crds`, after delete_arc_crds) the Arc CRDs are gone.

        A CRD still there CRD_DELETE_GRACE seconds in waits on finalizers nothing will ever clear (its agents are
        gone): they are removed, as az connectedk8s does (crd_cleanup_force_delete in
        https://github.com/Azure/azure-cli-extensions/blob/main/src/connectedk8s/azext_connectedk8s/custom.py).
        Without `crds` the CRDs are left as they are, as `az connectedk8s delete` without --force leaves them.
        """
        _only_arc_namespaces(namespaces)
        started = clock()
        unstuck = []

        def poll():
            present = self.existing_arc_crds() if crds else []
            if present and not unstuck and clock() - started >= CRD_DELETE_GRACE:
                for name in present:
                    self._call(
                        f"remove the finalizers of customresourcedefinition {name}",
                        "PATCH",
                        f"{CRD_PATH}/{quote(name)}",
                        {"metadata": {"finalizers": None}},
                        content_type=MERGE_PATCH,
                        missing_ok=True,
                    )
                unstuck.extend(present)
                present = self.existing_arc_crds()
            remaining = [f"namespace {name}" for name in namespaces if self.namespace_exists(name)]
            return remaining + [f"CRD {name}" for name in present], None

        waiter.poll_until(
            poll,
            done=lambda remaining: not remaining,
            what="the Arc agents' namespaces and CRDs to be deleted",
            describe=lambda remaining: "still present: " + ", ".join(remaining),
        )

    # helpers

    def _ensure_arc_namespace(self):
        namespace = self._namespace(ARC_NAMESPACE)
        if namespace is None:
            body = {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": dict(_helm_owned_metadata(), name=ARC_NAMESPACE),
            }
            created = self._call(
                f"create namespace {ARC_NAMESPACE}", "POST", "/api/v1/namespaces", body, conflict_ok=True
            )
            if created is not None:
                return
            namespace = self._namespace(ARC_NAMESPACE) or {}
        metadata = namespace.get("metadata") or {}
        if metadata.get("deletionTimestamp"):
            raise KubernetesError(
                f"Namespace {ARC_NAMESPACE} on the cluster at {self.where} is being deleted; re-run the task "
                "when it is gone (kubectl get namespace azure-arc)."
            )
        labels, annotations = metadata.get("labels") or {}, metadata.get("annotations") or {}
        wanted = _helm_owned_metadata()
        if all(labels.get(k) == v for k, v in wanted["labels"].items()) and all(
            annotations.get(k) == v for k, v in wanted["annotations"].items()
        ):
            return
        self._call(
            f"label namespace {ARC_NAMESPACE} for helm",
            "PATCH",
            _namespace_path(ARC_NAMESPACE),
            {"metadata": wanted},
            content_type=MERGE_PATCH,
        )

    def _namespace(self, name):
        return self._call(f"read namespace {name}", "GET", _namespace_path(name), missing_ok=True)


def _only_arc_namespaces(names):
    """A bug, not a user error, if ever raised: callers delete ARC_NAMESPACES only."""
    others = [name for name in names if name not in ARC_NAMESPACES]
    if others:
        raise ValueError(
            f"Refusing to delete namespace {', '.join(others)}: only {' and '.join(ARC_NAMESPACES)} are ever deleted."
        )


def _namespace_path(name):
    return "/api/v1/namespaces/" + quote(name, safe="")


def _namespaced(namespace, kind, name=None):
    path = f"{_namespace_path(namespace)}/{kind}"
    return path + "/" + quote(name, safe="") if name else path


def _helm_owned_metadata():
    return {"labels": dict(HELM_OWNERSHIP["labels"]), "annotations": dict(HELM_OWNERSHIP["annotations"])}
