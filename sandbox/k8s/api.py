"""A small Kubernetes REST client for the testbed itself (not the product's client).

The testbed must not depend on the code it tests, and it only needs a handful of
JSON calls, so it speaks HTTPS with the standard library and the admin client
certificate.
"""

import json
import os
import ssl
import tempfile
import urllib.error
import urllib.request


class KubeApiError(Exception):
    def __init__(self, method, path, status, body):
        super().__init__(f"{method} {path} -> HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body


class KubeApi:
    def __init__(self, server: str, ca_pem: bytes, cert_pem: bytes, key_pem: bytes, timeout: float = 10.0):
        self.server = server.rstrip("/")
        self.timeout = timeout
        self._context = ssl.create_default_context(cadata=ca_pem.decode("ascii"))
        # load_cert_chain wants files; keep them only as long as loading takes.
        with tempfile.TemporaryDirectory() as tmp:
            cert_file, key_file = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
            with open(cert_file, "wb") as f:
                f.write(cert_pem)
            with os.fdopen(os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
                f.write(key_pem)
            self._context.load_cert_chain(cert_file, key_file)

    def request(self, method: str, path: str, body=None, content_type="application/json"):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, context=self._context, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as err:
            raise KubeApiError(method, path, err.code, err.read().decode(errors="replace")) from None
        return json.loads(raw) if raw and raw[:1] in (b"{", b"[") else raw.decode()

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body):
        return self.request("POST", path, body)

    def patch(self, path, body, patch_type="application/merge-patch+json"):
        return self.request("PATCH", path, body, content_type=patch_type)

    def delete(self, path):
        return self.request("DELETE", path)

    def exists(self, path) -> bool:
        try:
            self.get(path)
        except KubeApiError as err:
            if err.status == 404:
                return False
            raise
        return True
