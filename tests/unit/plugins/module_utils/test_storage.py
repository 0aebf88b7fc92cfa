"""The training volume's decisions without any server: validation of a share, and the plan for its two objects."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._storage.plan import (
    CREATE_CLAIM,
    CREATE_VOLUME,
    DELETE_CLAIM,
    DELETE_VOLUME,
    PATCH_CLAIM,
    PATCH_VOLUME,
    ForeignObject,
    ImmutableChange,
    merged,
    plan_absent,
    plan_present,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._storage.share import (
    ShareError,
    claim_body,
    share_from_params,
    share_view,
    volume_body,
)

PARAMS = {
    "name": "training-data",
    "server": "10.0.0.5",
    "path": "/srv/training",
    "capacity": "100Gi",
    "mount_path": "/mnt/training",
}


def share(**changes):
    return share_from_params(dict(PARAMS, **changes), "azureml-jobs")


def bound(share_, uid="claim-uid", **changes):
    """The volume and claim of `share_` as the API server holds them once the volume controller bound them."""
    volume = merged(volume_body(share_), {"metadata": {"resourceVersion": "7", "uid": "volume-uid"},
                                          "status": {"phase": "Bound"}})  # fmt: skip
    volume["spec"]["claimRef"] = dict(volume["spec"]["claimRef"], uid=uid)
    claim = merged(claim_body(share_), {"metadata": {"resourceVersion": "8", "uid": uid}, "status": {"phase": "Bound"}})
    return merged(volume, changes.get("volume", {})), merged(claim, changes.get("claim", {}))


# validation


@pytest.mark.parametrize(
    "server", ["10.0.0.5", "nfs01", "nfs01.contoso.local", "nfs01.contoso.local.", "fd00::5", "NFS-01.Contoso.Local"]
)
def test_servers_that_are_host_names_or_addresses(server):
    assert share(server=server).server == server


@pytest.mark.parametrize(
    "server",
    ["10.0.0.5:/srv", "nfs://nfs01", "nfs01/srv", "-nfs01", "nfs01-.local", "nfs_01", "a b", "10.0.0.256",
     "1.2.3", "x" * 64 + ".local", "[fd00::5]", ""],
)  # fmt: skip
def test_servers_that_are_neither_are_refused(server):
    with pytest.raises(ShareError, match="server"):
        share(server=server)


@pytest.mark.parametrize("capacity", ["1Gi", "500G", "1.5Ti", "1e12", "100"])
def test_capacities_that_are_quantities(capacity):
    assert share(capacity=capacity).capacity == capacity


@pytest.mark.parametrize("capacity", ["2 TB", "1GB", "Gi", "-1Gi", "0", "lots"])
def test_capacities_that_are_not_refused(capacity):
    with pytest.raises(ShareError, match="capacity"):
        share(capacity=capacity)


@pytest.mark.parametrize("option", ["path", "mount_path"])
@pytest.mark.parametrize("value", ["relative/dir", "./dir", "~/data", "/with space", "/tab\tpath"])
def test_paths_must_be_absolute_and_plain(option, value):
    with pytest.raises(ShareError, match=option):
        share(**{option: value})


def test_every_problem_is_listed_once_in_one_line():
    with pytest.raises(ShareError) as error:
        share(path="srv", capacity="big", server="nfs://x", mount_path="mnt")
    message = error.value.message
    assert message.startswith("Invalid share 'training-data': server 'nfs://x' is not a host name")
    assert message.count(";") == 3 and message.endswith("Nothing was changed.")


def test_the_volume_name_defaults_to_namespace_and_claim_and_says_so_when_too_long():
    assert share().volume_name == "azureml-jobs-training-data"
    assert share(volume_name="nfs-training").volume_name == "nfs-training"
    with pytest.raises(ShareError, match=r"\(namespace-name, the default: set volume_name\)"):
        share(name="x" * 250)


def test_removal_checks_only_the_names():
    removal = share_from_params({"name": "training-data", "path": "relative"}, "default", present=False)
    assert (removal.claim, removal.volume_name) == ("default/training-data", "default-training-data")
    with pytest.raises(ShareError, match="name 'Bad_Name'"):
        share_from_params({"name": "Bad_Name"}, "default", present=False)


def test_the_objects_carry_the_azure_ml_markers_and_are_reserved_for_each_other():
    share_ = share(read_only=True, mount_options=["nfsvers=4.1"], access_mode="ReadOnlyMany")
    volume, claim = volume_body(share_), claim_body(share_)
    assert volume["spec"]["claimRef"] == {"namespace": "azureml-jobs", "name": "training-data"}
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Retain" and volume["spec"]["storageClassName"] == ""
    assert volume["spec"]["nfs"] == {"server": "10.0.0.5", "path": "/srv/training", "readOnly": True}
    assert volume["spec"]["mountOptions"] == ["nfsvers=4.1"]
    assert claim["metadata"]["labels"]["ml.azure.com/pvc"] == "true"
    assert claim["metadata"]["annotations"] == {"ml.azure.com/mountpath": "/mnt/training"}
    assert claim["spec"]["volumeName"] == "azureml-jobs-training-data" and claim["spec"]["storageClassName"] == ""
    assert claim["spec"]["accessModes"] == volume["spec"]["accessModes"] == ["ReadOnlyMany"]


# plans


def test_nothing_there_creates_the_volume_then_the_claim():
    plan = plan_present(share(), None, None)
    assert plan.kinds == [CREATE_VOLUME, CREATE_CLAIM]
    assert plan.steps[0].body == volume_body(share()) and plan.steps[1].body == claim_body(share())


def test_a_bound_share_as_asked_needs_nothing():
    volume, claim = bound(share())
    assert plan_present(share(capacity="102400Mi"), volume, claim).steps == []


def test_in_place_changes_are_merge_patches_guarded_by_the_resource_version():
    volume, claim = bound(share(), volume={"spec": {"persistentVolumeReclaimPolicy": "Delete"}})
    plan = plan_present(share(mount_options=["hard"], mount_path="/data"), volume, claim)
    assert plan.kinds == [PATCH_VOLUME, PATCH_CLAIM]
    assert plan.steps[0].body == {
        "spec": {"persistentVolumeReclaimPolicy": "Retain", "mountOptions": ["hard"]},
        "metadata": {"resourceVersion": "7"},
    }
    assert plan.steps[0].action == (
        "update persistent volume azureml-jobs-training-data (reclaim_policy Delete -> Retain; mount_options [] -> "
        "['hard'])"
    )
    assert plan.steps[1].body == {
        "metadata": {"annotations": {"ml.azure.com/mountpath": "/data"}, "resourceVersion": "8"}
    }
    assert plan.claim["metadata"]["annotations"]["ml.azure.com/mountpath"] == "/data"


def test_a_claim_that_lost_the_azure_ml_label_gets_it_back():
    volume, claim = bound(share(), claim={"metadata": {"labels": {"ml.azure.com/pvc": None}}})
    plan = plan_present(share(), volume, claim)
    assert plan.kinds == [PATCH_CLAIM]
    assert plan.steps[0].body["metadata"]["labels"] == {"ml.azure.com/pvc": "true"}


def test_a_volume_whose_claim_went_is_freed_for_the_new_one():
    volume = bound(share(), volume={"status": {"phase": "Released"}})[0]
    plan = plan_present(share(), volume, None)
    assert plan.kinds == [PATCH_VOLUME, CREATE_CLAIM]
    assert plan.steps[0].body == {"spec": {"claimRef": {"uid": None, "resourceVersion": None}},
                                  "metadata": {"resourceVersion": "7"}}  # fmt: skip
    assert plan.volume["spec"]["claimRef"] == {"namespace": "azureml-jobs", "name": "training-data"}


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"server": "nfs02"}, "server 10.0.0.5 -> nfs02"),
        ({"path": "/srv/other"}, "path /srv/training -> /srv/other"),
        ({"read_only": True}, "read_only false -> true"),
        ({"capacity": "50Gi"}, "capacity 100Gi -> 50Gi"),
        ({"capacity": "200Gi"}, "claim capacity 100Gi -> 200Gi"),
        ({"access_mode": "ReadOnlyMany"}, "claim access_mode ReadWriteMany -> ReadOnlyMany"),
    ],
)
def test_what_cannot_change_in_place_of_a_bound_share_needs_force_replace(changes, reason):
    volume, claim = bound(share())
    with pytest.raises(ImmutableChange) as refused:
        plan_present(share(**changes), volume, claim)
    assert reason in refused.value.message and "Set force_replace: true" in refused.value.message

    plan = plan_present(share(**changes), volume, claim, force_replace=True)
    assert plan.kinds == [DELETE_CLAIM, DELETE_VOLUME, CREATE_VOLUME, CREATE_CLAIM]
    assert reason in plan.replace


def test_a_replacement_puts_retain_back_before_the_claim_goes():
    volume, claim = bound(share(), volume={"spec": {"persistentVolumeReclaimPolicy": "Recycle"}})
    plan = plan_present(share(server="nfs02"), volume, claim, force_replace=True)
    assert plan.kinds == [PATCH_VOLUME, DELETE_CLAIM, DELETE_VOLUME, CREATE_VOLUME, CREATE_CLAIM]


def test_a_share_that_is_not_bound_is_replaced_without_force():
    volume, claim = bound(share(), claim={"status": {"phase": "Pending"}})
    plan = plan_present(share(path="/srv/other"), volume, claim)
    assert plan.kinds == [DELETE_CLAIM, DELETE_VOLUME, CREATE_VOLUME, CREATE_CLAIM]


def test_a_volume_without_a_claim_is_replaced_alone():
    volume = bound(share(), volume={"status": {"phase": "Available"}})[0]
    plan = plan_present(share(server="nfs02"), volume, None)
    assert plan.kinds == [DELETE_VOLUME, CREATE_VOLUME, CREATE_CLAIM]


def test_a_claim_whose_volume_was_deleted_is_made_again_with_it():
    claim = bound(share(), claim={"status": {"phase": "Lost"}})[1]
    plan = plan_present(share(), None, claim)
    assert plan.kinds == [DELETE_CLAIM, CREATE_VOLUME, CREATE_CLAIM]
    assert plan.replace == ["volume azureml-jobs-training-data is gone"]


def test_a_volume_being_deleted_is_made_again_with_its_claim():
    volume, claim = bound(share(), volume={"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}})
    with pytest.raises(ImmutableChange, match="the volume is being deleted"):
        plan_present(share(), volume, claim)
    assert plan_present(share(), volume, claim, force_replace=True).kinds == [
        DELETE_CLAIM, DELETE_VOLUME, CREATE_VOLUME, CREATE_CLAIM,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"volume": {"metadata": {"labels": None}}}, "PersistentVolume azureml-jobs-training-data exists and was not"),
        ({"volume": {"spec": {"claimRef": {"name": "other"}}}},
         "PersistentVolume azureml-jobs-training-data is reserved for claim azureml-jobs/other, not"),
        ({"claim": {"metadata": {"labels": {"app.kubernetes.io/managed-by": "Helm"}}}},
         "PersistentVolumeClaim azureml-jobs/training-data exists and was not created by hci.arc_ml"),
        ({"claim": {"spec": {"volumeName": "elsewhere"}}},
         "PersistentVolumeClaim azureml-jobs/training-data is bound to volume elsewhere"),
    ],
)  # fmt: skip
def test_objects_that_are_not_the_shares_are_never_changed_or_deleted(changes, message):
    volume, claim = bound(share(), **changes)
    for plan in (lambda: plan_present(share(), volume, claim, force_replace=True),
                 lambda: plan_absent(share(), volume, claim)):  # fmt: skip
        with pytest.raises(ForeignObject) as refused:
            plan()
        assert refused.value.message.startswith(message) and refused.value.message.endswith("Nothing was changed.")


def test_removal_deletes_the_claim_then_the_volume_and_retain_comes_first():
    volume, claim = bound(share())
    assert plan_absent(share(), volume, claim).kinds == [DELETE_CLAIM, DELETE_VOLUME]
    assert plan_absent(share(), volume, None).kinds == [DELETE_VOLUME]
    assert plan_absent(share(), None, None).kinds == []
    volume["spec"]["persistentVolumeReclaimPolicy"] = "Delete"
    plan = plan_absent(share(), volume, claim)
    assert plan.kinds == [PATCH_VOLUME, DELETE_CLAIM, DELETE_VOLUME]
    assert plan.steps[2].action.endswith("(the data on the NFS export stays)")


def test_the_diff_view_leaves_out_the_phases():
    volume, claim = bound(share())
    view = share_view(volume, claim)
    assert "phase" not in view["volume"] and "phase" not in view["claim"]
    assert view["claim"]["mount_path"] == "/mnt/training" and view["volume"]["claim"] == "azureml-jobs/training-data"
    assert share_view(None, None) == {"volume": None, "claim": None}


def test_merge_patch_removes_nulls_and_replaces_lists():
    assert merged({"a": {"b": 1, "c": [1, 2]}, "d": 1}, {"a": {"b": None, "c": [3]}, "e": {"f": None}}) == {
        "a": {"c": [3]},
        "d": 1,
        "e": {},
    }
