# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Azure authentication and the per-run Azure context (cloud, credential, subscription, ARM client).

The credential chain, in order (documented in the hci.arc_ml.azure_auth doc fragment):
1. a profile of ~/.azure/credentials named by the `profile` option or AZURE_PROFILE (a named profile is an
   explicit choice, as in azure.azcollection);
2. module options: client_id + tenant + one of secret / certificate_path / federated_token_file;
3. AWX / azure.azcollection environment names: AZURE_CLIENT_ID + AZURE_SECRET + AZURE_TENANT;
4. azure-identity environment names: AZURE_CLIENT_ID + AZURE_TENANT_ID + one of AZURE_CLIENT_SECRET /
   AZURE_CLIENT_CERTIFICATE_PATH (+ AZURE_CLIENT_CERTIFICATE_PASSWORD) / AZURE_FEDERATED_TOKEN_FILE;
5. a user account from module options: ad_user + password (tenant and client_id optional);
6. a user account from the environment AWX injects for its username/password Azure credential:
   AZURE_AD_USER + AZURE_PASSWORD (AZURE_TENANT, AZURE_CLIENT_ID optional);
7. the [default] profile of ~/.azure/credentials, when the file has one;
8. managed identity (user-assigned when client_id or AZURE_CLIENT_ID is set);
9. the Azure CLI's login.
The first complete source wins; a half-configured one is an error rather than a silent fall through to the
next source. `auth_source` pins one source. azure.identity is imported only when a credential is built.

A user account signs in with the resource owner password credentials grant (azure-identity's
UsernamePasswordCredential), as azure.azcollection does, with its defaults: the Azure CLI's public client id
and the `organizations` tenant. Entra ID refuses that grant to users who must pass multifactor
authentication, which Azure Resource Manager now requires of every user; that answer becomes one line that
says to use a service principal.

With `token_cache` on (the default), the module processes of a run share the cloud metadata and the access
tokens through token_cache.py, so a run signs in once. Cached: the credentials whose tokens our code asks Entra ID
(or the cloud's own login endpoint) for with a secret the key can be bound to: a service principal's client
secret, certificate or federated token file, and a user's password. Not cached: a managed identity, which has no
secret to bind a cached token to (any process on the machine may ask IMDS for its tokens, and IMDS caches them:
https://github.com/MicrosoftDocs/entra-docs/blob/main/docs/identity/managed-identities-azure-resources/how-to-use-vm-token.md),
and the Azure CLI login, whose tokens `az` keeps in its own MSAL token cache, so that `az logout` takes effect
(https://github.com/Azure/azure-cli/blob/dev/src/azure-cli-core/azure/cli/core/auth/identity.py).
"""

from __future__ import annotations

import configparser
import os
import re
import warnings
from dataclasses import InitVar, dataclass, field
from urllib.parse import urlsplit

from ansible.module_utils.basic import env_fallback
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import (
    ArmClient,
    create_pipeline_client,
    fetch_json,
    new_correlation_id,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.cloud import Trust, resolve_cloud, scope_for
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.token_cache import (
    CachedCredential,
    TokenOwner,
    open_cache,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import (
    ArcMLError,
    import_optional,
    one_line,
    redact,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._common.version import USER_AGENT

AUTH_SOURCES = ("auto", "parameters", "env", "credential_file", "msi", "cli")
# azure.azcollection's defaults for a user account without client_id / tenant (azure_rm_common.py, AzureRMAuth):
# the Azure CLI's public client application, and the tenant-independent endpoint for work and school accounts.
# https://github.com/ansible-collections/azure/blob/dev/plugins/module_utils/azure_rm_common.py
AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
ORGANIZATIONS_TENANT = "organizations"
# azure.azcollection's credentials file (AzureRMAuth._get_profile) and its profile when none is named.
CREDENTIALS_FILE = "~/.azure/credentials"
DEFAULT_PROFILE = "default"
# Entra ID's answers when the user must pass multifactor authentication, which a password alone cannot:
# 50072/50079 enrol for MFA, 50074/50076 strong authentication required, 50158 external security challenge.
# https://github.com/MicrosoftDocs/entra-docs/blob/main/docs/identity-platform/reference-error-codes.md
_MFA_REQUIRED = re.compile(r"AADSTS(50072|50074|50076|50079|50158)\b")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def azure_auth_argument_spec():
    """The options documented by the hci.arc_ml.azure_auth doc fragment."""
    return dict(
        auth_source=dict(
            type="str",
            choices=list(AUTH_SOURCES),
            default="auto",
            fallback=(env_fallback, ["ANSIBLE_AZURE_AUTH_SOURCE"]),
        ),
        profile=dict(type="str"),
        subscription_id=dict(type="str", fallback=(env_fallback, ["AZURE_SUBSCRIPTION_ID"])),
        client_id=dict(type="str"),
        secret=dict(type="str", no_log=True),
        tenant=dict(type="str"),
        certificate_path=dict(type="path"),
        certificate_password=dict(type="str", no_log=True),
        federated_token_file=dict(type="path"),
        ad_user=dict(type="str"),
        password=dict(type="str", no_log=True),
        # No default: a credentials file profile's cloud_environment applies when neither option nor variable is set.
        cloud_environment=dict(type="str", fallback=(env_fallback, ["AZURE_CLOUD_ENVIRONMENT"])),
        trusted_login_hosts=dict(type="list", elements="str", fallback=(env_fallback, ["ARCML_TRUSTED_LOGIN_HOSTS"])),
        trusted_audience_hosts=dict(
            type="list", elements="str", fallback=(env_fallback, ["ARCML_TRUSTED_AUDIENCE_HOSTS"])
        ),
        ca_bundle=dict(type="path", fallback=(env_fallback, ["REQUESTS_CA_BUNDLE"])),
        token_cache=dict(type="bool", default=True, fallback=(env_fallback, ["ARCML_TOKEN_CACHE"])),
    )


class AzureCredentialsError(ArcMLError):
    """No usable credentials were configured, or Entra ID rejected the ones that were."""


@dataclass
class ServicePrincipal:
    """A service principal's settings and where they came from (for messages; never shows the secret)."""

    origin: str
    tenant: str
    client_id: str
    secret: str | None = field(default=None, repr=False)
    certificate_path: str | None = None
    certificate_password: str | None = field(default=None, repr=False)
    federated_token_file: str | None = None

    @property
    def kind(self):
        if self.secret:
            return "client secret"
        if self.certificate_path:
            return "client certificate"
        return "federated token file"

    @property
    def secrets(self):
        return [s for s in (self.secret, self.certificate_password) if s]

    def describe(self):
        return (
            f"service principal with {self.kind} from {self.origin} (tenant {self.tenant}, client id {self.client_id})"
        )


@dataclass
class UserAccount:
    """A Microsoft Entra user signing in with a password (the ROPC grant); never shows the password."""

    origin: str
    username: str
    password: str = field(repr=False)
    tenant: str = ORGANIZATIONS_TENANT
    client_id: str = AZURE_CLI_CLIENT_ID

    @property
    def secrets(self):
        return [self.password]

    def describe(self):
        return (
            f"user {self.username} with password from {self.origin} (tenant {self.tenant}, client id {self.client_id})"
        )


# Where each source keeps a service principal's settings: field of ServicePrincipal -> option or variable name.
_OPTION_NAMES = {
    "tenant": "tenant",
    "client_id": "client_id",
    "secret": "secret",
    "certificate_path": "certificate_path",
    "federated_token_file": "federated_token_file",
    "certificate_password": "certificate_password",
}
# AWX's Azure credential injects no certificate or token file.
_AWX_ENV_NAMES = {"tenant": "AZURE_TENANT", "client_id": "AZURE_CLIENT_ID", "secret": "AZURE_SECRET"}
_IDENTITY_ENV_NAMES = {
    "tenant": "AZURE_TENANT_ID",
    "client_id": "AZURE_CLIENT_ID",
    "secret": "AZURE_CLIENT_SECRET",
    "certificate_path": "AZURE_CLIENT_CERTIFICATE_PATH",
    "federated_token_file": "AZURE_FEDERATED_TOKEN_FILE",
    "certificate_password": "AZURE_CLIENT_CERTIFICATE_PASSWORD",
}
_CREDENTIAL_FIELDS = ("secret", "certificate_path", "federated_token_file")
_PARAMETER_NAMES = ("client_id", "tenant", "secret", "certificate_path", "federated_token_file")


def service_principal_from_params(params):
    """The service principal the module options configure, or None when they configure none."""
    given = [name for name in _PARAMETER_NAMES if params.get(name)]
    if not given or given in (["client_id"], ["tenant"]):
        # client_id alone names a user-assigned managed identity; tenant alone only steers the CLI.
        return None
    if (params.get("ad_user") or params.get("password")) and not any(params.get(n) for n in _CREDENTIAL_FIELDS):
        # With ad_user and password, client_id and tenant are the user's application and tenant.
        return None
    return _complete("module options", params, _OPTION_NAMES)


def service_principal_from_awx_env(environ):
    """AZURE_CLIENT_ID + AZURE_SECRET + AZURE_TENANT, as AWX's Azure credential injects them."""
    if not environ.get("AZURE_SECRET"):
        return None
    return _complete("environment (AZURE_CLIENT_ID, AZURE_SECRET, AZURE_TENANT)", environ, _AWX_ENV_NAMES)


def service_principal_from_identity_env(environ):
    """azure-identity's EnvironmentCredential / WorkloadIdentityCredential variable names."""
    credential_names = ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE")
    if not any(environ.get(n) for n in credential_names):
        # AZURE_TENANT_ID or AZURE_CLIENT_ID alone are hints for other credentials, not a service principal.
        return None
    if environ.get("AZURE_FEDERATED_TOKEN_FILE") and not (
        environ.get("AZURE_TENANT_ID") and environ.get("AZURE_CLIENT_ID")
    ):
        # The AKS workload-identity webhook injects these three together; a token file alone is not ours to use.
        return None
    return _complete("environment (azure-identity names)", environ, _IDENTITY_ENV_NAMES)


def _complete(origin, source, names):
    """The ServicePrincipal `source` holds under `names`; an error when it is half-configured or ambiguous."""
    values = {field: source.get(name) for field, name in names.items()}
    *other_credentials, last_credential = [names[field] for field in _CREDENTIAL_FIELDS if field in names]
    credential_choice = f"{', '.join(other_credentials)} or {last_credential}" if other_credentials else last_credential
    missing = [names[field] for field in ("tenant", "client_id") if not values[field]]
    credentials = [field for field in _CREDENTIAL_FIELDS if values.get(field)]
    if not credentials:
        missing.append(credential_choice)
    if missing:
        raise AzureCredentialsError(
            "Incomplete service principal in {}: {} not set. Set all of tenant, client id and one credential, "
            "or none of them.".format(origin, " and ".join(missing))
        )
    if len(credentials) > 1:
        raise AzureCredentialsError(f"Ambiguous service principal in {origin}: set only one of {credential_choice}.")
    return ServicePrincipal(origin, **values)


def user_from_params(params):
    """The user account the options ad_user and password configure, or None."""
    return _user("module options", params.get("ad_user"), params.get("password"), params, ("ad_user", "password"))


def user_from_env(environ):
    """AZURE_AD_USER + AZURE_PASSWORD, as AWX's Azure credential injects them for a username and password.

    AZURE_TENANT and AZURE_CLIENT_ID apply when set, as azure.azcollection reads them with the user.
    """
    names = ("AZURE_AD_USER", "AZURE_PASSWORD")
    values = {"tenant": environ.get("AZURE_TENANT"), "client_id": environ.get("AZURE_CLIENT_ID")}
    return _user("environment (AZURE_AD_USER, AZURE_PASSWORD)", *(environ.get(n) for n in names), values, names)


def _user(origin, username, password, source, names):
    if not (username or password):
        return None
    if not (username and password):
        missing = names[1] if username else names[0]
        raise AzureCredentialsError(
            f"Incomplete user credentials in {origin}: {missing} not set. Set both {names[0]} and {names[1]}, "
            "or neither."
        )
    return UserAccount(
        origin,
        username,
        password,
        tenant=source.get("tenant") or ORGANIZATIONS_TENANT,
        client_id=source.get("client_id") or AZURE_CLI_CLIENT_ID,
    )


class CredentialPlan:
    """Which credential this run will use, decided from options, environment and files before any request.

    `subscription_id` and `cloud_environment` are a credentials file profile's, used when the options and
    environment set none.
    """

    def __init__(
        self,
        method,
        service_principal=None,
        managed_identity_client_id=None,
        tenant=None,
        tried=(),
        user=None,
        subscription_id=None,
        cloud_environment=None,
    ):
        # "service_principal", "user", "msi", "cli" or "ambient" (managed identity, then CLI)
        self.method = method
        self.service_principal = service_principal
        self.user = user
        self.managed_identity_client_id = managed_identity_client_id
        self.tenant = tenant
        self.tried = tuple(tried)
        self.subscription_id = subscription_id
        self.cloud_environment = cloud_environment

    @property
    def secrets(self):
        found = list(self.service_principal.secrets) if self.service_principal else []
        return found + (self.user.secrets if self.user else [])

    def describe(self):
        if self.service_principal:
            return self.service_principal.describe()
        if self.user:
            return self.user.describe()
        identity = "managed identity"
        if self.managed_identity_client_id:
            identity += f" (client id {self.managed_identity_client_id})"
        cli = "Azure CLI login" + (f" (tenant {self.tenant})" if self.tenant else "")
        return {"msi": identity, "cli": cli, "ambient": f"{identity}, then {cli}"}[self.method]


_SUPPORTED = (
    "a service principal (client_id, tenant and secret, certificate_path or federated_token_file), a user and "
    "password (ad_user and password), a credentials file profile, a managed identity or the Azure CLI login"
)


def plan_credentials(params, environ=None):
    """Walk the chain (or the source `auth_source` pins) and return the CredentialPlan."""
    environ = os.environ if environ is None else environ
    source = params.get("auth_source") or "auto"
    named_profile = params.get("profile") or environ.get("AZURE_PROFILE")
    if source == "credential_file" or (source == "auto" and named_profile):
        return plan_from_profile(named_profile or DEFAULT_PROFILE, required=True)
    if source in ("auto", "parameters", "env"):
        found = _first_complete(source, params, environ)
        if found:
            return found
    managed_identity_client_id = params.get("client_id") or environ.get("AZURE_CLIENT_ID")
    if source == "msi":
        return CredentialPlan("msi", managed_identity_client_id=managed_identity_client_id)
    if source == "cli":
        return CredentialPlan("cli", tenant=params.get("tenant"))
    default_profile = plan_from_profile(DEFAULT_PROFILE, required=False)
    if default_profile:
        return default_profile
    tried = [
        "module options",
        "environment AZURE_CLIENT_ID + AZURE_SECRET + AZURE_TENANT",
        "environment AZURE_CLIENT_ID + AZURE_TENANT_ID + AZURE_CLIENT_SECRET/_CERTIFICATE_PATH/FEDERATED_TOKEN_FILE",
        "environment AZURE_AD_USER + AZURE_PASSWORD",
        f"credentials file {credentials_file_path()} [{DEFAULT_PROFILE}]",
    ]
    return CredentialPlan(
        "ambient", managed_identity_client_id=managed_identity_client_id, tenant=params.get("tenant"), tried=tried
    )


def _first_complete(source, params, environ):
    """Service principals before user accounts; options before environment. None when none is configured."""
    use_params, use_env = source in ("auto", "parameters"), source in ("auto", "env")
    # Read every source up front, so that a half-configured one fails even when an earlier one would win.
    params_user = user_from_params(params) if use_params else None
    env_user = user_from_env(environ) if use_env else None
    finders = [(service_principal_from_params, params)] if use_params else []
    if use_env:
        finders += [(service_principal_from_awx_env, environ), (service_principal_from_identity_env, environ)]
    for finder, values in finders:
        principal = finder(values)
        if principal:
            return CredentialPlan("service_principal", principal)
    for user in (params_user, env_user):
        if user:
            return CredentialPlan("user", user=user)
    if source == "parameters":
        raise AzureCredentialsError(
            "auth_source is 'parameters' but the module options hold no credentials: set client_id, tenant and "
            "one of secret, certificate_path or federated_token_file, or ad_user and password."
        )
    if source == "env":
        raise AzureCredentialsError(
            "auth_source is 'env' but the environment holds no credentials: set AZURE_CLIENT_ID, AZURE_SECRET and "
            "AZURE_TENANT (AWX names), AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET (azure-identity "
            "names), or AZURE_AD_USER and AZURE_PASSWORD (AWX username and password)."
        )
    return None


def credentials_file_path():
    return os.path.expanduser(CREDENTIALS_FILE)


def plan_from_profile(profile, required):
    """The CredentialPlan of one profile of ~/.azure/credentials (azure.azcollection's INI file).

    `required`: the profile was named (option profile, AZURE_PROFILE or auth_source credential_file), so a
    missing file or section is an error; otherwise None.
    """
    path = credentials_file_path()
    values = _read_profile(path, profile, required)
    if values is None:
        return None
    origin = f"credentials file {path} [{profile}]"
    common = {"subscription_id": values.get("subscription_id"), "cloud_environment": values.get("cloud_environment")}
    if values.get("secret"):
        names = {"tenant": "tenant", "client_id": "client_id", "secret": "secret"}
        return CredentialPlan("service_principal", _complete(origin, values, names), **common)
    user = _user(origin, values.get("ad_user"), values.get("password"), values, ("ad_user", "password"))
    if user:
        return CredentialPlan("user", user=user, **common)
    unsupported = [key for key in ("x509_certificate_path", "thumbprint", "adfs_authority_url") if values.get(key)]
    held = f" It holds {', '.join(unsupported)}, which hci.arc_ml does not read." if unsupported else ""
    raise AzureCredentialsError(
        f"Profile [{profile}] of {path} holds no credentials it can use: set client_id, secret and tenant, or "
        f"ad_user and password.{held}"
    )


def _read_profile(path, profile, required):
    if not os.path.isfile(path):
        if required:
            raise AzureCredentialsError(
                f"Azure credentials file {path} not found, but profile {profile!r} is asked for (profile option, "
                "AZURE_PROFILE or auth_source credential_file): create the file or name no profile."
            )
        return None
    # No interpolation: a '%' in a secret is literal, as azure.azcollection reads it (raw=True).
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except configparser.Error as exc:
        # The library's message quotes the offending line, which may hold a secret: give its number only.
        line = getattr(exc, "lineno", None) or next((error[0] for error in getattr(exc, "errors", ())), "?")
        raise AzureCredentialsError(
            f"Cannot parse Azure credentials file {path} ({type(exc).__name__} at line {line}): it must be an INI "
            "file with one [section] per profile."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AzureCredentialsError(f"Cannot read Azure credentials file {path}: {exc}.") from None
    if not parser.has_section(profile):
        if required:
            raise AzureCredentialsError(
                f"Profile [{profile}] not found in Azure credentials file {path} (it has: "
                f"{', '.join(parser.sections()) or 'no profile'}): name one of them, or add it."
            )
        return None
    return {key: value.strip() for key, value in parser.items(profile) if value and value.strip()}


def build_credential(plan, cloud, ca_bundle=None, transport=None):
    """The azure-identity credential for `plan` in `cloud`; an unreadable certificate fails here.

    `transport` (an azure-core HttpTransport) replaces the network in tests.
    """
    identity = import_optional("azure.identity", "azure-identity")
    try:
        return _build_credential(identity, plan, cloud, ca_bundle, transport)
    except (OSError, ValueError) as exc:
        raise credentials_error(plan, cloud, exc) from None


def _build_credential(identity, plan, cloud, ca_bundle, transport):
    common = {"connection_verify": ca_bundle or True, "user_agent": USER_AGENT}
    if transport is not None:
        common["transport"] = transport
    authority = dict(common, authority=cloud.login_endpoint)
    if cloud.custom:
        # Instance discovery asks login.microsoftonline.com about the authority, which fails for a custom cloud.
        authority["disable_instance_discovery"] = True
    if plan.user:
        user = plan.user
        authority["transport"] = user_realm_port_kept(cloud.login_endpoint, transport, ca_bundle)
        with warnings.catch_warnings():
            # azure-identity deprecates the password grant because it cannot pass MFA; AWX and azure.azcollection
            # still hand us one, and Entra ID's MFA answer becomes its own message (credentials_error).
            warnings.simplefilter("ignore", DeprecationWarning)
            return identity.UsernamePasswordCredential(
                user.client_id, user.username, user.password, tenant_id=user.tenant, **authority
            )
    if plan.service_principal:
        principal = plan.service_principal
        if principal.secret:
            return identity.ClientSecretCredential(principal.tenant, principal.client_id, principal.secret, **authority)
        if principal.certificate_path:
            return identity.CertificateCredential(
                principal.tenant,
                principal.client_id,
                certificate_path=principal.certificate_path,
                password=principal.certificate_password,
                **authority,
            )
        return identity.WorkloadIdentityCredential(
            tenant_id=principal.tenant,
            client_id=principal.client_id,
            token_file_path=principal.federated_token_file,
            **authority,
        )
    credentials = []
    if plan.method in ("msi", "ambient"):
        credentials.append(identity.ManagedIdentityCredential(client_id=plan.managed_identity_client_id, **common))
    if plan.method in ("cli", "ambient"):
        credentials.append(
            identity.AzureCliCredential(tenant_id=plan.tenant) if plan.tenant else identity.AzureCliCredential()
        )
    if len(credentials) == 1:
        return credentials[0]
    # In a chain, ManagedIdentityCredential probes IMDS once with a 1 s timeout instead of retrying for minutes.
    return identity.ChainedTokenCredential(*credentials)


def user_realm_port_kept(login_endpoint, transport, ca_bundle):
    """`transport` (else the default one), fixing MSAL's user realm request for a login endpoint on another port.

    Before the password grant MSAL asks `https://{host}/common/userrealm/{user}`, built from the authority's
    host name without its port (`user_realm_discovery` in
    https://github.com/AzureAD/microsoft-authentication-library-for-python/blob/dev/msal/authority.py), so for
    a private cloud's login endpoint on a port other than 443 it would ask port 443. This puts the port back.
    """
    parts = urlsplit(login_endpoint)
    if parts.port in (None, 443):
        return transport
    core = import_optional("azure.core.pipeline.transport", "azure-core")
    inner = transport or core.RequestsTransport(connection_verify=ca_bundle or True)
    portless = f"https://{parts.hostname}/common/userrealm/"
    ported = f"https://{parts.hostname}:{parts.port}/common/userrealm/"

    class UserRealmPortTransport(core.HttpTransport):
        def send(self, request, **kwargs):
            if request.url.lower().startswith(portless):
                request.url = ported + request.url[len(portless) :]
            return inner.send(request, **kwargs)

        def open(self):
            inner.open()

        def close(self):
            inner.close()

        def __enter__(self):
            inner.__enter__()
            return self

        def __exit__(self, *args):
            inner.__exit__(*args)

        def sleep(self, duration):
            inner.sleep(duration)

    return UserRealmPortTransport()


def token_owner(plan, cloud):
    """Whose tokens the token cache keeps for `plan` in `cloud`, or None when it keeps none (see the notes above).

    The proof the cache key is bound to is what only the owner holds: the client secret, the certificate file
    (private key included) with its password, the federated token, or the user's password.
    """
    where = {"resource_manager": cloud.resource_manager, "login_endpoint": cloud.login_endpoint}
    if plan.user:
        user = plan.user
        return TokenOwner(
            tenant=user.tenant,
            client_id=user.client_id,
            kind="user password",
            username=user.username,
            proof=user.password.encode(),
            **where,
        )
    principal = plan.service_principal
    if principal is None:
        return None
    try:
        proof = _principal_proof(principal)
    except OSError:
        return None  # the credential reports the unreadable file itself
    return TokenOwner(tenant=principal.tenant, client_id=principal.client_id, kind=principal.kind, proof=proof, **where)


def _principal_proof(principal):
    if principal.secret:
        return principal.secret.encode()
    path = principal.certificate_path or principal.federated_token_file
    with open(path, "rb") as handle:
        content = handle.read()
    return content + b"\0" + (principal.certificate_password or "").encode()


def authenticate(plan, credential, cloud, scope=None):
    """Get one token now, so missing or rejected credentials fail here with a message that says which."""
    exceptions = import_optional("azure.core.exceptions", "azure-core")
    try:
        with warnings.catch_warnings():
            # MSAL warns that the password grant is deprecated on every use (see build_credential).
            warnings.simplefilter("ignore", DeprecationWarning)
            credential.get_token(scope or cloud.arm_scope)
    except (exceptions.ClientAuthenticationError, OSError, ValueError) as exc:
        # OSError: an unreadable federated token file, which is read only when a token is requested.
        raise credentials_error(plan, cloud, exc) from None


def credentials_error(plan, cloud, exc):
    """One line naming the method, tenant and client id tried, the reason, and what to check; no secret."""
    reason = _identity_reason(redact(getattr(exc, "message", None) or str(exc), plan.secrets))
    mfa = _MFA_REQUIRED.search(reason)
    if plan.user and mfa:
        return AzureCredentialsError(
            f"Azure requires multifactor authentication of user {plan.user.username} (AADSTS{mfa.group(1)}), which "
            "a user name and password cannot pass: user accounts must use MFA to sign in to Azure Resource Manager "
            "(Microsoft's mandatory MFA for Azure). Use a service principal instead: in AWX, a Microsoft Azure "
            "Resource Manager credential with client ID, client secret and tenant ID."
        )
    unavailable = type(exc).__name__ == "CredentialUnavailableError"
    if plan.method == "ambient" and unavailable:
        return AzureCredentialsError(
            f"No Azure credentials found. Tried: {'; '.join(plan.tried)}; {plan.describe()}: {reason}. Configure "
            f"one of: {_SUPPORTED} ('az login')."
        )
    if unavailable:
        verdict = "Azure credentials unavailable"
    elif isinstance(exc, (OSError, ValueError)):
        verdict = "Cannot use the Azure credentials"
    else:
        verdict = "Azure rejected the credentials"
    check = "user name, password, tenant" if plan.user else "tenant, client id, credential"
    return AzureCredentialsError(
        f"{verdict}: {plan.describe()}, authority {cloud.login_endpoint}: {reason}. "
        f"Check the {check} and cloud_environment."
    )


def _identity_reason(text):
    """The useful part of an azure-identity / MSAL message, on one line."""
    text = one_line(text, limit=2000)
    text = re.sub(r"^\w+\.get_token(_info)? failed: ", "", text)
    text = re.sub(r"^Authentication failed: ", "", text)
    # MSAL appends trace/correlation ids and timestamps that only lengthen the line.
    text = re.split(r"\s+(?:Trace ID:|Correlation ID:|Timestamp:|To mitigate this issue)", text, maxsplit=1)[0]
    return one_line(text, limit=400).rstrip(".")


def check_subscription_id(subscription_id):
    if not subscription_id:
        raise ArcMLError(
            "subscription_id is required: set the subscription_id option, AZURE_SUBSCRIPTION_ID or the "
            "credentials file profile's subscription_id."
        )
    if not _GUID.fullmatch(subscription_id):
        raise ArcMLError(f"subscription_id {subscription_id!r} is not a subscription GUID.")
    return subscription_id.lower()


@dataclass(eq=False)
class AzureContext:
    """Everything one module run needs to call Azure: cloud, authenticated credential, subscription, ARM client.

    Build it with `AzureContext.from_params`; it authenticates once, up front. Compared by identity: it is a
    live session (credential, lazily built client), not a value.
    """

    cloud: object
    credential: object = field(repr=False)
    plan: object
    subscription_id: str | None
    ca_bundle: str | None
    correlation_id: str
    transport: InitVar[object] = None
    _transport: object = field(init=False, repr=False)
    _arm: object = field(init=False, repr=False)

    def __post_init__(self, transport):
        self._transport = transport
        self._arm = None

    @classmethod
    def from_params(cls, params, environ=None, plan=None, transport=None, require_subscription=True):
        """Resolve the cloud, plan (unless given) and build the credential, and authenticate.

        `transport` (an azure-core HttpTransport) replaces the network in tests for ARM and metadata calls.
        """
        plan = plan or plan_credentials(params, environ)
        # A credentials file profile's subscription and cloud apply when the options and environment set none.
        subscription_id = params.get("subscription_id") or plan.subscription_id
        if require_subscription or subscription_id:
            subscription_id = check_subscription_id(subscription_id)
        ca_bundle = params.get("ca_bundle")
        if ca_bundle and not os.path.isfile(ca_bundle):
            raise ArcMLError(f"ca_bundle {ca_bundle} is not a readable file.")
        correlation_id = new_correlation_id()
        # Off unless asked for: a module always has the option (default true); other callers opt in.
        cache = open_cache() if params.get("token_cache") else None
        cloud = resolve_cloud(
            params.get("cloud_environment") or plan.cloud_environment,
            lambda url: fetch_json(url, correlation_id, ca_bundle=ca_bundle, transport=transport),
            Trust.from_params(params),
            cache=cache,
        )
        owner = token_owner(plan, cloud) if cache else None
        if owner is None:
            credential = build_credential(plan, cloud, ca_bundle, transport)
        else:
            credential = CachedCredential(lambda: build_credential(plan, cloud, ca_bundle, transport), cache, owner)
        authenticate(plan, credential, cloud)
        return cls(cloud, credential, plan, subscription_id, ca_bundle, correlation_id, transport)

    @property
    def arm(self):
        """The ArmClient for the cloud's resource manager."""
        if self._arm is None:
            self._arm = self.client(self.cloud.resource_manager)
        return self._arm

    def client(self, base_url, audience=None):
        """An ArmClient for another endpoint of this cloud (e.g. the Arc config data plane), same policies."""
        scope = scope_for(audience) if audience else self.cloud.arm_scope
        pipeline_client = create_pipeline_client(
            base_url,
            self.correlation_id,
            ca_bundle=self.ca_bundle,
            credential=self.credential,
            scope=scope,
            transport=self._transport,
        )
        return ArmClient(
            pipeline_client,
            base_url,
            self.correlation_id,
            on_auth_error=lambda exc: credentials_error(self.plan, self.cloud, exc),
        )
