"""azureml_extension's local steps: PEM files read on the controller and masked at once."""

import base64

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.modules.azureml_extension import read_pem

KEY = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVcB/UNPxalR9zDYA\n"
    "-----END PRIVATE KEY-----\n"
)


class Masks:
    def __init__(self):
        self.values = set()

    def protect(self, values):
        self.values.update(values)


def test_a_key_is_returned_and_masked_in_every_form(tmp_path):
    path = tmp_path / "key.pem"
    path.write_text(KEY)
    module = Masks()
    assert read_pem(module, str(path), "private key") == KEY.encode()
    assert KEY in module.values
    assert base64.b64encode(KEY.encode()).decode() in module.values
    assert "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVcB/UNPxalR9zDYA" in module.values


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        (KEY, "certificate", "is not a PEM certificate"),
        ("-----BEGIN ENCRYPTED PRIVATE KEY-----\nabc\n-----END ENCRYPTED PRIVATE KEY-----\n", "private key", "encrypt"),
        ("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nabc\n", "private key", "encrypted"),
    ],
)
def test_wrong_or_encrypted_files_are_refused_before_anything_is_sent(tmp_path, text, kind, message):
    path = tmp_path / "file.pem"
    path.write_text(text)
    module = Masks()
    with pytest.raises(ArcMLError, match=message):
        read_pem(module, str(path), kind)
    assert text in module.values, "even a refused file is masked first"


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ArcMLError, match=r"Cannot read the SSL certificate file .*missing\.pem: No such file"):
        read_pem(Masks(), str(tmp_path / "missing.pem"), "certificate")
