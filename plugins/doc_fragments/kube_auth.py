# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Options for reaching a Kubernetes cluster (module_utils/_kube/connection.py kube_auth_argument_spec)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - The cluster's kubeconfig, in one of three forms, as an inventory, a vault or an AWX credential holds it.
      - A path to a kubeconfig file.
      - The kubeconfig's text (YAML or JSON), for example from a vault lookup or an AWX custom credential; a string
        that holds a line break or starts with C({) is read as text, any other string as a path.
      - A dictionary, the kubeconfig already parsed (for example C("{{ lookup('file', path) | from_yaml }}")).
      - The content is never printed, not even when the task fails on another option; a failed task shows
        C((inline kubeconfig\)) in its place. Helm and the Kubernetes client read the same resolved kubeconfig,
        written for helm to a file only this user can read (mode 0600, in a private 0700 directory) that is
        removed when the task ends, also when it is cancelled (SIGTERM).
      - Which settings count. When the task sets O(kubeconfig), O(context) or O(host), only the task's options
        are used and every E(K8S_AUTH_*) variable is ignored, so a credential in the environment (for example an
        AWX Kubernetes credential on the job) never reaches a cluster a host names itself. Otherwise the
        E(K8S_AUTH_*) variables of each option apply, task options overriding them one by one. Without any of
        them, the in-cluster service account is used when running in a pod, else the default kubeconfig
        (E(KUBECONFIG), a list of files merged as kubectl merges them, or C(~/.kube/config)).
      - Falls back to the E(K8S_AUTH_KUBECONFIG) environment variable (a path).
    type: raw
  context:
    description:
      - The kubeconfig context to use instead of its current context.
      - Falls back to the E(K8S_AUTH_CONTEXT) environment variable.
    type: str
  host:
    description:
      - The URL of the Kubernetes API server; with it, the connection is built from O(host), O(api_key), O(ca_cert),
        O(client_cert) and O(client_key) and no kubeconfig is read.
      - Falls back to the E(K8S_AUTH_HOST) environment variable.
    type: str
  api_key:
    description:
      - A bearer token for the API server at O(host).
      - Falls back to the E(K8S_AUTH_API_KEY) environment variable.
    type: str
  ca_cert:
    description:
      - A CA certificate file to verify the API server's certificate with.
      - Falls back to the E(K8S_AUTH_SSL_CA_CERT) or E(K8S_AUTH_CA_CERT) environment variables.
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - A client certificate file to authenticate to the API server with.
      - Falls back to the E(K8S_AUTH_CERT_FILE) or E(K8S_AUTH_CLIENT_CERT) environment variables.
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - The private key file of O(client_cert).
      - Falls back to the E(K8S_AUTH_KEY_FILE) or E(K8S_AUTH_CLIENT_KEY) environment variables.
    type: path
    aliases: [key_file]
  validate_certs:
    description:
      - Whether to verify the API server's TLS certificate.
      - V(true) verifies it even where the kubeconfig's cluster sets C(insecure-skip-tls-verify), for the Kubernetes
        client and for helm alike.
      - V(false) skips verification (and the kubeconfig's certificate authority, as kubectl and helm require).
      - When not set, the certificate is verified unless the kubeconfig's cluster sets C(insecure-skip-tls-verify).
      - Falls back to the E(K8S_AUTH_VERIFY_SSL) or E(K8S_AUTH_VALIDATE_CERTS) environment variables.
    type: bool
    aliases: [verify_ssl]
requirements:
  - kubernetes >= 24.2.0
"""
