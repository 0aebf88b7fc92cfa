"""The secret scan itself: it must find a secret in every form a leak could take, or its zero hits mean nothing."""

import base64
import json

import pytest
from support import find_secrets

PEM_LINE = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"
SECRET = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=azureml_rw;SharedAccessKey=k3y/+=="
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQifQ.c2lnbmF0dXJlX2hlcmU"
SECRETS = {SECRET: "relay connection string", PEM_LINE: "a line of an onboarding key"}


@pytest.mark.parametrize(
    "text",
    [
        f"msg: {SECRET}",
        json.dumps({"value": SECRET + "\n"}),
        "encoded " + base64.b64encode(SECRET.encode()).decode(),
        "url ?x="
        + SECRET.replace("/", "%2F").replace(";", "%3B").replace("=", "%3D").replace("+", "%2B").replace(":", "%3A"),
        "-----BEGIN RSA PRIVATE KEY-----\\n" + PEM_LINE + "\\n",
        "Authorization: Bearer " + TOKEN,
    ],
)
def test_a_planted_secret_is_found_in_every_form(text):
    hits = find_secrets(text, SECRETS)
    assert hits, text
    assert all(SECRET not in excerpt and PEM_LINE not in excerpt for _, excerpt in hits)


def test_clean_output_has_no_hits():
    assert find_secrets("ok: [site] => changed=false, SharedAccessKey=<redacted> ********", SECRETS) == []
