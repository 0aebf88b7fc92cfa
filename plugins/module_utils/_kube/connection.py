# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""How to reach a Kubernetes cluster: the hci.arc_ml.kube_auth options, an ApiClient, and helm's view of it.

Options fall back to the K8S_AUTH_* environment names kubernetes.core uses. Which source wins follows
kubernetes.core too: `host` means an explicit connection; `kubeconfig` or `context` means that kubeconfig;
otherwise the in-cluster service account when running in a pod, else the default kubeconfig
(KUBECONFIG or ~/.kube/config). The kubernetes library is imported only when a client is built; the
requests themselves are _kube.client's.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError, import_optional, one_line

SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"  # noqa: S105 -- a path, not a secret


def kube_auth_argument_spec():
    """The options documented by the hci.arc_ml.kube_auth doc fragment."""
    from ansible.module_utils.basic import env_fallback

    def env(*names):
        return (env_fallback, list(names))

    return dict(
        kubeconfig=dict(type="path", fallback=env("K8S_AUTH_KUBECONFIG")),
        context=dict(type="str", fallback=env("K8S_AUTH_CONTEXT")),
        host=dict(type="str", fallback=env("K8S_AUTH_HOST")),
        api_key=dict(type="str", no_log=True, fallback=env("K8S_AUTH_API_KEY")),
        ca_cert=dict(type="path", aliases=["ssl_ca_cert"], fallback=env("K8S_AUTH_SSL_CA_CERT", "K8S_AUTH_CA_CERT")),
        client_cert=dict(
            type="path", aliases=["cert_file"], fallback=env("K8S_AUTH_CERT_FILE", "K8S_AUTH_CLIENT_CERT")
        ),
        client_key=dict(type="path", aliases=["key_file"], fallback=env("K8S_AUTH_KEY_FILE", "K8S_AUTH_CLIENT_KEY")),
        validate_certs=dict(
            type="bool",
            aliases=["verify_ssl"],
            fallback=env("K8S_AUTH_VERIFY_SSL", "K8S_AUTH_VALIDATE_CERTS"),
        ),
    )


class KubeConfigError(ArcMLError):
    """The Kubernetes connection settings cannot be loaded."""


@dataclass(repr=False)
class KubeConnection:
    """Resolved connection settings; `mode` is 'host', 'kubeconfig' or 'in_cluster'."""

    mode: str
    kubeconfig: str | None = None
    context: str | None = None
    host: str | None = None
    api_key: str | None = field(default=None, repr=False)
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    # None: verify, unless a kubeconfig's cluster says insecure-skip-tls-verify.
    validate_certs: bool | None = None

    def __post_init__(self):
        self.host = self.host.rstrip("/") if self.host else None

    @property
    def skip_tls_verify(self):
        return self.validate_certs is False

    def __repr__(self):
        return f"KubeConnection({self.describe()})"

    @classmethod
    def from_params(cls, params, environ=None):
        environ = os.environ if environ is None else environ
        settings = {
            name: params.get(name)
            for name in ("kubeconfig", "context", "host", "api_key", "ca_cert", "client_cert", "client_key")
        }
        settings["validate_certs"] = params.get("validate_certs")
        if settings["host"]:
            mode = "host"
        elif settings["kubeconfig"] or settings["context"]:
            mode = "kubeconfig"
        elif environ.get("KUBERNETES_SERVICE_HOST") and os.path.exists(SERVICE_ACCOUNT_TOKEN):
            mode = "in_cluster"
        else:
            mode = "kubeconfig"
        if settings["kubeconfig"] and not os.path.isfile(settings["kubeconfig"]):
            raise KubeConfigError("kubeconfig {} does not exist or is not a file.".format(settings["kubeconfig"]))
        return cls(mode, **settings)

    @property
    def secrets(self):
        return [self.api_key] if self.api_key else []

    def describe(self):
        if self.mode == "host":
            return f"host {self.host}"
        if self.mode == "in_cluster":
            return "in-cluster service account"
        where = f"kubeconfig {self.kubeconfig or '(default: KUBECONFIG or ~/.kube/config)'}"
        return where + (f" context {self.context}" if self.context else "")

    def kubeconfig_document(self):
        """A kubeconfig for a 'host' connection, for tools such as helm that read only files."""
        if self.mode != "host":
            raise ValueError("only a 'host' connection needs a generated kubeconfig")
        cluster = {"server": self.host}
        if self.skip_tls_verify:
            cluster["insecure-skip-tls-verify"] = True
        elif self.ca_cert:
            cluster["certificate-authority"] = self.ca_cert
        user = {}
        if self.api_key:
            user["token"] = self.api_key
        if self.client_cert:
            user["client-certificate"] = self.client_cert
        if self.client_key:
            user["client-key"] = self.client_key
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "target", "cluster": cluster}],
            "users": [{"name": "target", "user": user}],
            "contexts": [{"name": "target", "context": {"cluster": "target", "user": "target"}}],
            "current-context": "target",
        }


def write_private_file(path, text):
    """Create `path` readable by this user only (0600) and write `text`; fail if it already exists."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def write_kubeconfig(connection, directory):
    """Write the generated kubeconfig of a 'host' connection into `directory` (0600); return its path."""
    return write_private_file(os.path.join(directory, "kubeconfig.json"), json.dumps(connection.kubeconfig_document()))


def api_client(connection):
    """A kubernetes.client.ApiClient for `connection`."""
    import_optional("kubernetes", "kubernetes")
    import yaml  # the kubernetes library's own dependency: how it reads a kubeconfig
    from kubernetes import client, config

    configuration = client.Configuration()
    try:
        if connection.mode == "host":
            configuration.host = connection.host
            if connection.api_key:
                configuration.api_key = {"authorization": "Bearer " + connection.api_key}
        elif connection.mode == "in_cluster":
            config.load_incluster_config(client_configuration=configuration)
        else:
            config.load_kube_config(
                config_file=connection.kubeconfig,
                context=connection.context,
                client_configuration=configuration,
                persist_config=False,
            )
    except (config.ConfigException, OSError, ValueError, yaml.YAMLError) as exc:
        raise KubeConfigError(
            f"Cannot load the Kubernetes connection ({connection.describe()}): {one_line(exc, limit=300)}"
        ) from None
    overrides = {
        key: value
        for key, value in (
            ("ssl_ca_cert", connection.ca_cert),
            ("cert_file", connection.client_cert),
            ("key_file", connection.client_key),
            ("verify_ssl", False if connection.skip_tls_verify else None),
        )
        if value is not None
    }
    _apply(configuration, overrides)
    reload_kubeconfig = configuration.refresh_api_key_hook
    if reload_kubeconfig is not None and overrides:
        # For token users the kubernetes library re-applies the kubeconfig before every request; re-apply
        # the options after it, or they would hold only until the first call.
        def refresh(config_to_refresh):
            reload_kubeconfig(config_to_refresh)
            _apply(config_to_refresh, overrides)

        configuration.refresh_api_key_hook = refresh
    return client.ApiClient(configuration)


def _apply(configuration, overrides):
    for key, value in overrides.items():
        setattr(configuration, key, value)
