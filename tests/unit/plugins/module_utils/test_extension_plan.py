"""The extension PATCH builder: exactly the fields and keys that differ, under the service's rules."""

import base64

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._extension import protected
from ansible_collections.hci.arc_ml.plugins.module_utils._extension.plan import (
    ExtensionSpec,
    apply_patch,
    create_body,
    immutable_differences,
    normalize_settings,
    plain_secrets,
    plan_update,
    same_value,
    versioning_patch,
)

FP = protected.LEGACY_FINGERPRINT_KEY


def extension(settings=None, protected_keys=(), release_namespace="azureml", **properties):
    body = {
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/c/providers/"
        "Microsoft.KubernetesConfiguration/extensions/azureml",
        "name": "azureml",
        "properties": {
            "extensionType": "microsoft.azureml.kubernetes",
            "autoUpgradeMinorVersion": True,
            "releaseTrain": "Stable",
            "version": None,
            "scope": {"cluster": {"releaseNamespace": release_namespace}},
            "configurationSettings": dict(settings or {}),
            "configurationProtectedSettings": dict.fromkeys(protected_keys),
            "provisioningState": "Succeeded",
        },
    }
    body["properties"].update(properties)
    return body


def spec(**kwargs):
    kwargs.setdefault("extension_type", "Microsoft.AzureML.Kubernetes")
    return ExtensionSpec(**kwargs)


def test_settings_become_strings_booleans_as_az_writes_them():
    assert normalize_settings({"a": True, "b": False, "c": 3, "d": 1.5, "e": "x"}) == {
        "a": "True",
        "b": "False",
        "c": "3",
        "d": "1.5",
        "e": "x",
    }
    assert normalize_settings(None) is None


@pytest.mark.parametrize("value", [None, ["a"], {"nested": 1}])
def test_values_that_are_not_scalars_are_refused_with_the_key(value):
    with pytest.raises(ArcMLError, match="'key'"):
        normalize_settings({"key": value})


def test_boolean_words_compare_without_case_other_values_exactly():
    assert same_value("true", "True")
    assert same_value("FALSE", "False")
    assert not same_value("LoadBalancer", "loadBalancer")
    assert same_value("/Subscriptions/X", "/subscriptions/x", case_insensitive=True)
    assert not same_value(None, "x")


def test_no_difference_means_no_patch():
    current = extension({"enableTraining": "True", "other": "kept"})
    plan = plan_update(current, spec(settings={"enableTraining": "true"}))
    assert plan.patch == {}
    assert plan.changes == []
    assert plan.immutable == []


def test_one_changed_setting_gives_a_patch_with_that_key_only():
    current = extension({"enableTraining": "True", "installNvidiaDevicePlugin": "False", "x": "1"})
    plan = plan_update(
        current, spec(settings={"enableTraining": "True", "installNvidiaDevicePlugin": "True"}, release_train="stable")
    )
    assert plan.patch == {"configurationSettings": {"installNvidiaDevicePlugin": "True"}}
    assert plan.changes == ["configurationSettings.installNvidiaDevicePlugin: 'False' -> 'True'"]


def test_a_missing_setting_is_added():
    plan = plan_update(extension({}), spec(settings={"nodeSelector.pool": "ml"}))
    assert plan.patch == {"configurationSettings": {"nodeSelector.pool": "ml"}}
    assert plan.changes == ["configurationSettings.nodeSelector.pool: (unset) -> 'ml'"]


def test_immutable_fields_are_reported_not_patched():
    current = extension(release_namespace="other")
    plan = plan_update(current, spec(scope="cluster", release_namespace="azureml"))
    assert plan.immutable == [("release namespace", "other", "azureml")]
    assert immutable_differences(current, spec(extension_type="microsoft.flux")) == [
        ("extension type", "microsoft.azureml.kubernetes", "microsoft.flux")
    ]
    assert immutable_differences(current, spec(scope="namespace")) == [("scope", "cluster", "namespace")]
    assert immutable_differences(current, spec()) == []


def test_pinning_a_version_turns_auto_upgrade_off_in_the_same_patch():
    patch = versioning_patch(extension()["properties"], spec(version="1.1.62"))
    assert patch == {"autoUpgradeMinorVersion": False, "version": "1.1.62"}


def test_version_is_never_sent_while_auto_upgrade_stays_on():
    properties = extension()["properties"]
    assert versioning_patch(properties, spec(auto_upgrade_minor_version=True)) == {}
    assert versioning_patch(properties, spec(release_train="preview")) == {"releaseTrain": "preview"}


def test_turning_auto_upgrade_on_unpins_the_version():
    properties = extension(autoUpgradeMinorVersion=False, version="1.1.50")["properties"]
    assert versioning_patch(properties, spec(auto_upgrade_minor_version=True)) == {
        "autoUpgradeMinorVersion": True,
        "version": None,
    }


def test_release_train_compares_without_case_and_only_when_set():
    properties = extension()["properties"]
    assert versioning_patch(properties, spec(release_train="stable")) == {}
    assert versioning_patch(properties, spec(default_release_train="preview")) == {}


def test_version_with_auto_upgrade_is_refused_with_the_cli_message():
    with pytest.raises(ArcMLError, match=r"^To pin to specific version, auto-upgrade-minor-version must be set to"):
        spec(version="1.0", auto_upgrade_minor_version=True).check()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scope": "cluster", "target_namespace": "ns"}, "When --scope is 'cluster', --target-namespace must not be"),
        ({"scope": "namespace", "release_namespace": "ns"}, "When --scope is 'namespace', --release-namespace must"),
        ({"settings": {"a": "1"}, "protected": {"a": "2"}}, "in both configuration_settings and"),
        ({"settings": {FP: "x"}}, "earlier versions of this collection wrote"),
    ],
)
def test_spec_checks(kwargs, message):
    with pytest.raises(ArcMLError, match=message):
        spec(**kwargs).check()


def test_protected_settings_are_sent_whole_without_any_setting_of_the_collection_and_never_shown():
    secrets = {"relayServerConnectionString": "Endpoint=sb://x/;SharedAccessKey=TOPSECRET", "b": "also-secret"}
    current = extension({"enableTraining": "True"}, protected_keys=["relayServerConnectionString"])
    plan = plan_update(current, spec(settings={"enableTraining": "True"}, protected=secrets))
    assert plan.patch == {"configurationProtectedSettings": secrets}
    assert plan.replace is None
    assert plan.changes == [
        "configurationProtectedSettings: sent again (the protected setting keys differ (Azure lists "
        "relayServerConnectionString)); keys: b, relayServerConnectionString"
    ]
    assert not [line for line in plan.changes if "TOPSECRET" in line or "also-secret" in line]

    after = apply_patch(current, plan.patch)
    second = plan_update(after, spec(settings={"enableTraining": "True"}, protected=secrets))
    assert second.patch == {}
    assert not second.needed


def _private_keys(settings):
    return [key for key in settings if key.startswith("hciArcMl")]


@pytest.mark.parametrize("policy", ["when_changed", "always", "on_create"])
def test_no_configuration_setting_of_the_collection_after_a_create(policy):
    body = create_body(
        spec(settings={"enableTraining": "True"}, protected={"p": "secret"}), "connectedClusters", policy
    )
    assert _private_keys(body["properties"]["configurationSettings"]) == []
    assert body["properties"]["configurationProtectedSettings"] == {"p": "secret"}


def test_an_extension_with_the_old_fingerprint_is_put_again_without_it():
    secrets = {"relayServerConnectionString": "Endpoint=sb://x/;SharedAccessKey=TOPSECRET"}
    current = extension(
        {"enableTraining": "True", "other": "kept", FP: "pbkdf2-sha256$100000$c2FsdA$ZGln"},
        protected_keys=secrets,
        identity={"type": "SystemAssigned", "principalId": "p-1"},
    )
    current["identity"] = current["properties"].pop("identity")
    plan = plan_update(current, spec(settings={"enableTraining": "True", "new": "1"}, protected=secrets))
    assert plan.needed
    assert plan.changes == [
        "configurationSettings.new: (unset) -> '1'",
        f"configurationSettings.{FP}: removed (a setting earlier versions of this collection wrote; the extension "
        "is PUT again without it, with its protected settings)",
    ]
    body = plan.replace
    properties = body["properties"]
    assert properties["configurationSettings"] == {"enableTraining": "True", "other": "kept", "new": "1"}
    assert properties["configurationProtectedSettings"] == secrets
    assert properties["extensionType"] == "microsoft.azureml.kubernetes"
    assert properties["scope"] == {"cluster": {"releaseNamespace": "azureml"}}
    assert properties["autoUpgradeMinorVersion"] is True
    assert properties["releaseTrain"] == "Stable"
    assert "version" not in properties
    assert body["identity"] == {"type": "SystemAssigned"}
    assert not [line for line in plan.changes if "TOPSECRET" in line or "pbkdf2" in line]

    after = apply_patch(current, plan.patch, plan.replace)
    assert FP not in after["properties"]["configurationSettings"]
    second = plan_update(after, spec(settings={"enableTraining": "True", "new": "1"}, protected=secrets))
    assert not second.needed


def test_the_old_fingerprint_alone_is_removed_and_a_pinned_version_kept():
    current = extension({FP: "x"}, autoUpgradeMinorVersion=False, version="1.1.50")
    plan = plan_update(current, spec(protected={}))
    assert plan.patch == {}
    assert plan.needed
    assert plan.replace["properties"]["configurationSettings"] == {}
    assert plan.replace["properties"]["autoUpgradeMinorVersion"] is False
    assert plan.replace["properties"]["version"] == "1.1.50"
    assert plan.replace["properties"]["configurationProtectedSettings"] == {}
    after = apply_patch(current, plan.patch, plan.replace)
    assert after["properties"]["version"] == "1.1.50"
    assert after["properties"]["configurationSettings"] == {}


def test_the_old_fingerprint_stays_when_a_put_would_lose_or_resend_protected_settings():
    # Without the complete protected map (not managed, or on_create), a PUT would drop or resend the secrets.
    current = extension({FP: "x", "a": "1"}, protected_keys=["p"])
    for desired, policy in ((None, "when_changed"), ({"p": "secret"}, "on_create")):
        plan = plan_update(current, spec(settings={"a": "1"}, protected=desired), policy)
        assert plan.replace is None
        assert not plan.needed
        assert plan.changes == []


def test_create_body_is_what_az_sends():
    body = create_body(
        spec(
            scope="cluster",
            release_namespace="azureml",
            default_release_train="stable",
            settings={"enableTraining": "True"},
            create_only_settings={"clusterPurpose": "DevTest"},
            protected={"p": "secret"},
            identity={"type": "SystemAssigned"},
        ),
        "connectedClusters",
    )
    properties = body["properties"]
    assert body["identity"] == {"type": "SystemAssigned"}
    assert properties["extensionType"] == "Microsoft.AzureML.Kubernetes"
    assert properties["releaseTrain"] == "stable"
    assert "autoUpgradeMinorVersion" not in properties
    assert "version" not in properties
    assert properties["scope"] == {"cluster": {"releaseNamespace": "azureml"}}
    assert properties["configurationSettings"] == {"clusterPurpose": "DevTest", "enableTraining": "True"}
    assert properties["configurationProtectedSettings"] == {"p": "secret"}


def test_create_body_on_aks_has_no_identity_and_pins_versions_correctly():
    body = create_body(spec(version="1.2.3", identity={"type": "SystemAssigned"}), "managedClusters")
    assert "identity" not in body
    assert body["properties"]["autoUpgradeMinorVersion"] is False
    assert body["properties"]["version"] == "1.2.3"
    assert "scope" not in body["properties"]


def test_create_body_without_namespaces_lets_the_service_choose():
    assert create_body(spec(scope="cluster"), "connectedClusters")["properties"]["scope"] == {"cluster": {}}
    assert create_body(spec(scope="namespace"), "connectedClusters")["properties"]["scope"] == {"namespace": {}}


def test_create_only_settings_are_not_compared_later():
    current = extension({"enableTraining": "True"})
    plan = plan_update(current, spec(settings={"enableTraining": "True"}, create_only_settings={"clusterPurpose": "x"}))
    assert plan.patch == {}


def test_apply_patch_merges_settings_and_replaces_protected_keys():
    current = extension({"a": "1", "b": "2"}, protected_keys=["old"])
    after = apply_patch(current, {"configurationSettings": {"b": "3"}, "configurationProtectedSettings": {"new": "v"}})
    assert after["properties"]["configurationSettings"] == {"a": "1", "b": "3"}
    assert after["properties"]["configurationProtectedSettings"] == {"new": None}
    assert current["properties"]["configurationSettings"] == {"a": "1", "b": "2"}


PEM_KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkZ2VjLXByaXZhdGUta2V5LWJvZHk\n-----END EC PRIVATE KEY-----\n"


@pytest.mark.parametrize(
    ("settings", "key", "what"),
    [
        (
            {"a": "Endpoint=sb://n.servicebus.windows.net/;SharedAccessKeyName=r;SharedAccessKey=k3y="},
            "a",
            "SharedAccessKey",
        ),
        ({"a": "DefaultEndpointsProtocol=https;AccountName=n;AccountKey=k3y=="}, "a", "AccountKey"),
        ({"a": "sv=2022-11-02&ss=b&sig=abc%3D"}, "a", "SAS token"),
        ({"a": "Server=db;User Id=u;Password=p4ss;"}, "a", "password"),
        ({"a": PEM_KEY}, "a", "PEM private key"),
        ({"scoringFe.sslKey": "anything-at-all"}, "scoringFe.sslKey", "private key"),
        ({"a": base64.b64encode(PEM_KEY.encode()).decode()}, "a", "base64-encoded PEM private key"),
        ({"SERVICEBUSCONNECTIONSTRING": "x"}, "SERVICEBUSCONNECTIONSTRING", "Service Bus"),
        ({"db.admin_password": 12345678}, "db.admin_password", "password"),
        ({"storage.accountKey": "k3y"}, "storage.accountKey", "storage account key"),
        ({"workspace.sharedKey": "k3y"}, "workspace.sharedKey", "Log Analytics"),
        ({"nested": {"deep": ["https://a.blob.core.windows.net/c?sp=r&sig=abc"]}}, "nested", "SAS token"),
    ],
)
def test_plain_secrets_are_found_by_key_or_by_value(settings, key, what):
    ((found_key, found_what, strings),) = plain_secrets(settings)
    assert found_key == key and what.lower() in found_what.lower()
    assert strings, "the values to mask"


@pytest.mark.parametrize(
    "settings",
    [
        None,
        {},
        {"keyVaultName": "kv", "omsagent.secret.wsid": "a38cef99-5a89-52ed-b6db-22095c23664b", "sslSecret": "s"},
        {"proxy.password": "", "enablePassword": "False", "usePassword": True, "password": None},
        {"publicKey": "ssh-ed25519 AAAA", "tokenAudience": "api://x", "passwordSecretName": "db"},
        {"endpoint": "Endpoint=sb://n.servicebus.windows.net/;SharedAccessKeyName=azureml_rw"},
        {"url": "https://proxy:3128", "git": "ssh://git@host:22/r", "query": "https://h/p?design=sig&x=1"},
        {"cert": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
    ],
)
def test_settings_that_are_not_secrets_are_not_found(settings):
    assert plain_secrets(settings) == []
