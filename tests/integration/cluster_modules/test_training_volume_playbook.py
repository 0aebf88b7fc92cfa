"""hci.arc_ml.training_volume through ansible-playbook against a real kube-apiserver and kube-controller-manager.

The testbed's controller manager runs the volume controller (persistentvolume-binder), which binds a claim to the
volume reserved for it, as on a real cluster. Each test uses shares of its own names on one cluster of its own.
"""

import base64
from pathlib import Path

import pytest
import yaml
from cluster_helpers import dump, task

from sandbox.k8s.api import KubeApiError
from sandbox.testing import wait_for

pytestmark = pytest.mark.testbed

VOLUMES = "/api/v1/persistentvolumes"
NFS = {"server": "nfs01.contoso.local", "path": "/srv/training", "capacity": "100Gi", "mount_path": "/mnt/training"}


class StorageCluster:
    def __init__(self, cluster):
        self.cluster = cluster
        self.kubeconfig = str(cluster.kubeconfig)

    @property
    def api(self):
        return self.cluster.api()

    def volume(self, name):
        return self._get(f"{VOLUMES}/{name}")

    def claim(self, name, namespace="default"):
        return self._get(f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}")

    def _get(self, path):
        try:
            return self.api.get(path)
        except KubeApiError as exc:
            if exc.status == 404:
                return None
            raise

    def secrets(self):
        """The kubeconfig's private key, as the file holds it and decoded: neither may reach any output."""
        encoded = yaml.safe_load(Path(self.kubeconfig).read_text())["users"][0]["user"]["client-key-data"]
        body = "".join(line for line in base64.b64decode(encoded).decode().splitlines() if "-----" not in line)
        return [encoded, body[:40], body[-40:]]

    def versions(self, volume, claim, namespace="default"):
        """The two objects' resourceVersions: unchanged means nothing was written to them."""
        return [(obj or {}).get("metadata", {}).get("resourceVersion")
                for obj in (self.volume(volume), self.claim(claim, namespace))]  # fmt: skip


@pytest.fixture(scope="module")
def storage(start_cluster):
    cluster = StorageCluster(start_cluster("ct-storage"))
    cluster.api.post("/api/v1/namespaces", {"metadata": {"name": "azureml-jobs"}})
    return cluster


def share(storage, name, **options):
    return task("training_volume", kubeconfig=storage.kubeconfig, name=name, **dict(NFS, **options))


def test_bound_after_the_first_run_then_nothing_changes_also_in_check_diff_mode(storage, playbook):
    run = playbook([share(storage, "data"), share(storage, "data", capacity="102400Mi")], "-vvvv")

    first, second = run.results
    assert not first.get("failed"), dump(run)
    assert first["changed"] is True and first["phase"] == "Bound"
    claim, volume = storage.claim("data"), storage.volume("default-data")
    assert claim["status"]["phase"] == "Bound" and volume["status"]["phase"] == "Bound"
    assert claim["metadata"]["labels"]["ml.azure.com/pvc"] == "true"
    assert claim["metadata"]["annotations"]["ml.azure.com/mountpath"] == "/mnt/training"
    assert claim["spec"]["volumeName"] == "default-data" and claim["spec"]["storageClassName"] == ""
    assert volume["spec"]["claimRef"]["uid"] == claim["metadata"]["uid"]
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert volume["spec"]["nfs"] == {"server": "nfs01.contoso.local", "path": "/srv/training"}
    assert first["volume"]["phase"] == "Bound" and first["claim"]["volume_name"] == "default-data"

    assert second["changed"] is False and second["actions"] == [], dump(run)
    for secret in storage.secrets():
        assert secret not in run.output

    versions = storage.versions("default-data", "data")
    check = playbook([share(storage, "data")], "--check", "--diff")
    (result,) = check.results
    assert result["changed"] is False and result["phase"] == "Bound", dump(check)
    assert storage.versions("default-data", "data") == versions


def test_check_mode_of_a_new_share_dry_runs_and_writes_nothing(storage, playbook):
    run = playbook([share(storage, "preview", mount_options=["nfsvers=4.1"])], "--check", "--diff")

    (result,) = run.results
    assert not result.get("failed"), dump(run)
    assert result["changed"] is True and result["phase"] is None
    assert [line.split(" (")[0] for line in result["actions"]] == [
        "create persistent volume default-preview",
        "create persistent volume claim default/preview",
    ]
    assert result["volume"]["mount_options"] == ["nfsvers=4.1"]
    assert '+        "mount_path": "/mnt/training",' in run.output, run.output
    assert storage.volume("default-preview") is None and storage.claim("preview") is None


def test_a_foreign_volume_with_the_same_name_is_never_taken_over(storage, playbook):
    foreign = {
        "metadata": {"name": "default-foreign"},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteMany"],
                 "nfs": {"server": "10.9.9.9", "path": "/theirs"}},
    }  # fmt: skip
    storage.api.post(VOLUMES, foreign)
    # The controller-manager marks a new volume Available (a status write); only then is it settled.
    before = wait_for(lambda: (storage.volume("default-foreign").get("status") or {}).get("phase") == "Available"
                      and storage.volume("default-foreign"), "the foreign volume to be Available")  # fmt: skip

    run = playbook([share(storage, "foreign"), share(storage, "foreign", state="absent")])

    present, absent = run.results
    for result in (present, absent):
        assert result["failed"] is True and result["changed"] is False, dump(run)
        assert result["msg"].startswith("PersistentVolume default-foreign exists and was not created by hci.arc_ml")
    assert storage.volume("default-foreign")["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert storage.claim("foreign") is None


def test_an_immutable_change_is_refused_until_force_replace(storage, playbook):
    playbook([share(storage, "moving")])
    versions = storage.versions("default-moving", "moving")
    old_uid = storage.claim("moving")["metadata"]["uid"]

    run = playbook([share(storage, "moving", server="10.0.0.6"),
                    share(storage, "moving", server="10.0.0.6", force_replace=True),
                    share(storage, "moving", server="10.0.0.6")])  # fmt: skip

    refused, replaced, again = run.results
    assert refused["failed"] is True and refused["changed"] is False, dump(run)
    assert "is Bound and cannot change in place: server nfs01.contoso.local -> 10.0.0.6." in refused["msg"]
    assert replaced["changed"] is True and replaced["phase"] == "Bound", dump(run)
    assert again["changed"] is False, dump(run)
    assert versions != storage.versions("default-moving", "moving")
    assert storage.volume("default-moving")["spec"]["nfs"]["server"] == "10.0.0.6"
    assert storage.claim("moving")["metadata"]["uid"] != old_uid


def test_mount_path_and_mount_options_change_in_place(storage, playbook):
    playbook([share(storage, "tuned")])
    uid = storage.claim("tuned")["metadata"]["uid"]

    run = playbook([share(storage, "tuned", mount_path="/mnt/data", mount_options=["nfsvers=4.1", "hard"])])

    (result,) = run.results
    assert result["changed"] is True and len(result["actions"]) == 2, dump(run)
    assert storage.claim("tuned")["metadata"]["uid"] == uid
    assert storage.claim("tuned")["metadata"]["annotations"]["ml.azure.com/mountpath"] == "/mnt/data"
    assert storage.volume("default-tuned")["spec"]["mountOptions"] == ["nfsvers=4.1", "hard"]


def test_a_claim_deleted_by_hand_is_made_again_and_bound_to_the_released_volume(storage, playbook):
    playbook([share(storage, "redo")])
    storage.api.delete("/api/v1/namespaces/default/persistentvolumeclaims/redo")

    run = playbook([share(storage, "redo")])

    (result,) = run.results
    assert result["changed"] is True and result["phase"] == "Bound", dump(run)
    assert result["actions"][0] == "update persistent volume default-redo (free it for a new claim default/redo)"


def test_a_volume_deleted_by_hand_under_its_bound_claim_is_made_again_with_force_replace(storage, playbook):
    playbook([share(storage, "orphan")])
    storage.api.delete(f"{VOLUMES}/default-orphan")  # held Terminating by kubernetes.io/pv-protection
    assert storage.volume("default-orphan")["metadata"].get("deletionTimestamp")

    run = playbook([share(storage, "orphan"), share(storage, "orphan", force_replace=True)])

    refused, replaced = run.results
    assert refused["failed"] is True and "cannot change in place: the volume is being deleted." in refused["msg"]
    assert replaced["changed"] is True and replaced["phase"] == "Bound", dump(run)
    assert not storage.volume("default-orphan")["metadata"].get("deletionTimestamp")


def test_absent_removes_the_claim_and_the_volume_objects(storage, playbook):
    playbook([share(storage, "gone", namespace="azureml-jobs")])
    assert storage.claim("gone", "azureml-jobs")["status"]["phase"] == "Bound"

    removal = task("training_volume", kubeconfig=storage.kubeconfig, name="gone", namespace="azureml-jobs",
                   state="absent")  # fmt: skip
    run = playbook([removal, removal])

    first, second = run.results
    assert first["changed"] is True and first["actions"] == [
        "delete persistent volume claim azureml-jobs/gone",
        "delete persistent volume azureml-jobs-gone (the data on the NFS export stays)",
    ], dump(run)
    assert storage.claim("gone", "azureml-jobs") is None and storage.volume("azureml-jobs-gone") is None
    assert second["changed"] is False and second["actions"] == []


@pytest.mark.parametrize(
    "options, message",
    [
        ({"path": "srv/training"}, "path 'srv/training' is not an absolute path"),
        ({"capacity": "100 GB"}, "capacity '100 GB' is not a Kubernetes quantity"),
        ({"server": "nfs01:/srv"}, "server 'nfs01:/srv' is not a host name or an IP address"),
        ({"namespace": "not-there"}, "Namespace not-there does not exist on the cluster."),
    ],
)
def test_bad_inputs_fail_before_any_write(storage, playbook, options, message):
    run = playbook([share(storage, "bad", **options)])

    (result,) = run.results
    assert result["failed"] is True and result["changed"] is False, dump(run)
    assert message in result["msg"] and "Traceback" not in run.output
    assert storage.claim("bad") is None and storage.volume("default-bad") is None
