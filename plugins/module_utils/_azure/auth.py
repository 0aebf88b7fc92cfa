# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Azure authentication and the per-run Azure context (cloud, credential, subscription, ARM client).

The credential chain, in order (documented in the hci.arc_ml.azure_auth doc fragment):
1. module options: client_id + tenant + one of secret / certificate_path / federated_token_file;
2. AWX / azure.azcollection environment names: AZURE_CLIENT_ID + AZURE_SECRET + AZURE_TENANT;
3. azure-identity environment names: AZURE_CLIENT_ID + AZURE_TENANT_ID + one of AZURE_CLIENT_SECRET /
   AZURE_CLIENT_CERTIFICATE_PATH (+ AZURE_CLIENT_CERTIFICATE_PASSWORD) / AZURE_FEDERATED_TOKEN_FILE;
4. managed identity (user-assigned when client_id or AZURE_CLIENT_ID is set);
5. the Azure CLI's login.
The first complete service principal wins; a half-configured one is an error rather than a silent fall
through to the next source. `auth_source` pins one source. azure.identity is imported only when a
credential is built.
"""

from __future__ import annotations

import os
import re
from dataclasses import InitVar, dataclass, field

from ansible.module_utils.basic import env_fallback
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.arm import (
    ArmClient,
    create_pipeline_client,
    fetch_json,
    new_correlation_id,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.cloud import resolve_cloud, scope_for
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import (
    ArcMLError,
    import_optional,
    one_line,
    redact,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._common.version import USER_AGENT

AUTH_SOURCES = ("auto", "parameters", "env", "msi", "cli")
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
        subscription_id=dict(type="str", fallback=(env_fallback, ["AZURE_SUBSCRIPTION_ID"])),
        client_id=dict(type="str"),
        secret=dict(type="str", no_log=True),
        tenant=dict(type="str"),
        certificate_path=dict(type="path"),
        certificate_password=dict(type="str", no_log=True),
        federated_token_file=dict(type="path"),
        cloud_environment=dict(type="str", default="AzureCloud", fallback=(env_fallback, ["AZURE_CLOUD_ENVIRONMENT"])),
        ca_bundle=dict(type="path", fallback=(env_fallback, ["REQUESTS_CA_BUNDLE"])),
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


class CredentialPlan:
    """Which credential this run will use, decided from options and environment before any request."""

    def __init__(self, method, service_principal=None, managed_identity_client_id=None, tenant=None, tried=()):
        self.method = method  # "service_principal", "msi", "cli" or "ambient" (managed identity, then CLI)
        self.service_principal = service_principal
        self.managed_identity_client_id = managed_identity_client_id
        self.tenant = tenant
        self.tried = tuple(tried)

    @property
    def secrets(self):
        return self.service_principal.secrets if self.service_principal else []

    def describe(self):
        if self.service_principal:
            return self.service_principal.describe()
        identity = "managed identity"
        if self.managed_identity_client_id:
            identity += f" (client id {self.managed_identity_client_id})"
        cli = "Azure CLI login" + (f" (tenant {self.tenant})" if self.tenant else "")
        return {"msi": identity, "cli": cli, "ambient": f"{identity}, then {cli}"}[self.method]


def plan_credentials(params, environ=None):
    """Walk the chain (or the source `auth_source` pins) and return the CredentialPlan."""
    environ = os.environ if environ is None else environ
    source = params.get("auth_source") or "auto"
    managed_identity_client_id = params.get("client_id") or environ.get("AZURE_CLIENT_ID")
    tried = []
    if source in ("auto", "parameters"):
        principal = service_principal_from_params(params)
        if principal:
            return CredentialPlan("service_principal", principal)
        tried.append("module options")
        if source == "parameters":
            raise AzureCredentialsError(
                "auth_source is 'parameters' but the module options hold no service principal: set client_id, "
                "tenant and one of secret, certificate_path or federated_token_file."
            )
    if source in ("auto", "env"):
        for finder in (service_principal_from_awx_env, service_principal_from_identity_env):
            principal = finder(environ)
            if principal:
                return CredentialPlan("service_principal", principal)
        tried.append("environment AZURE_CLIENT_ID + AZURE_SECRET + AZURE_TENANT")
        tried.append(
            "environment AZURE_CLIENT_ID + AZURE_TENANT_ID + AZURE_CLIENT_SECRET/_CERTIFICATE_PATH/FEDERATED_TOKEN_FILE"
        )
        if source == "env":
            raise AzureCredentialsError(
                "auth_source is 'env' but the environment holds no service principal: set AZURE_CLIENT_ID, "
                "AZURE_SECRET and AZURE_TENANT (AWX names) or AZURE_CLIENT_ID, AZURE_TENANT_ID and "
                "AZURE_CLIENT_SECRET (azure-identity names)."
            )
    if source == "msi":
        return CredentialPlan("msi", managed_identity_client_id=managed_identity_client_id)
    if source == "cli":
        return CredentialPlan("cli", tenant=params.get("tenant"))
    return CredentialPlan(
        "ambient", managed_identity_client_id=managed_identity_client_id, tenant=params.get("tenant"), tried=tried
    )


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
    if plan.service_principal:
        principal = plan.service_principal
        authority = dict(common, authority=cloud.login_endpoint)
        if cloud.custom:
            # Instance discovery asks login.microsoftonline.com about the authority, which fails for a custom cloud.
            authority["disable_instance_discovery"] = True
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


def authenticate(plan, credential, cloud, scope=None):
    """Get one token now, so missing or rejected credentials fail here with a message that says which."""
    exceptions = import_optional("azure.core.exceptions", "azure-core")
    try:
        credential.get_token(scope or cloud.arm_scope)
    except (exceptions.ClientAuthenticationError, OSError, ValueError) as exc:
        # OSError: an unreadable federated token file, which is read only when a token is requested.
        raise credentials_error(plan, cloud, exc) from None


def credentials_error(plan, cloud, exc):
    """One line naming the method, tenant and client id tried, the reason, and what to check; no secret."""
    reason = _identity_reason(redact(getattr(exc, "message", None) or str(exc), plan.secrets))
    unavailable = type(exc).__name__ == "CredentialUnavailableError"
    if plan.method == "ambient" and unavailable:
        return AzureCredentialsError(
            f"No Azure credentials found. Tried: {'; '.join(plan.tried)}; {plan.describe()}: {reason}. Configure "
            "a service principal (options or environment), a managed identity, or run 'az login'."
        )
    if unavailable:
        verdict = "Azure credentials unavailable"
    elif isinstance(exc, (OSError, ValueError)):
        verdict = "Cannot use the Azure credentials"
    else:
        verdict = "Azure rejected the credentials"
    return AzureCredentialsError(
        f"{verdict}: {plan.describe()}, authority {cloud.login_endpoint}: {reason}. "
        "Check the tenant, client id, credential and cloud_environment."
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
        raise ArcMLError("subscription_id is required: set the subscription_id option or AZURE_SUBSCRIPTION_ID.")
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
        subscription_id = params.get("subscription_id")
        if require_subscription or subscription_id:
            subscription_id = check_subscription_id(subscription_id)
        plan = plan or plan_credentials(params, environ)
        ca_bundle = params.get("ca_bundle")
        if ca_bundle and not os.path.isfile(ca_bundle):
            raise ArcMLError(f"ca_bundle {ca_bundle} is not a readable file.")
        correlation_id = new_correlation_id()
        cloud = resolve_cloud(
            params.get("cloud_environment"),
            lambda url: fetch_json(url, correlation_id, ca_bundle=ca_bundle, transport=transport),
        )
        credential = build_credential(plan, cloud, ca_bundle, transport)
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
