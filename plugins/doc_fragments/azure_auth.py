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
      - V(auto) walks the chain described in the notes and uses the first complete source.
      - V(parameters) uses only the module options (a service principal, else O(ad_user) and O(password)),
        V(env) only the environment variables (a service principal, else E(AZURE_AD_USER) and E(AZURE_PASSWORD)),
        V(credential_file) only a profile of C(~/.azure/credentials) (O(profile), else E(AZURE_PROFILE), else
        C(default)), V(msi) only a managed identity (user-assigned when O(client_id) or E(AZURE_CLIENT_ID) is
        set), V(cli) only the Azure CLI login.
      - Falls back to the E(ANSIBLE_AZURE_AUTH_SOURCE) environment variable.
    type: str
    choices: [auto, parameters, env, credential_file, msi, cli]
    default: auto
  profile:
    description:
      - A profile (an INI section) of the credentials file C(~/.azure/credentials), the file C(azure.azcollection)
        reads. Its keys C(client_id), C(secret) and C(tenant) configure a service principal; C(ad_user) and
        C(password) (with C(tenant) and C(client_id) optional) a user. Its C(subscription_id) and
        C(cloud_environment) apply when neither the option nor its environment variable is set.
      - A named profile wins over every other source (see the notes); a missing file or profile is an error.
      - The file's secrets are never shown. Keys it may hold that this collection does not read
        (C(x509_certificate_path), C(thumbprint), C(adfs_authority_url), C(cert_validation_mode)) are ignored;
        TLS certificates are always verified.
      - Falls back to the E(AZURE_PROFILE) environment variable.
    type: str
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
  ad_user:
    description:
      - The user principal name of a Microsoft Entra user (a work or school account), used with O(password).
        O(tenant) defaults to C(organizations) and O(client_id) to the Azure CLI's public client application
        C(04b07795-8ddb-461a-bbee-02f9e1bf7b46), as in C(azure.azcollection).
      - The user signs in with the resource owner password credentials grant, which cannot pass multifactor
        authentication. Azure requires MFA of user accounts that sign in to Azure Resource Manager (mandatory
        MFA), so such a sign-in fails with a message that says so; use a service principal for automation.
      - The environment's equivalent is E(AZURE_AD_USER) with E(AZURE_PASSWORD), what AWX's Microsoft Azure
        Resource Manager credential injects for a username and password.
    type: str
  password:
    description:
      - The password of O(ad_user). Never shown in output, logs or error messages.
    type: str
  cloud_environment:
    description:
      - The Azure cloud, by name (V(AzureCloud), V(AzureUSGovernment), V(AzureChinaCloud)) or as the
        https URL of an Azure Resource Manager endpoint (Azure Stack Hub, disconnected Azure Local, a private cloud).
      - For a URL, its C(/metadata/endpoints?api-version=2022-09-01) document supplies the login endpoint,
        the token audience and the Arc configuration data-plane endpoint. The document is checked before
        anything is sent (see O(trusted_login_hosts), O(trusted_audience_hosts) and the notes).
      - Falls back to the E(AZURE_CLOUD_ENVIRONMENT) environment variable, then to the credentials file
        profile's C(cloud_environment), then to V(AzureCloud).
    type: str
  trusted_login_hosts:
    description:
      - Host names, besides the Resource Manager host and the Microsoft Entra ID login hosts, that a custom
        cloud's metadata may name as its login endpoint, the host that receives the client secret or password.
      - Azure Stack Hub with Microsoft Entra ID needs nothing here. Azure Stack Hub with AD FS names
        C(adfs.<region>.<fqdn>), another host than its Resource Manager C(management.<region>.<fqdn>), so that host
        must be listed (for example C(adfs.local.azurestack.external)).
      - Falls back to the E(ARCML_TRUSTED_LOGIN_HOSTS) environment variable (host names separated by commas).
    type: list
    elements: str
  trusted_audience_hosts:
    description:
      - Host names of token audiences a custom cloud's metadata may ask Microsoft Entra ID for, besides its
        Resource Manager host and the form Azure Stack Hub registers (C(https://management.<domain>/<GUID>)).
      - A token for a Microsoft service's audience (Graph, Key Vault, the Resource Manager of a known cloud)
        works against that service, so a document that asks for one is refused unless its host is listed here,
        for example C(management.core.windows.net) for a proxy in front of the public cloud's Resource Manager.
      - Falls back to the E(ARCML_TRUSTED_AUDIENCE_HOSTS) environment variable (host names separated by commas).
    type: list
    elements: str
  ca_bundle:
    description:
      - A PEM file of CA certificates to verify Azure's TLS certificates against, instead of the system store.
      - TLS certificates are always verified; this is the way to trust a private CA.
      - Falls back to the E(REQUESTS_CA_BUNDLE) environment variable.
    type: path
  token_cache:
    description:
      - Share the cloud metadata and the access tokens with the other tasks of the run, so that a run signs in
        to Azure once instead of once per task (see the notes).
      - The cache is the file C(hci-arc-ml/azure-tokens/cache.json) in the user's cache directory
        (E(XDG_CACHE_HOME), else C(~/.cache)) of the host the module runs on, mode 0600 in a directory of mode
        0700. It holds access tokens and custom clouds' metadata documents, never a secret, password,
        certificate or refresh token.
      - With V(false), nothing is read from or written to it.
      - Falls back to the E(ARCML_TOKEN_CACHE) environment variable.
    type: bool
    default: true
requirements:
  - azure-identity >= 1.19.0
  - azure-core >= 1.31.0
  - azure-mgmt-core >= 1.5.0
notes:
  - >-
    Credentials are looked for in this order, and the first complete set wins:
    1. the C(~/.azure/credentials) profile O(profile) or E(AZURE_PROFILE) names;
    2. the options O(client_id), O(tenant) and one of O(secret), O(certificate_path), O(federated_token_file);
    3. the environment variables AWX and C(azure.azcollection) use: E(AZURE_CLIENT_ID), E(AZURE_SECRET),
    E(AZURE_TENANT);
    4. the azure-identity environment variables: E(AZURE_CLIENT_ID), E(AZURE_TENANT_ID) and one of
    E(AZURE_CLIENT_SECRET), E(AZURE_CLIENT_CERTIFICATE_PATH) (with E(AZURE_CLIENT_CERTIFICATE_PASSWORD)),
    E(AZURE_FEDERATED_TOKEN_FILE);
    5. the options O(ad_user) and O(password);
    6. the environment variables E(AZURE_AD_USER) and E(AZURE_PASSWORD) (with E(AZURE_TENANT) and
    E(AZURE_CLIENT_ID) when set), what AWX injects for a username and password;
    7. the C(default) profile of C(~/.azure/credentials), when the file has one;
    8. a managed identity;
    9. the Azure CLI login (C(az login)).
    A partly configured source is an error, not a reason to try the next one.
  - >-
    A custom cloud's metadata is held to these rules before anything is sent, and a document that breaks one is
    refused with one line naming the endpoint, its host and the option to set: every endpoint that receives a
    secret or a token is https; the login endpoint is on the Resource Manager host, on a Microsoft Entra ID login
    host (such as C(login.microsoftonline.com)) or on a host of O(trusted_login_hosts); when Entra ID issues the
    token, its audience is on the Resource Manager host, of the Azure Stack Hub form
    C(https://management.<domain>/<GUID>) outside Microsoft's service domains, or on a host of
    O(trusted_audience_hosts).
  - >-
    The task authenticates once, before any other request; missing or rejected credentials fail with one line
    naming the method tried, the tenant and the client ID. Secrets never appear in output.
  - >-
    The token cache (O(token_cache)) keeps an access token for as long as it has more than 5 minutes left, and a
    custom cloud's metadata document for one hour, checked again against O(trusted_login_hosts) and
    O(trusted_audience_hosts) each time it is used. A token is found only by a task that holds the same secret:
    its key includes the cloud, tenant, client ID, user, scope and a salted PBKDF2 hash of the client secret,
    password, certificate file or federated token, so a changed secret signs in again. Tokens of a managed
    identity (cached by the identity endpoint itself) and of the Azure CLI login (cached by C(az)) are not kept.
    A cache file that others can read, that another user owns or that does not parse is ignored and replaced.
  - >-
    Requests that Azure throttles (429), that fail with 408, 500, 502, 503 or 504, or that cannot connect are
    retried with backoff, honouring C(Retry-After). Each run sends one C(x-ms-correlation-request-id) and the
    user agent C(hci.arc_ml/<version>).
"""
