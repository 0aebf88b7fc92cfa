# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Options for reaching a Kubernetes cluster (module_utils/_kube/connection.py kube_auth_argument_spec)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to the kubeconfig file.
      - Without O(kubeconfig), O(context) or O(host), the in-cluster service account is used when running in a pod,
        else the default kubeconfig (E(KUBECONFIG) or C(~/.kube/config)).
      - Falls back to the E(K8S_AUTH_KUBECONFIG) environment variable.
    type: path
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
      - When not set, the certificate is verified unless the kubeconfig's cluster sets C(insecure-skip-tls-verify).
      - Falls back to the E(K8S_AUTH_VERIFY_SSL) or E(K8S_AUTH_VALIDATE_CERTS) environment variables.
    type: bool
    aliases: [verify_ssl]
requirements:
  - kubernetes >= 24.2.0
"""
