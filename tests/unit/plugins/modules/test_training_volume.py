"""hci.arc_ml.training_volume against an in-memory API server that binds claims as kube-controller-manager does.

The API server keeps namespaces, PersistentVolumes and claims, applies JSON merge patches with the real
server's immutability rules (a volume's NFS source; a claim's spec but its volumeName, once) and honours dryRun;
its volume controller binds a claim to the volume reserved for it on the next read. Azure answers the compute
read with the ML provider's body.
"""

import copy
import json
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import test_resource_provider as provider_tests
from ansible_collections.hci.arc_ml.plugins.module_utils._common.module import ArcMLModule
from ansible_collections.hci.arc_ml.plugins.modules import training_volume
from ansible_collections.hci.arc_ml.tests.unit.plugins.conftest import run_module

SHARE = {
    "name": "training-data",
    "server": "nfs01.contoso.local",
    "path": "/srv/training",
    "capacity": "2Ti",
    "mount_path": "/mnt/training",
}
VOLUMES = "/api/v1/persistentvolumes"
SUBSCRIPTION = provider_tests.SUBSCRIPTION
WORKSPACE = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces"
WORKSPACE += "/mlw"
CLAIM_CREATED = (
    "create persistent volume claim default/training-data (volume default-training-data, mounted at /mnt/training)"
)
IN_WORKSPACE = dict(provider_tests.AUTH, workspace_name="mlw", resource_group="rg-ml")


class Answer:
    def __init__(self, status, body):
        self.status, self.reason = status, "Reason"
        self.data = json.dumps(body).encode()


def status(code, message, name=None):
    return Answer(code, {"kind": "Status", "code": code, "message": message, "details": {"name": name}})


def merge(target, patch):
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge(result.get(key), value)
    return result


class FakeStorageServer:
    """Namespaces, PersistentVolumes and claims in memory; `binds` False stops the volume controller."""

    def __init__(self, namespaces=("default", "azureml-jobs")):
        self.namespaces = set(namespaces)
        self.volumes = {}
        self.claims = {}
        self.binds = True
        self.writes = []
        self.version = 100

    # the volume controller

    def bind(self):
        if not self.binds:
            return
        for (namespace, name), claim in self.claims.items():
            volume = self.volumes.get(claim["spec"].get("volumeName"))
            if volume is None or claim["status"].get("phase") == "Bound":
                continue
            ref = volume["spec"].get("claimRef") or {}
            uid = claim["metadata"]["uid"]
            if (ref.get("namespace"), ref.get("name")) == (namespace, name) and ref.get("uid") in (None, uid):
                volume["spec"]["claimRef"] = dict(ref, uid=uid, kind="PersistentVolumeClaim")
                volume["status"] = {"phase": "Bound"}
                claim["status"] = {"phase": "Bound", "capacity": dict(volume["spec"]["capacity"])}

    def release(self, claim):
        for volume in self.volumes.values():
            if (volume["spec"].get("claimRef") or {}).get("uid") == claim["metadata"]["uid"]:
                volume["status"] = {"phase": "Released"}

    # the API

    def request(self, method, url, body=None, headers=None, **kwargs):
        parts = urlsplit(url)
        path = parts.path
        dry_run = parse_qs(parts.query).get("dryRun") == ["All"]
        if method != "GET" and not dry_run:
            self.writes.append(f"{method} {path}")
        if method == "GET":
            self.bind()
        if path.startswith("/api/v1/namespaces/") and "/persistentvolumeclaims" not in path:
            name = path.rsplit("/", 1)[1]
            if name in self.namespaces:
                return Answer(200, {"kind": "Namespace", "metadata": {"name": name}})
            return status(404, f'namespaces "{name}" not found', name)
        if path.startswith(VOLUMES):
            return self.serve(self.volumes, path[len(VOLUMES) + 1 :], method, body, dry_run, self.check_volume)
        namespace = path.split("/")[4]
        collection = {n: c for (ns, n), c in self.claims.items() if ns == namespace}
        answer = self.serve(collection, path.split("/persistentvolumeclaims")[1][1:], method, body, dry_run,
                            self.check_claim, namespace)  # fmt: skip
        self.claims = {k: v for k, v in self.claims.items() if k[0] != namespace}
        self.claims.update({(namespace, n): c for n, c in collection.items()})
        return answer

    def serve(self, objects, name, method, body, dry_run, check, namespace=None):
        if method == "GET":
            found = objects.get(name)
            return Answer(200, found) if found else status(404, f'"{name}" not found', name)
        if method == "POST":
            item = json.loads(body)
            name = item["metadata"]["name"]
            if name in objects:
                return status(409, f'"{name}" already exists', name)
            self.version += 1
            item["metadata"].update(uid=str(uuid.uuid4()), resourceVersion=str(self.version))
            if namespace:
                item["metadata"]["namespace"] = namespace
            item["status"] = {"phase": "Pending" if namespace else "Available"}
            if not dry_run:
                objects[name] = item
            return Answer(201, item)
        current = objects.get(name)
        if current is None:
            return status(404, f'"{name}" not found', name)
        if method == "DELETE":
            if not dry_run:
                del objects[name]
                if namespace:
                    self.release(current)
            return Answer(200, current)
        patch = json.loads(body)
        wanted = (patch.get("metadata") or {}).get("resourceVersion")
        if wanted and wanted != current["metadata"]["resourceVersion"]:
            return status(409, "the object has been modified", name)
        changed = merge(current, patch)
        problem = check(current, changed)
        if problem:
            return status(422, problem, name)
        if not dry_run:
            self.version += 1
            changed["metadata"]["resourceVersion"] = str(self.version)
            objects[name] = changed
        return Answer(200, changed)

    @staticmethod
    def check_volume(old, new):
        if old["spec"].get("nfs") != new["spec"].get("nfs"):
            return "spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation"
        return None

    @staticmethod
    def check_claim(old, new):
        old_spec, new_spec = dict(old["spec"]), dict(new["spec"])
        if not old_spec.get("volumeName"):
            old_spec["volumeName"] = new_spec.get("volumeName")
        if old_spec != new_spec:
            return "spec: Forbidden: spec is immutable after creation except resources.requests"
        return None

    # helpers for the tests

    def volume(self, name="default-training-data"):
        return self.volumes.get(name)

    def claim(self, name="training-data", namespace="default"):
        return self.claims.get((namespace, name))

    def add(self, volume=None, claim=None):
        if volume is not None:
            self.volumes[volume["metadata"]["name"]] = copy.deepcopy(volume)
        if claim is not None:
            claim = copy.deepcopy(claim)
            claim.setdefault("status", {"phase": "Pending"})
            self.claims[(claim["metadata"]["namespace"], claim["metadata"]["name"])] = claim


@pytest.fixture
def storage(monkeypatch):
    from kubernetes import client

    fake = FakeStorageServer()

    def kube_client(self):
        api_client = client.ApiClient(client.Configuration(host="https://192.0.2.1:6443"))
        api_client.rest_client.pool_manager = fake
        return api_client

    monkeypatch.setattr(ArcMLModule, "kube_client", kube_client)
    return fake


@pytest.fixture
def instant_waits(monkeypatch, fake_clock):
    monkeypatch.setattr(time, "monotonic", fake_clock)
    monkeypatch.setattr(time, "sleep", fake_clock.sleep)
    return fake_clock


def run(capsys, *option_sets, **args):
    """Run the module with the options of `option_sets` (dicts, later ones winning), then `args`."""
    args = {key: value for options in (*option_sets, args) for key, value in options.items()}
    return run_module(capsys, training_volume, args)


def test_creates_a_reserved_volume_and_claim_waits_until_bound_then_changes_nothing(storage, capsys):
    first = run(capsys, SHARE)

    assert first["changed"] is True, first
    assert first["actions"] == [
        "create persistent volume default-training-data (nfs nfs01.contoso.local:/srv/training, 2Ti, ReadWriteMany)",
        CLAIM_CREATED,
    ]
    assert first["phase"] == "Bound" and first["namespace"] == "default"
    assert first["msg"] == "Changed share default/training-data (volume default-training-data); its claim is Bound."
    volume, claim = storage.volume(), storage.claim()
    assert volume["spec"] == {
        "capacity": {"storage": "2Ti"},
        "accessModes": ["ReadWriteMany"],
        "persistentVolumeReclaimPolicy": "Retain",
        "storageClassName": "",
        "claimRef": {"namespace": "default", "name": "training-data", "uid": claim["metadata"]["uid"],
                     "kind": "PersistentVolumeClaim"},
        "nfs": {"server": "nfs01.contoso.local", "path": "/srv/training"},
    }  # fmt: skip
    assert volume["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "hci.arc_ml"}
    assert claim["metadata"]["labels"] == {"ml.azure.com/pvc": "true", "app.kubernetes.io/managed-by": "hci.arc_ml"}
    assert claim["metadata"]["annotations"] == {"ml.azure.com/mountpath": "/mnt/training"}
    assert claim["spec"] == {
        "storageClassName": "",
        "volumeName": "default-training-data",
        "accessModes": ["ReadWriteMany"],
        "resources": {"requests": {"storage": "2Ti"}},
    }
    assert first["claim"] == {
        "name": "training-data", "namespace": "default", "volume_name": "default-training-data", "capacity": "2Ti",
        "access_modes": ["ReadWriteMany"], "mount_path": "/mnt/training", "azureml_mountable": True, "phase": "Bound",
    }  # fmt: skip
    assert first["volume"]["claim"] == "default/training-data" and first["volume"]["reclaim_policy"] == "Retain"

    writes = list(storage.writes)
    second = run(capsys, SHARE, capacity="2048Gi")
    assert second["changed"] is False and second["actions"] == [], second
    assert second["msg"] == (
        "The share default/training-data (volume default-training-data) is as asked; its claim is Bound."
    )
    assert storage.writes == writes


def test_check_mode_dry_runs_and_reports_the_phase_on_the_cluster(storage, capsys):
    new = run(capsys, SHARE, _ansible_check_mode=True, _ansible_diff=True)
    assert new["changed"] is True and len(new["actions"]) == 2
    assert new["phase"] is None and new["claim"]["phase"] is None and new["volume"]["phase"] is None
    assert new["claim"]["mount_path"] == "/mnt/training"
    assert new["diff"]["before"] == {"volume": None, "claim": None}
    assert new["diff"]["after"]["volume"]["server"] == "nfs01.contoso.local"
    assert "phase" not in new["diff"]["after"]["claim"]
    assert new["msg"] == (
        "Would change share default/training-data (volume default-training-data) (check mode); its claim does not "
        "exist yet."
    )
    assert storage.writes == [] and storage.volumes == {} and storage.claims == {}

    run(capsys, SHARE)
    again = run(capsys, SHARE, _ansible_check_mode=True, _ansible_diff=True)
    assert again["changed"] is False and again["phase"] == "Bound"
    assert again["diff"]["before"] == again["diff"]["after"]


def test_mount_path_and_options_change_in_place(storage, capsys):
    run(capsys, SHARE)
    uid = storage.claim()["metadata"]["uid"]
    changed = run(capsys, SHARE, mount_path="/mnt/data", mount_options=["nfsvers=4.1", "hard"])
    assert changed["actions"] == [
        "update persistent volume default-training-data (mount_options [] -> ['nfsvers=4.1', 'hard'])",
        "update persistent volume claim default/training-data (mount_path /mnt/training -> /mnt/data)",
    ]
    assert storage.claim()["metadata"]["uid"] == uid, "changed in place, not re-created"
    assert storage.volume()["spec"]["mountOptions"] == ["nfsvers=4.1", "hard"]
    assert changed["claim"]["mount_path"] == "/mnt/data" and changed["phase"] == "Bound"
    removed = run(capsys, SHARE, mount_path="/mnt/data")
    assert removed["actions"] == [
        "update persistent volume default-training-data (mount_options ['nfsvers=4.1', 'hard'] -> [])"
    ]
    assert "mountOptions" not in storage.volume()["spec"]


def test_a_reclaim_policy_changed_by_hand_goes_back_to_retain(storage, capsys):
    run(capsys, SHARE)
    storage.volume()["spec"]["persistentVolumeReclaimPolicy"] = "Delete"
    result = run(capsys, SHARE)
    assert result["actions"] == ["update persistent volume default-training-data (reclaim_policy Delete -> Retain)"]
    assert storage.volume()["spec"]["persistentVolumeReclaimPolicy"] == "Retain"


def test_an_immutable_change_of_a_bound_share_is_refused_without_force_replace(storage, capsys):
    run(capsys, SHARE)
    writes = list(storage.writes)
    refused = run(capsys, SHARE, server="10.0.0.6", capacity="3Ti")
    assert refused["failed"] is True and refused["changed"] is False and refused["actions"] == []
    assert refused["msg"] == (
        "Share default/training-data (volume default-training-data) is Bound and cannot change in place: server "
        "nfs01.contoso.local -> 10.0.0.6; capacity 2Ti -> 3Ti; claim capacity 2Ti -> 3Ti. Kubernetes fixes these "
        "when a volume and its claim are created. Set force_replace: true to delete both and create them again (the "
        "data on the NFS export is not touched; a claim in use by jobs goes away when they end, which the task waits "
        "for up to wait_timeout), or ask for what the share has. Nothing was changed."
    )
    assert storage.writes == writes


def test_force_replace_recreates_both_and_binds_the_new_claim(storage, capsys, instant_waits):
    run(capsys, SHARE)
    old_uid = storage.claim()["metadata"]["uid"]
    preview = run(capsys, SHARE, _ansible_check_mode=True, force_replace=True, server="10.0.0.6")
    assert [line.split(": ", 1)[1] for line in preview["actions"]] == [
        "delete persistent volume claim default/training-data",
        "delete persistent volume default-training-data (the data on the NFS export stays)",
        "create persistent volume default-training-data (nfs 10.0.0.6:/srv/training, 2Ti, ReadWriteMany)",
        CLAIM_CREATED,
    ]
    assert preview["actions"][0].startswith(
        "replace persistent volume default-training-data and claim default/training-data (server "
        "nfs01.contoso.local -> 10.0.0.6): "
    )
    assert storage.claim()["metadata"]["uid"] == old_uid

    replaced = run(capsys, SHARE, force_replace=True, server="10.0.0.6")
    assert replaced["changed"] is True and replaced["actions"] == preview["actions"]
    assert storage.volume()["spec"]["nfs"]["server"] == "10.0.0.6"
    assert storage.claim()["metadata"]["uid"] != old_uid and replaced["phase"] == "Bound"


def test_a_share_that_is_not_bound_is_replaced_without_force(storage, capsys, instant_waits):
    storage.binds = False
    run(capsys, SHARE, wait=False)
    replaced = run(capsys, SHARE, wait=False, access_mode="ReadOnlyMany")
    assert replaced["changed"] is True and replaced["phase"] == "Pending"
    assert storage.claim()["spec"]["accessModes"] == ["ReadOnlyMany"]


def test_a_claim_deleted_by_hand_is_made_again_and_its_released_volume_freed(storage, capsys):
    run(capsys, SHARE)
    storage.release(storage.claims.pop(("default", "training-data")))
    assert storage.volume()["status"]["phase"] == "Released"

    result = run(capsys, SHARE)
    assert result["actions"] == [
        "update persistent volume default-training-data (free it for a new claim default/training-data)",
        CLAIM_CREATED,
    ]
    assert result["phase"] == "Bound" and storage.volume()["status"]["phase"] == "Bound"


def test_a_foreign_volume_of_the_same_name_is_never_taken_over(storage, capsys):
    foreign = {"metadata": {"name": "default-training-data", "resourceVersion": "1", "uid": "f"},
               "spec": {"capacity": {"storage": "1Gi"}, "nfs": {"server": "other", "path": "/x"}},
               "status": {"phase": "Available"}}  # fmt: skip
    storage.add(volume=foreign)
    result = run(capsys, SHARE)
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"].startswith(
        "PersistentVolume default-training-data exists and was not created by hci.arc_ml (it has no label "
        "app.kubernetes.io/managed-by=hci.arc_ml)"
    )
    assert storage.writes == [] and storage.volume() == foreign

    absent = run(capsys, name="training-data", state="absent")
    assert absent["failed"] is True and storage.volume() == foreign


def test_our_volume_reserved_for_another_claim_is_never_taken(storage, capsys):
    run(capsys, SHARE)
    other = run(capsys, SHARE, name="other", volume_name="default-training-data")
    assert other["failed"] is True
    assert other["msg"].startswith(
        "PersistentVolume default-training-data is reserved for claim default/training-data, not default/other"
    )
    assert storage.claim("other") is None


def test_a_foreign_claim_of_the_same_name_is_left_alone(storage, capsys):
    storage.add(claim={"metadata": {"name": "training-data", "namespace": "default", "uid": "c"}, "spec": {}})
    result = run(capsys, SHARE)
    assert result["failed"] is True
    assert "PersistentVolumeClaim default/training-data exists and was not created" in result["msg"]
    assert storage.writes == []


def test_absent_deletes_the_claim_then_the_volume_and_then_nothing(storage, capsys, instant_waits):
    run(capsys, SHARE)
    storage.writes.clear()
    preview = run(capsys, name="training-data", state="absent", _ansible_check_mode=True)
    assert preview["changed"] is True and storage.writes == [] and storage.claim() is not None

    removed = run(capsys, name="training-data", state="absent")
    assert removed["actions"] == [
        "delete persistent volume claim default/training-data",
        "delete persistent volume default-training-data (the data on the NFS export stays)",
    ]
    assert storage.writes == [
        "DELETE /api/v1/namespaces/default/persistentvolumeclaims/training-data",
        "DELETE /api/v1/persistentvolumes/default-training-data",
    ]
    assert removed["claim"] is None and removed["volume"] is None and removed["phase"] is None
    assert removed["msg"] == (
        "Removed the claim and volume objects of share default/training-data (volume default-training-data); the "
        "data on the NFS export stays."
    )
    again = run(capsys, name="training-data", state="absent")
    assert again["changed"] is False and again["actions"] == []


def test_absent_puts_retain_back_before_deleting_the_claim(storage, capsys, instant_waits):
    run(capsys, SHARE)
    storage.volume()["spec"]["persistentVolumeReclaimPolicy"] = "Delete"
    storage.writes.clear()
    run(capsys, name="training-data", state="absent")
    assert storage.writes[0] == "PATCH /api/v1/persistentvolumes/default-training-data"


def test_a_claim_that_does_not_bind_times_out_with_what_to_do(storage, capsys, instant_waits):
    storage.binds = False
    result = run(capsys, SHARE, wait_timeout=30)
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"].startswith("Timed out after 30s (wait_timeout=30) waiting for claim default/training-data "
                                    "to be Bound to volume default-training-data; it is Pending.")  # fmt: skip
    assert "kubectl describe pvc -n default training-data" in result["msg"]


@pytest.mark.parametrize(
    "options, problem",
    [
        ({"path": "srv/training"}, "path 'srv/training' is not an absolute path (it must start with /)"),
        ({"mount_path": "mnt"}, "mount_path 'mnt' is not an absolute path"),
        ({"capacity": "2 TB"}, "capacity '2 TB' is not a Kubernetes quantity (such as 500Gi, 2Ti or 100G)"),
        ({"capacity": "0"}, "capacity '0' must be more than zero"),
        ({"server": "nfs://10.0.0.5/srv"}, "server 'nfs://10.0.0.5/srv' is not a host name or an IP address"),
        ({"server": "10.0.0.300"}, "server '10.0.0.300' is not a host name or an IP address"),
        ({"namespace": "Azure_ML"}, "namespace 'Azure_ML' is not an RFC 1123 label"),
        ({"name": "Training"}, "name 'Training' is not a DNS subdomain name"),
        ({"mount_options": ["hard", "nfsvers 4"]}, "mount_options entry 'nfsvers 4' is empty or holds spaces"),
    ],
)
def test_bad_inputs_fail_before_any_request(storage, capsys, options, problem):
    result = run(capsys, SHARE, options)
    assert result["failed"] is True and problem in result["msg"], result["msg"]
    assert result["msg"].endswith("Nothing was changed.") and "\n" not in result["msg"]
    assert storage.writes == []


def test_every_problem_is_named_in_one_line(storage, capsys):
    result = run(capsys, SHARE, path="relative", capacity="lots", server="a b")
    assert result["msg"].count(";") == 2 and result["msg"].startswith("Invalid share 'training-data': server 'a b'")


def test_a_namespace_that_does_not_exist_fails_before_any_write(storage, capsys):
    result = run(capsys, SHARE, namespace="jobs")
    assert result["failed"] is True and storage.writes == []
    assert result["msg"].startswith("Namespace jobs does not exist on the cluster.")


class FakeCompute:
    """The ML provider's compute GET: `computes` by name (a Kubernetes compute in `namespace`)."""

    def __init__(self, **computes):
        self.computes = computes
        self.log = []

    def __call__(self, request, reply):
        path = request.url.split("?")[0][len(provider_tests.ARM) :]
        self.log.append(f"{request.method} {path}")
        name = path.rsplit("/", 1)[1]
        if name not in self.computes:
            return reply(404, {"error": {"code": "ResourceNotFound", "message": f"{name} not found"}})
        kind, namespace = self.computes[name]
        properties = {"computeType": kind, "provisioningState": "Succeeded"}
        if kind == "Kubernetes":
            properties["properties"] = {"namespace": namespace}
        return reply(200, {"id": f"{WORKSPACE}/computes/{name}", "name": name, "properties": properties})


def test_the_compute_gives_the_namespace(storage, capsys, fake_azure):
    arm = fake_azure(FakeCompute(arccompute=("Kubernetes", "azureml-jobs")))
    result = run(capsys, IN_WORKSPACE, SHARE, compute_name="arccompute")
    assert result["namespace"] == "azureml-jobs" and result["phase"] == "Bound", result
    assert storage.claim(namespace="azureml-jobs") is not None
    assert storage.volume("azureml-jobs-training-data") is not None
    assert arm.log == [f"GET {WORKSPACE}/computes/arccompute"]


def test_a_namespace_the_compute_does_not_use_fails_before_any_write(storage, capsys, fake_azure):
    fake_azure(FakeCompute(arccompute=("Kubernetes", "azureml-jobs")))
    result = run(capsys, IN_WORKSPACE, SHARE, compute_name="arccompute", namespace="default")
    assert result["failed"] is True and storage.writes == []
    assert result["msg"] == (
        "Namespace default is not the namespace of compute arccompute (azureml-jobs): Azure ML mounts a claim only "
        "into jobs in the claim's namespace. Set namespace: azureml-jobs, or leave namespace out. Nothing was "
        "changed."
    )


def test_a_missing_compute_fails_but_check_mode_plans_with_a_warning(storage, capsys, fake_azure):
    fake_azure(FakeCompute())
    failed = run(capsys, IN_WORKSPACE, SHARE, compute_name="arccompute")
    assert failed["failed"] is True and failed["msg"].startswith("Compute arccompute does not exist in workspace mlw")
    planned = run(capsys, IN_WORKSPACE, SHARE, compute_name="arccompute", _ansible_check_mode=True)
    assert planned["changed"] is True and planned["namespace"] == "default"
    assert "does not exist in workspace mlw" in json.dumps(planned["warnings"])
    assert storage.writes == []


def test_a_compute_that_is_not_kubernetes_is_refused(storage, capsys, fake_azure):
    fake_azure(FakeCompute(gpu=("AmlCompute", None)))
    result = run(capsys, IN_WORKSPACE, SHARE, compute_name="gpu")
    assert result["failed"] is True and "is a AmlCompute compute, not an attached Kubernetes cluster" in result["msg"]


def test_absent_with_a_namespace_reads_no_compute(storage, capsys, fake_azure):
    arm = fake_azure(FakeCompute())
    result = run(capsys, IN_WORKSPACE, name="training-data", namespace="default", state="absent",
                 compute_name="arccompute")  # fmt: skip
    assert result["changed"] is False and arm.log == []
