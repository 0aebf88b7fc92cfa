# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Options for authenticating to Azure and choosing the cloud (_azure/auth.py azure_auth_argument_spec)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  auth_source:
    description:
      - Where to look for credentials.
      - V(auto) walks the chain described in the notes and uses the first complete service principal,
        else a managed identity, else the Azure CLI login.
      - V(parameters) uses only the module options, V(env) only the environment variables, V(msi) only
        a managed identity (user-assigned when O(client_id) or E(AZURE_CLIENT_ID) is set), V(cli) only
        the Azure CLI login.
      - Falls back to the E(ANSIBLE_AZURE_AUTH_SOURCE) environment variable.
    type: str
    choices: [auto, parameters, env, msi, cli]
    default: auto
  subscription_id:
    description:
      - The Azure subscription ID (a GUID).
      - Falls back to the E(AZURE_SUBSCRIPTION_ID) environment variable.
    type: str
  client_id:
    description:
      - The application (client) ID of a service principal, used with O(tenant) and one of O(secret),
        O(certificate_path) or O(federated_token_file).
      - Alone, the client ID of a user-assigned managed identity.
    type: str
  secret:
    description:
      - The service principal's client secret.
      - Never shown in output, logs or error messages.
    type: str
  tenant:
    description:
      - The Microsoft Entra tenant ID of the service principal.
      - With O(auth_source=cli), the tenant to request tokens from.
    type: str
  certificate_path:
    description:
      - A PEM or PKCS12 file holding the service principal's certificate and private key.
    type: path
  certificate_password:
    description:
      - The password of O(certificate_path), if it is encrypted.
    type: str
  federated_token_file:
    description:
      - A file holding a federated (workload identity) token, such as a Kubernetes service account token,
        exchanged for an Entra ID token of the service principal O(client_id).
      - The file is read again whenever a new token is needed.
    type: path
  cloud_environment:
    description:
      - The Azure cloud, by name (V(AzureCloud), V(AzureUSGovernment), V(AzureChinaCloud)) or as the
        https URL of an Azure Resource Manager endpoint (Azure Stack Hub, disconnected Azure Local, a private cloud).
      - For a URL, its C(/metadata/endpoints?api-version=2022-09-01) document supplies the login endpoint,
        the token audience and the Arc configuration data-plane endpoint.
      - Falls back to the E(AZURE_CLOUD_ENVIRONMENT) environment variable.
    type: str
    default: AzureCloud
  ca_bundle:
    description:
      - A PEM file of CA certificates to verify Azure's TLS certificates against, instead of the system store.
      - TLS certificates are always verified; this is the way to trust a private CA.
      - Falls back to the E(REQUESTS_CA_BUNDLE) environment variable.
    type: path
requirements:
  - azure-identity >= 1.19.0
  - azure-core >= 1.31.0
  - azure-mgmt-core >= 1.5.0
notes:
  - >-
    Credentials are looked for in this order, and the first complete set wins:
    1. the options O(client_id), O(tenant) and one of O(secret), O(certificate_path), O(federated_token_file);
    2. the environment variables AWX and C(azure.azcollection) use: E(AZURE_CLIENT_ID), E(AZURE_SECRET),
    E(AZURE_TENANT);
    3. the azure-identity environment variables: E(AZURE_CLIENT_ID), E(AZURE_TENANT_ID) and one of
    E(AZURE_CLIENT_SECRET), E(AZURE_CLIENT_CERTIFICATE_PATH) (with E(AZURE_CLIENT_CERTIFICATE_PASSWORD)),
    E(AZURE_FEDERATED_TOKEN_FILE);
    4. a managed identity;
    5. the Azure CLI login (C(az login)).
    A partly configured service principal is an error, not a reason to try the next source.
  - >-
    The task authenticates once, before any other request; missing or rejected credentials fail with one line
    naming the method tried, the tenant and the client ID. Secrets never appear in output.
  - >-
    Requests that Azure throttles (429), that fail with 408, 500, 502, 503 or 504, or that cannot connect are
    retried with backoff, honouring C(Retry-After). Each run sends one C(x-ms-correlation-request-id) and the
    user agent C(hci.arc_ml/<version>).
"""
