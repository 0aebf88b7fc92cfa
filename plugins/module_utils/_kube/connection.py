# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""How to reach a Kubernetes cluster: the hci.arc_ml.kube_auth options resolved into one kubeconfig.

Every way of naming a cluster (a kubeconfig path, its text, a dict, host + credentials, the in-cluster service
account, the default kubeconfig) is resolved once into a kubeconfig document with a single context, every
option (ca_cert, client_cert, client_key, validate_certs) applied to it. The Kubernetes client is built from
that document and helm reads the same document from a 0600 file, so both always reach the same cluster the
same way, whatever KUBECONFIG or in-cluster token the environment holds.

Which settings count (documented in the kube_auth doc fragment):
1. the task's options, when one of `host`, `kubeconfig` or `context` is given: the K8S_AUTH_* variables are
   then ignored entirely, so a credential in the environment never goes to a cluster a task named;
2. else the K8S_AUTH_* variables kubernetes.core reads, overridden option by option by the task's options;
3. else the in-cluster service account when running in a pod, else the default kubeconfig (KUBECONFIG or
   ~/.kube/config).
A kubeconfig's content is never put in a message: only its path, or "inline kubeconfig".
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
import os
from dataclasses import dataclass, field

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError, import_optional, one_line
from ansible_collections.hci.arc_ml.plugins.module_utils._common.scratch import (
    private_directory,
    scratch_directory,
    write_private_file,
)

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
SERVICE_ACCOUNT_TOKEN = SERVICE_ACCOUNT_DIR + "/token"

TARGET_OPTIONS = ("host", "kubeconfig", "context")
# The environment names kubernetes.core reads for each option.
ENVIRONMENT_NAMES = {
    "kubeconfig": ("K8S_AUTH_KUBECONFIG",),
    "context": ("K8S_AUTH_CONTEXT",),
    "host": ("K8S_AUTH_HOST",),
    "api_key": ("K8S_AUTH_API_KEY",),
    "ca_cert": ("K8S_AUTH_SSL_CA_CERT", "K8S_AUTH_CA_CERT"),
    "client_cert": ("K8S_AUTH_CERT_FILE", "K8S_AUTH_CLIENT_CERT"),
    "client_key": ("K8S_AUTH_KEY_FILE", "K8S_AUTH_CLIENT_KEY"),
    "validate_certs": ("K8S_AUTH_VERIFY_SSL", "K8S_AUTH_VALIDATE_CERTS"),
}
# Fields of a kubeconfig's cluster and user that name files, resolved against the kubeconfig's directory.
_CLUSTER_FILES = ("certificate-authority",)
_USER_FILES = ("client-certificate", "client-key", "tokenFile")
# User fields that are secrets, and keys under auth-provider config that are.
_USER_SECRETS = ("token", "password", "client-key-data")
_SECRET_KEY_WORDS = ("token", "secret", "password", "key")


def kube_auth_argument_spec():
    """The options documented by the hci.arc_ml.kube_auth doc fragment (K8S_AUTH_* are read by from_params)."""
    return dict(
        kubeconfig=dict(type="raw"),
        context=dict(type="str"),
        host=dict(type="str"),
        api_key=dict(type="str", no_log=True),
        ca_cert=dict(type="path", aliases=["ssl_ca_cert"]),
        client_cert=dict(type="path", aliases=["cert_file"]),
        client_key=dict(type="path", aliases=["key_file"]),
        validate_certs=dict(type="bool", aliases=["verify_ssl"]),
    )


class KubeConfigError(ArcMLError):
    """The Kubernetes connection settings cannot be loaded."""


class InlineKubeconfig(str):
    """The `kubeconfig` option's value when it is the kubeconfig itself (text or dict), not a path.

    It reads as "(inline kubeconfig)" wherever Ansible prints the option (the echoed module arguments of a
    failed task); the content is only in `.content`.
    """

    content = None

    def __new__(cls, content):
        placeholder = super().__new__(cls, "(inline kubeconfig)")
        placeholder.content = content
        return placeholder


def is_inline(value):
    """Whether a `kubeconfig` value is the kubeconfig itself: a dict, or text with a newline or starting with {."""
    if isinstance(value, dict):
        return True
    return (
        isinstance(value, str)
        and not isinstance(value, InlineKubeconfig)
        and ("\n" in value or value.lstrip().startswith("{"))
    )


def hide_inline_kubeconfig(params):
    """Replace an inline `kubeconfig` in `params` by an InlineKubeconfig; return the secrets it holds.

    Called before AnsibleModule validates or echoes anything, so the content can never be printed.
    """
    value = params.get("kubeconfig")
    if not is_inline(value):
        return []
    params["kubeconfig"] = InlineKubeconfig(value)
    secrets = [value] if isinstance(value, str) else []
    try:
        document = _parse(value, "inline kubeconfig")
    except KubeConfigError:
        return secrets
    return secrets + document_secrets(document)


def document_secrets(document):
    """Every secret string in a kubeconfig document: tokens, passwords, key data, auth-provider and exec secrets."""
    secrets = []
    for entry in _entries(document, "users"):
        user = entry.get("user") or {}
        for name in _USER_SECRETS:
            value = user.get(name)
            if isinstance(value, str) and value:
                secrets.append(value)
                if name == "client-key-data":
                    secrets.extend(_decoded_pem_lines(value))
        provider_config = (user.get("auth-provider") or {}).get("config") or {}
        secrets += [
            value
            for key, value in provider_config.items()
            if isinstance(value, str) and value and any(word in key.lower() for word in _SECRET_KEY_WORDS)
        ]
        for variable in (user.get("exec") or {}).get("env") or []:
            if isinstance(variable, dict) and isinstance(variable.get("value"), str) and variable["value"]:
                secrets.append(variable["value"])
    return secrets


@dataclass(repr=False)
class KubeConnection:
    """One cluster connection: a kubeconfig document with a single context, and where it came from."""

    source: str  # for messages: "kubeconfig /path", "inline kubeconfig", "host https://...", ...
    document: dict = field(repr=False)
    secrets: list = field(default_factory=list, repr=False)
    _path: str | None = field(default=None, repr=False)

    def __repr__(self):
        return f"KubeConnection({self.describe()})"

    @classmethod
    def from_params(cls, params, environ=None):
        environ = os.environ if environ is None else environ
        settings = connection_settings(params, environ)
        secrets = [settings["api_key"]] if settings.get("api_key") else []
        if settings.get("host"):
            source = "host {}".format(settings["host"].rstrip("/"))
            document = host_document(settings["host"].rstrip("/"), settings.get("api_key"))
        elif settings.get("kubeconfig") or settings.get("context") or not _in_pod(environ):
            source, document = _load_kubeconfig(settings.get("kubeconfig"), settings.get("context"), environ)
            if isinstance(settings.get("kubeconfig"), InlineKubeconfig) and isinstance(
                settings["kubeconfig"].content, str
            ):
                secrets.append(settings["kubeconfig"].content)
        else:
            source, document = "in-cluster service account", in_cluster_document(environ)
        apply_overrides(document, settings)
        secrets += document_secrets(document)
        check_token_expiry(document, source)
        return cls(source, document, secrets)

    @property
    def context(self):
        return self.document["current-context"]

    @property
    def server(self):
        return self.document["clusters"][0]["cluster"].get("server")

    @property
    def verifies_tls(self):
        return not self.document["clusters"][0]["cluster"].get("insecure-skip-tls-verify")

    def describe(self):
        if self.source.startswith(("host ", "in-cluster")):
            return self.source
        return f"{self.source} context {self.context}"

    def kubeconfig_path(self):
        """The document as a 0600 file in the process's private scratch directory, for helm.

        Written once, and again should the file have gone (a temp cleaner may empty /tmp during a long run).
        """
        if self._path is None or not os.path.isfile(self._path):
            # A directory of its own: a name made from the object (id()) could be reused by a later connection.
            self._path = write_private_file(
                os.path.join(private_directory("kube-"), "kubeconfig.json"), json.dumps(self.document)
            )
        return self._path


def connection_settings(params, environ):
    """The settings that count: the task's options alone when they name a target, else K8S_AUTH_* under them."""
    given = {name: params.get(name) for name in ENVIRONMENT_NAMES if params.get(name) is not None}
    if any(given.get(name) for name in TARGET_OPTIONS):
        return given
    settings = {}
    for name, variables in ENVIRONMENT_NAMES.items():
        value = next((environ[v] for v in variables if environ.get(v)), None)
        if value is not None:
            settings[name] = _boolean(value, variables[0]) if name == "validate_certs" else value
    settings.update(given)
    return settings


def host_document(host, api_key=None):
    cluster = {"server": host}
    user = {"token": api_key} if api_key else {}
    return _single_context_document("target", cluster, user)


def in_cluster_document(environ):
    """The in-cluster service account, as kubectl in a pod sees it (token re-read from its file)."""
    host = environ["KUBERNETES_SERVICE_HOST"]
    if ":" in host:
        host = f"[{host}]"
    cluster = {
        "server": "https://{}:{}".format(host, environ.get("KUBERNETES_SERVICE_PORT", "443")),
        "certificate-authority": SERVICE_ACCOUNT_DIR + "/ca.crt",
    }
    return _single_context_document("in-cluster", cluster, {"tokenFile": SERVICE_ACCOUNT_TOKEN})


def apply_overrides(document, settings):
    """Apply ca_cert, client_cert, client_key and validate_certs to the document's one cluster and user."""
    cluster = document["clusters"][0]["cluster"]
    user = document["users"][0]["user"]
    for option, field_name, container in (
        ("ca_cert", "certificate-authority", cluster),
        ("client_cert", "client-certificate", user),
        ("client_key", "client-key", user),
    ):
        if settings.get(option):
            container[field_name] = os.path.abspath(os.path.expanduser(settings[option]))
            container.pop(field_name + "-data", None)
    validate = settings.get("validate_certs")
    if validate is True:
        cluster.pop("insecure-skip-tls-verify", None)
    elif validate is False:
        # client-go (so helm) refuses a CA together with insecure-skip-tls-verify.
        cluster["insecure-skip-tls-verify"] = True
        cluster.pop("certificate-authority", None)
        cluster.pop("certificate-authority-data", None)


def check_token_expiry(document, source, now=None):
    """Fail before any request when the user's token is a JWT that has expired (exp in the past)."""
    token = document["users"][0]["user"].get("token")
    expires = _jwt_expiry(token) if isinstance(token, str) else None
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if expires is not None and expires <= now:
        raise KubeConfigError(
            "The token of {} expired at {}: get a fresh kubeconfig (for example with "
            "hci.arc_ml.cluster_credentials in the same play) and run again.".format(
                source, expires.strftime("%Y-%m-%dT%H:%M:%SZ")
            )
        )


def api_client(connection):
    """A kubernetes.client.ApiClient built from the connection's document."""
    import_optional("kubernetes", "kubernetes")
    from kubernetes import client, config

    configuration = client.Configuration()
    try:
        # Certificate data is written to files under the private scratch directory, not the system's temp.
        config.load_kube_config_from_dict(
            copy.deepcopy(connection.document),
            client_configuration=configuration,
            persist_config=False,
            temp_file_path=scratch_directory(),
        )
    except (config.ConfigException, OSError, ValueError, TypeError) as exc:
        raise KubeConfigError(
            f"Cannot load the Kubernetes connection ({connection.describe()}): {one_line(exc, limit=300)}"
        ) from None
    return client.ApiClient(configuration)


def _load_kubeconfig(value, context, environ):
    """(source, single-context document) of a kubeconfig given as a path, text or dict, or the default one."""
    if value is None:
        paths = [p for p in (environ.get("KUBECONFIG") or "").split(os.pathsep) if p]
        paths = paths or [os.path.join(os.path.expanduser("~"), ".kube", "config")]
        existing = [p for p in paths if os.path.isfile(p)]
        if not existing:
            raise KubeConfigError(
                "No Kubernetes connection: set kubeconfig (a path, the kubeconfig's text or a dict) or host, or "
                f"K8S_AUTH_KUBECONFIG; the default kubeconfig {os.pathsep.join(paths)} does not exist."
            )
        source = "kubeconfig " + os.pathsep.join(existing)
        documents = [(_parse(_read_file(p), "kubeconfig " + p), os.path.dirname(os.path.abspath(p))) for p in existing]
        document = _merge([_with_absolute_paths(d, base) for d, base in documents])
    elif isinstance(value, InlineKubeconfig):
        source = "inline kubeconfig"
        document = _with_absolute_paths(_parse(value.content, source), os.getcwd())
    else:
        path = os.path.abspath(os.path.expanduser(str(value)))
        source = "kubeconfig " + path
        document = _with_absolute_paths(_parse(_read_file(path), source), os.path.dirname(path))
    return source, _select_context(document, context, source)


def _read_file(path):
    if os.path.isdir(path):
        raise KubeConfigError(f"kubeconfig {path} is a directory; give the path of a kubeconfig file.")
    if not os.path.isfile(path):
        raise KubeConfigError(f"kubeconfig {path} does not exist or is not a file.")
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise KubeConfigError(f"Cannot read kubeconfig {path}: {getattr(exc, 'strerror', None) or exc}.") from None


def _parse(content, source):
    """A kubeconfig dict from text or a dict; an error names where the YAML breaks, never what it holds."""
    if isinstance(content, dict):
        document = copy.deepcopy(content)
    else:
        yaml = import_optional("yaml", "PyYAML")
        try:
            document = yaml.safe_load(content)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise KubeConfigError(f"The {source} is not YAML: {problem}{where}.") from None
    if not isinstance(document, dict) or not isinstance(document.get("contexts", []), list):
        raise KubeConfigError(
            f"The {source} is not a kubeconfig: expected a mapping with clusters, users and contexts lists."
        )
    return document


def _merge(documents):
    """Several kubeconfigs (KUBECONFIG=a:b) as kubectl merges them: the first entry of each name wins."""
    merged = {"clusters": [], "users": [], "contexts": [], "current-context": None}
    for document in documents:
        for kind in ("clusters", "users", "contexts"):
            names = {entry.get("name") for entry in merged[kind]}
            merged[kind] += [entry for entry in _entries(document, kind) if entry.get("name") not in names]
        merged["current-context"] = merged["current-context"] or document.get("current-context")
    return merged


def _select_context(document, context, source):
    """The document reduced to one context (made current), its cluster and its user; errors name what is missing."""
    contexts = {entry.get("name"): entry.get("context") or {} for entry in _entries(document, "contexts")}
    name = context or document.get("current-context")
    if not name:
        raise KubeConfigError(
            "The {} has no current-context; set context to one of: {}.".format(source, ", ".join(map(str, contexts)))
        )
    if name not in contexts:
        raise KubeConfigError(
            "Context {} is not in the {} (its contexts: {}).".format(
                name, source, ", ".join(map(str, contexts)) or "none"
            )
        )
    selected = contexts[name]
    clusters = {entry.get("name"): entry.get("cluster") or {} for entry in _entries(document, "clusters")}
    users = {entry.get("name"): entry.get("user") or {} for entry in _entries(document, "users")}
    if selected.get("cluster") not in clusters:
        raise KubeConfigError(
            f"Context {name} of the {source} names cluster {selected.get('cluster')}, which it lacks."
        )
    if selected.get("user") and selected["user"] not in users:
        raise KubeConfigError(f"Context {name} of the {source} names user {selected['user']}, which it lacks.")
    if not clusters[selected["cluster"]].get("server"):
        raise KubeConfigError(f"Cluster {selected['cluster']} of the {source} has no server.")
    document = _single_context_document(name, clusters[selected["cluster"]], users.get(selected.get("user")) or {})
    if selected.get("namespace"):
        document["contexts"][0]["context"]["namespace"] = selected["namespace"]
    return document


def _single_context_document(name, cluster, user):
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": copy.deepcopy(cluster)}],
        "users": [{"name": name, "user": copy.deepcopy(user)}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }


def _with_absolute_paths(document, base):
    """File fields resolved against `base` (the kubeconfig's directory), as kubectl resolves them."""
    for kind, fields in (("clusters", _CLUSTER_FILES), ("users", _USER_FILES)):
        for entry in _entries(document, kind):
            body = entry.get(kind[:-1]) or {}
            for name in fields:
                if isinstance(body.get(name), str) and body[name]:
                    body[name] = os.path.join(base, os.path.expanduser(body[name]))
    return document


def _entries(document, kind):
    return [entry for entry in document.get(kind) or [] if isinstance(entry, dict)]


def _in_pod(environ):
    return bool(environ.get("KUBERNETES_SERVICE_HOST")) and os.path.exists(SERVICE_ACCOUNT_TOKEN)


def _boolean(value, name):
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on", "y", "t"):
        return True
    if text in ("0", "false", "no", "off", "n", "f"):
        return False
    raise KubeConfigError(f"{name}={value!r} is not a boolean (true or false).")


def _jwt_expiry(token):
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return datetime.datetime.fromtimestamp(int(claims["exp"]), datetime.timezone.utc)
    except (ValueError, TypeError, KeyError, OverflowError):
        return None


def _decoded_pem_lines(data):
    """The lines of a base64 PEM key (client-key-data), the form a library might quote."""
    try:
        text = base64.b64decode(data, validate=False).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return []
    return [line for line in text.splitlines() if line and not line.startswith("-----")]
