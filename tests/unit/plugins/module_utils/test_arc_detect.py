"""The "already onboarded" table: every row, and what each one costs to find out."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._arc import detect

SUB = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
REQUESTED = (SUB, "rg-site", "site-1")
THIS = {"AZURE_SUBSCRIPTION_ID": SUB.upper(), "AZURE_RESOURCE_GROUP": "RG-Site", "AZURE_RESOURCE_NAME": "Site-1"}
OTHER = {"AZURE_SUBSCRIPTION_ID": SUB, "AZURE_RESOURCE_GROUP": "rg-old", "AZURE_RESOURCE_NAME": "old-name"}
CONNECTED = {"properties": {"connectivityStatus": "Connected", "agentPublicKeyCertificate": "K"}}
CONNECTING = {"properties": {"connectivityStatus": "Connecting", "agentPublicKeyCertificate": "K"}}


def release(status="deployed"):
    return {"name": "azure-arc", "namespace": "azure-arc-release", "status": status}


class Calls:
    """The lazy observations, counting how often each was asked for."""

    def __init__(self, other_exists=False, key_matches=False, leftovers=(), has_key=False):
        self.asked = []
        self._other, self._key, self._leftovers = other_exists, key_matches, list(leftovers)
        self._has_key = has_key

    def other_resource_exists(self, identity):
        self.asked.append(("other", identity))
        return self._other

    def cluster_key_matches(self):
        self.asked.append("key")
        return self._key

    def leftovers(self):
        self.asked.append("leftovers")
        return self._leftovers

    def cluster_has_key(self):
        self.asked.append("has key")
        return self._has_key


def plan(resource, release_, config, force=False, **calls):
    observed_calls = Calls(**calls)
    observed = detect.Observed(
        REQUESTED,
        resource,
        release_,
        config,
        "kubeconfig k context c",
        observed_calls.other_resource_exists,
        observed_calls.cluster_key_matches,
        observed_calls.leftovers,
        observed_calls.cluster_has_key,
    )
    return detect.detect(observed, force=force), observed_calls.asked


def test_a_provisioned_cluster_is_left_to_the_platform_without_looking_further():
    result, asked = plan({"kind": "ProvisionedCluster"}, release(), THIS)
    assert (result.situation, result.install, result.cleanup, result.failure) == (
        "platform_managed",
        False,
        False,
        None,
    )
    assert asked == []


def test_onboarded_and_connected_needs_no_key_and_no_helm():
    result, asked = plan(CONNECTED, release(), THIS)
    assert (result.situation, result.install, result.key, result.failure) == ("onboarded", False, None, None)
    assert asked == []


def test_onboarded_not_yet_connected_with_a_fitting_key_just_waits():
    result, asked = plan(CONNECTING, release(), THIS, key_matches=True)
    assert (result.situation, result.install) == ("onboarded", False)
    assert asked == ["key"]


def test_onboarded_with_a_key_that_no_longer_fits_is_reinstalled_with_a_new_key():
    result = plan(CONNECTING, release(), THIS, key_matches=False)[0]
    assert (result.situation, result.install, result.key, result.cleanup) == ("key_mismatch", True, "new", False)


def test_an_offline_cluster_whose_key_cannot_be_read_is_not_rekeyed():
    # cluster_key_matches() is None when the cluster holds no readable key: nothing proves a mismatch, so an
    # Offline (or still Connecting) cluster keeps its identity instead of getting a new key.
    offline = {"properties": {"connectivityStatus": "Offline", "agentPublicKeyCertificate": "K"}}
    for resource in (offline, CONNECTING):
        result, asked = plan(resource, release(), THIS, key_matches=None)
        assert (result.situation, result.install, result.key) == ("onboarded", False, None)
        assert asked == ["key"]


def test_a_release_that_is_not_deployed_without_a_readable_key_gets_a_new_one():
    # helm needs a private key to repair the release, and none can be read: a new one.
    assert plan(CONNECTED, release("failed"), THIS, key_matches=None)[0].key == "new"


@pytest.mark.parametrize("status", ["failed", "superseded", "unknown"])
def test_a_release_that_is_not_deployed_is_repaired_keeping_a_fitting_key(status):
    kept = plan(CONNECTED, release(status), THIS, key_matches=True)[0]
    assert (kept.situation, kept.install, kept.key, kept.cleanup) == ("release_failed", True, "cluster", False)
    rekeyed = plan(CONNECTED, release(status), THIS, key_matches=False)[0]
    assert rekeyed.key == "new"


@pytest.mark.parametrize("status", ["pending-install", "pending-upgrade", "pending-rollback", "uninstalling"])
def test_a_release_in_the_middle_of_a_helm_operation_is_refused_unless_forced(status):
    refused = plan(CONNECTED, release(status), THIS)[0]
    assert refused.situation == "release_busy" and status in refused.failure and "force: true" in refused.failure
    forced = plan(CONNECTED, release(status), THIS, force=True, key_matches=True)[0]
    assert (forced.failure, forced.cleanup, forced.install, forced.key) == (None, True, True, "cluster")


def test_onboarded_as_another_existing_resource_fails_naming_it_even_with_force():
    for force in (False, True):
        result, asked = plan(CONNECTED, release(), OTHER, force=force, other_exists=True)
        assert result.situation == "onboarded_elsewhere"
        assert "'old-name' in resource group 'rg-old'" in result.failure
        assert SUB in result.failure and "'site-1' in 'rg-site'" in result.failure
        assert asked == [("other", (SUB, "rg-old", "old-name"))]


def test_agents_of_a_resource_that_is_gone_are_cleaned_up_and_the_cluster_onboarded():
    # Agents that name another resource (gone) are removed only with force (issue 17): see the test below.
    other_gone = plan(None, release(), OTHER, force=True, other_exists=False)[0]
    assert (other_gone.situation, other_gone.cleanup, other_gone.install, other_gone.key) == (
        "stale_release",
        True,
        True,
        "new",
    )
    this_gone, asked = plan(None, release(), THIS)
    assert (this_gone.situation, this_gone.cleanup, this_gone.key) == ("stale_release", True, "new")
    assert "leftovers" not in asked  # the cleanup happens anyway


def test_agents_naming_another_resource_are_never_cleaned_up_without_force():
    # The ConfigMap names old-name, whose resource is gone (or not ours to see): nothing proves that these
    # agents are site-1's, so a run for site-1 removes nothing and names the other identity.
    refused, asked = plan(None, release(), OTHER, other_exists=False)
    assert (refused.situation, refused.cleanup, refused.install) == ("stale_release", False, False)
    assert "'old-name' in resource group 'rg-old'" in refused.failure and SUB in refused.failure
    assert "'site-1' in 'rg-site'" in refused.failure and "force: true" in refused.failure
    assert asked == [("other", (SUB, "rg-old", "old-name"))]


def test_agents_naming_another_resource_are_cleaned_up_when_the_key_proves_them_this_resources():
    # The key Secret fits this resource's agentPublicKeyCertificate: that proves them ours, as the ConfigMap would.
    result = plan(CONNECTING, release(), OTHER, other_exists=False, key_matches=True)[0]
    assert (result.situation, result.cleanup, result.install, result.key, result.failure) == (
        "stale_release",
        True,
        True,
        "cluster",
        None,
    )


def test_leftovers_without_a_release_that_name_another_resource_are_refused_unless_forced():
    refused, asked = plan(None, None, OTHER, leftovers=["namespace azure-arc"])
    assert (refused.situation, refused.cleanup, refused.install) == ("not_onboarded", False, False)
    assert "'old-name' in resource group 'rg-old'" in refused.failure and "force: true" in refused.failure
    assert "leftovers" in asked
    forced = plan(None, None, OTHER, force=True, leftovers=["namespace azure-arc"])[0]
    assert (forced.failure, forced.cleanup, forced.install, forced.key) == (None, True, True, "new")
    # Leftovers whose ConfigMap names this resource are this resource's: cleaned without force.
    ours = plan(None, None, THIS, leftovers=["namespace azure-arc"])[0]
    assert (ours.failure, ours.cleanup) == (None, True)
    # A ConfigMap with nothing left to clean (it cannot be there without its namespace) asks nothing more.
    assert plan(None, None, OTHER)[0].failure is None


def test_a_stale_release_next_to_an_existing_requested_resource_still_needs_proof_or_force():
    refused = plan(CONNECTED, release(), OTHER, other_exists=False, key_matches=False)[0]
    assert refused.situation == "resource_without_release" and "already exists" in refused.failure
    forced = plan(CONNECTED, release(), OTHER, force=True, other_exists=False, key_matches=False)[0]
    assert (forced.situation, forced.cleanup, forced.key) == ("stale_release", True, "new")


def test_a_release_without_its_configmap_is_refused_unless_forced():
    refused, asked = plan(CONNECTED, release(), None)
    assert refused.situation == "release_without_config"
    assert "azure-clusterconfig is missing" in refused.failure and "--namespace azure-arc-release" in refused.failure
    assert asked == []
    forced = plan(CONNECTED, release(), None, force=True, key_matches=True)[0]
    assert (forced.situation, forced.cleanup, forced.install, forced.key) == (
        "release_without_config",
        True,
        True,
        "cluster",
    )


def test_a_resource_without_agents_whose_key_the_cluster_holds_is_an_interrupted_onboarding():
    result, asked = plan(CONNECTING, None, None, key_matches=True, leftovers=["namespace azure-arc"])
    assert (result.situation, result.install, result.key, result.cleanup) == (
        "unfinished_onboarding",
        True,
        "cluster",
        False,
    )
    assert "leftovers" not in asked  # its namespace holds the proof: never cleaned


def test_a_resource_without_agents_and_without_proof_is_refused_unless_forced():
    refused = plan(CONNECTED, None, None, key_matches=False)[0]
    assert refused.situation == "resource_without_release"
    assert "'site-1' in resource group 'rg-site' already exists" in refused.failure
    assert "force: true" in refused.failure
    forced = plan(CONNECTED, None, None, force=True, leftovers=["CRD connectedclusters.arc.azure.com"])[0]
    assert (forced.failure, forced.install, forced.key, forced.cleanup) == (None, True, "new", True)


def test_nothing_anywhere_is_a_fresh_onboarding_that_clears_leftovers_first():
    clean = plan(None, None, None)[0]
    assert (clean.situation, clean.install, clean.key, clean.cleanup) == ("not_onboarded", True, "new", False)
    dirty = plan(None, None, None, leftovers=["namespace azure-arc"])[0]
    assert dirty.cleanup is True


def test_a_key_in_the_cluster_without_a_resource_is_an_onboarding_carried_on_with_that_key():
    # Stopped (or still running in another task) after storing its key and before its ARM write: never cleaned up,
    # so a concurrent run's namespace and helm install stay, and a fresh key would only collide with its Secret.
    result, asked = plan(None, None, None, has_key=True, leftovers=["namespace azure-arc", "CRD x"])
    assert (result.situation, result.install, result.key, result.cleanup, result.failure) == (
        "unfinished_onboarding",
        True,
        "cluster",
        False,
        None,
    )
    assert "leftovers" not in asked
    # A ConfigMap naming another resource still needs force, which cleans up and onboards with a new key.
    refused = plan(None, None, OTHER, has_key=True, leftovers=["namespace azure-arc"])[0]
    assert refused.failure and "'old-name' in resource group 'rg-old'" in refused.failure
    forced = plan(None, None, OTHER, force=True, has_key=True, leftovers=["namespace azure-arc"])[0]
    assert (forced.cleanup, forced.key) == (True, "new")
    # A stale release is removed with its namespace, key included: a new key then.
    stale = plan(None, release(), THIS, has_key=True)[0]
    assert (stale.situation, stale.cleanup, stale.key) == ("stale_release", True, "new")


def test_config_identity_is_lower_cased_and_complete():
    assert detect.config_identity(THIS) == REQUESTED
    assert detect.config_identity({}) == ("", "", "")
    assert "failure" not in repr(detect.Plan("onboarded")) and "install=True" in repr(detect.Plan("x", install=True))
