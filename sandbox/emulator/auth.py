"""The Entra ID stand-in (OIDC discovery, client-credentials and password tokens) and ARM's bearer-token check.

Users (seeded from the sites file's `users`) sign in with the resource owner password credentials grant
as the Microsoft identity platform documents it: `POST {tenant}/oauth2/v2.0/token` with
`grant_type=password`, `client_id`, `username`, `password` and `scope`, `{tenant}` a tenant or
`organizations` but never `common` or `consumers`
(https://github.com/MicrosoftDocs/entra-docs/blob/main/docs/identity-platform/v2-oauth-ropc.md).
MSAL asks the user realm first (`GET /common/userrealm/{user}?api-version=1.0`, `user_realm_discovery` in
https://github.com/AzureAD/microsoft-authentication-library-for-python/blob/dev/msal/authority.py); a
`Managed` answer sends it straight to the token endpoint. Errors carry Entra's codes
(https://github.com/MicrosoftDocs/entra-docs/blob/main/docs/identity-platform/reference-error-codes.md):
AADSTS50034 unknown user, AADSTS50126 wrong password, AADSTS50076 a user who must pass MFA (checked
after the password, as Entra does), AADSTS9001023 the grant on /common. No refresh token is issued (the
stand-in has no refresh grant); an access token lasts `token_lifetime_seconds`.

The login endpoint shares the emulator's origin: MSAL builds every URL from
`{authority_host}/{tenant}`, and no ARM path starts with a tenant id.

MSAL performs "instance discovery" against the public cloud for any authority
host it does not know, so clients of the sandbox (like those of Azure Stack or
any private cloud) pass `disable_instance_discovery=True` to azure-identity.
`/common/discovery/instance` is served anyway for MSAL clients configured with
this emulator as their instance-discovery endpoint.
"""

from __future__ import annotations

import secrets
import uuid

from aiohttp import BasicAuth, web

from . import rbac, tokens
from .arm import ArmError, ArmRequest, Router, json_response
from .clock import iso

GRANT_CLIENT_CREDENTIALS = "client_credentials"
GRANT_PASSWORD = "password"
ORGANIZATIONS = "organizations"
USERS = "users"
# First-party public client applications every tenant has, which users sign in to Azure through:
# the Azure CLI (azure.azcollection's default for ad_user/password) and Azure PowerShell.
PUBLIC_CLIENTS = {
    "04b07795-8ddb-461a-bbee-02f9e1bf7b46": "Microsoft Azure CLI",
    "1950a258-227b-4e31-a9cf-717495945fc2": "Microsoft Azure PowerShell",
}
_OIDC_SCOPES = ("openid", "profile", "offline_access")


# The directory's users: {name (user principal name), object_id, password, mfa}, keyed by lower-cased name.


def _user_table(store) -> dict:
    return store.data.setdefault(USERS, {})


def ensure_user(store, name: str, mfa: bool = False) -> dict:
    """The user called `name`, created with a fresh object id and password the first time (kept afterwards)."""
    table = _user_table(store)
    record = table.get(name.lower())
    if record is None:
        record = {"name": name, "object_id": str(uuid.uuid4()), "password": secrets.token_urlsafe(24), "mfa": mfa}
        store.record_secret(record["password"], f"password of user {name}")
        table[name.lower()] = record
        store.touch()
    return record


def find_user(store, name: str) -> dict | None:
    return _user_table(store).get(name.lower())


def find_user_by_object_id(store, object_id: str) -> dict | None:
    return next((u for u in _user_table(store).values() if u["object_id"].lower() == object_id.lower()), None)


def as_principal(user: dict, client_id: str = "") -> rbac.Principal:
    """A user as the security principal role assignments and ARM's checks work with (by object id)."""
    return rbac.Principal(user["name"], client_id, user["object_id"], "")


def _aad_error(status: int, error: str, code: int, description: str) -> web.Response:
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    return json_response(
        {
            "error": error,
            "error_description": f"AADSTS{code}: {description}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}"
            f"\r\nTimestamp: {iso()[:19]}Z",
            "error_codes": [code],
            "timestamp": iso()[:19] + "Z",
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"/error?code={code}",
        },
        status,
    )


def _unknown_tenant(tenant: str) -> web.Response:
    return _aad_error(
        400,
        "invalid_tenant",
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the "
        "correct cloud.",
    )


def _known_tenant(ctx, tenant: str) -> bool:
    return tenant.lower() in (ctx.store.tenant_id.lower(), ctx.tenant_domain.lower())


def openid_configuration(ctx, tenant_id: str, v2: bool, issuer_tenant: str | None = None) -> dict:
    """`issuer_tenant`: `{tenantid}` for /organizations, whose issuer Entra leaves as a template."""
    login = ctx.login_url
    suffix = "/v2.0" if v2 else ""
    oauth = f"{login}/{tenant_id}/oauth2{suffix}"
    issuer_tenant = issuer_tenant or tenant_id
    return {
        "token_endpoint": f"{oauth}/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{login}/{tenant_id}/discovery{suffix}/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{login}/{issuer_tenant}{suffix}" if v2 else tokens.issuer(login, issuer_tenant),
        "request_uri_parameter_supported": False,
        "authorization_endpoint": f"{oauth}/authorize",
        "device_authorization_endpoint": f"{oauth}/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{oauth}/logout",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "tid", "ver", "oid"],
        "tenant_region_scope": None,
        "cloud_instance_name": ctx.cloud_name,
        "cloud_graph_host_name": None,
        "msgraph_host": None,
        "rbac_url": ctx.base_url,
    }


async def get_openid_configuration(req: ArmRequest) -> web.Response:
    tenant = req.params["tenant"]
    v2 = "/v2.0/" in req.request.path.lower()
    if tenant.lower() == ORGANIZATIONS:
        return json_response(openid_configuration(req.ctx, ORGANIZATIONS, v2, issuer_tenant="{tenantid}"))
    if not _known_tenant(req.ctx, tenant):
        return _unknown_tenant(tenant)
    return json_response(openid_configuration(req.ctx, req.ctx.store.tenant_id, v2))


async def get_keys(req: ArmRequest) -> web.Response:
    return json_response(req.ctx.pki.jwks())


async def get_instance_discovery(req: ArmRequest) -> web.Response:
    tenant = req.ctx.store.tenant_id
    host = req.ctx.login_url.split("://", 1)[1]
    return json_response(
        {
            "tenant_discovery_endpoint": f"{req.ctx.login_url}/{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
        }
    )


async def get_user_realm(req: ArmRequest) -> web.Response:
    """Home realm discovery: `Managed` for a domain of this directory (password checked by Entra itself)."""
    ctx = req.ctx
    domain = req.params["username"].rsplit("@", 1)[-1].lower()
    domains = {ctx.tenant_domain.lower()} | {
        u["name"].rsplit("@", 1)[-1].lower() for u in _user_table(ctx.store).values()
    }
    body = {"ver": "1.0", "account_type": "Managed" if domain in domains else "Unknown", "domain_name": domain}
    body.update(
        cloud_instance_name=ctx.login_url.split("://", 1)[1], cloud_audience_urn="urn:federation:MicrosoftOnline"
    )
    return json_response(body)


def _resource_of(form, v2: bool, delegated: bool = False) -> tuple[str | None, web.Response | None]:
    if not v2:
        resource = form.get("resource")
        if not resource:
            return None, _aad_error(
                400, "invalid_request", 900144, "The request body must contain the following parameter: 'resource'."
            )
        return resource, None
    scopes = [s for s in (form.get("scope") or "").split() if s not in _OIDC_SCOPES]
    if not scopes:
        return None, _aad_error(
            400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'."
        )
    scope = scopes[0]
    if delegated and not scope.endswith("/.default") and "/" in scope.split("://", 1)[-1]:
        # A delegated permission such as https://management.azure.com/user_impersonation.
        return scope.rsplit("/", 1)[0], None
    if not scope.endswith("/.default"):
        return None, _aad_error(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential flows must have a scope value "
            "with /.default suffixed to the resource identifier (application ID URI).",
        )
    return scope[: -len("/.default")], None


def _unknown_client(ctx, client_id) -> web.Response:
    return _aad_error(
        400,
        "unauthorized_client",
        700016,
        f"Application with identifier '{client_id}' was not found in the directory '{ctx.tenant_domain}'. This "
        "can happen if the application has not been installed by the administrator of the tenant or consented "
        "to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
    )


def _unknown_resource(ctx, resource) -> web.Response | None:
    known = {a.rstrip("/").lower() for a in ctx.token_audiences}
    if resource.rstrip("/").lower() in known:
        return None
    return _aad_error(
        400,
        "invalid_resource",
        500011,
        f"The resource principal named {resource} was not found in the tenant named {ctx.tenant_domain}. This "
        "can happen if the application has not been installed by the administrator of the tenant or consented "
        "to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
    )


async def post_token(req: ArmRequest) -> web.Response:
    ctx = req.ctx
    tenant = req.params["tenant"]
    form = await req.request.post()
    v2 = "/v2.0/" in req.request.path.lower()
    grant = form.get("grant_type")
    if grant == GRANT_PASSWORD:
        return _password_grant(ctx, tenant, form, v2)
    if not _known_tenant(ctx, tenant):
        return _unknown_tenant(tenant)
    client_id, secret = form.get("client_id"), form.get("client_secret")
    authorization = req.request.headers.get("Authorization", "")
    if authorization.lower().startswith("basic "):
        try:
            basic = BasicAuth.decode(authorization)
        except ValueError:
            basic = None
        if basic is not None:
            client_id, secret = basic.login, basic.password
    if grant != GRANT_CLIENT_CREDENTIALS:
        return _aad_error(
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant}'. The sandbox issues client-credentials and "
            "password tokens only.",
        )
    principal = rbac.find_by_client_id(ctx.store, client_id or "")
    if principal is None:
        return _unknown_client(ctx, client_id)
    if not secret or secret != principal.secret:
        return _aad_error(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "
            f"not the client secret ID, for a secret added to app '{principal.client_id}'.",
        )
    resource, error = _resource_of(form, v2)
    if error is not None:
        return error
    error = _unknown_resource(ctx, resource)
    if error is not None:
        return error
    lifetime = int(ctx.store.settings["token_lifetime_seconds"])
    claims = tokens.app_token_claims(principal, ctx.store.tenant_id, ctx.login_url, resource, lifetime)
    body = {
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": tokens.mint(ctx.pki, claims),
    }
    ctx.store.record_secret(body["access_token"], f"access token of principal {principal.name} for {resource}")
    if not v2:
        body.update(expires_on=str(claims["exp"]), not_before=str(claims["nbf"]), resource=resource)
    return json_response(body)


def _password_grant(ctx, tenant: str, form, v2: bool) -> web.Response:
    """The resource owner password credentials grant, in Entra's order of checks (see the module notes)."""
    if tenant.lower() in ("common", "consumers"):
        return _aad_error(
            400,
            "invalid_request",
            9001023,
            "The grant type isn't supported over the /common or /consumers endpoints. Please use the "
            "/organizations or tenant-specific endpoint.",
        )
    if tenant.lower() != ORGANIZATIONS and not _known_tenant(ctx, tenant):
        return _unknown_tenant(tenant)
    client_id = form.get("client_id") or ""
    if client_id not in PUBLIC_CLIENTS:
        return _unknown_client(ctx, client_id)
    for name in ("username", "password"):
        if not form.get(name):
            return _aad_error(
                400, "invalid_request", 900144, f"The request body must contain the following parameter: '{name}'."
            )
    username = form["username"]
    user = find_user(ctx.store, username)
    if user is None:
        return _aad_error(
            400,
            "invalid_grant",
            50034,
            f"The user account {username} does not exist in the {ctx.store.tenant_id} directory. To sign into "
            "this application, the account must be added to the directory.",
        )
    if form["password"] != user["password"]:
        return _aad_error(
            400, "invalid_grant", 50126, "Error validating credentials due to invalid username or password."
        )
    resource, error = _resource_of(form, v2, delegated=True)
    if error is None:
        error = _unknown_resource(ctx, resource)
    if error is not None:
        return error
    if user.get("mfa"):
        return _aad_error(
            400,
            "invalid_grant",
            50076,
            "Due to a configuration change made by your administrator, or because you moved to a new location, you "
            f"must use multi-factor authentication to access '{resource}'.",
        )
    tenant_id, lifetime = ctx.store.tenant_id, int(ctx.store.settings["token_lifetime_seconds"])
    claims = tokens.user_token_claims(user, tenant_id, ctx.login_url, resource, lifetime, client_id)
    asked = [s for s in (form.get("scope") or "").split() if s not in _OIDC_SCOPES]
    body = {
        "token_type": "Bearer",
        "scope": " ".join(asked) or resource,
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": tokens.mint(ctx.pki, claims),
        "client_info": tokens.client_info(user, tenant_id),
        "id_token": tokens.mint(ctx.pki, tokens.id_token_claims(user, tenant_id, ctx.login_url, client_id, lifetime)),
    }
    ctx.store.record_secret(body["access_token"], f"access token of user {user['name']} for {resource}")
    if not v2:
        body.update(expires_on=str(claims["exp"]), not_before=str(claims["nbf"]), resource=resource)
    return json_response(body)


def register(router: Router) -> None:
    anonymous = {"auth": "none", "api_versions": "skip"}
    router.add("GET", "/common/discovery/instance", get_instance_discovery, **anonymous)
    router.add("GET", "/common/discovery/keys", get_keys, **anonymous)
    router.add("GET", "/common/userrealm/{username}", get_user_realm, **anonymous)
    router.add("GET", "/common/discovery/v2.0/keys", get_keys, **anonymous)
    router.add("GET", "/{tenant}/v2.0/.well-known/openid-configuration", get_openid_configuration, **anonymous)
    router.add("GET", "/{tenant}/.well-known/openid-configuration", get_openid_configuration, **anonymous)
    router.add("GET", "/{tenant}/discovery/v2.0/keys", get_keys, **anonymous)
    router.add("GET", "/{tenant}/discovery/keys", get_keys, **anonymous)
    router.add("POST", "/{tenant}/oauth2/v2.0/token", post_token, **anonymous)
    router.add("POST", "/{tenant}/oauth2/token", post_token, **anonymous)


def authenticate(ctx, request: web.Request, audiences: list) -> rbac.Principal:
    """The principal behind a request's bearer token, or the 401 ARM would answer with."""
    challenge = (
        f'Bearer authorization_uri="{ctx.login_url}/{ctx.store.tenant_id}", error="invalid_token", '
        "error_description=\"The authentication failed because of missing 'Authorization' header.\""
    )
    header = request.headers.get("Authorization")
    if not header:
        raise ArmError(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
            headers={"WWW-Authenticate": challenge},
        )
    scheme, _space, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ArmError(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is provided in an invalid format.",
            headers={"WWW-Authenticate": challenge.replace("missing", "invalid")},
        )
    claims = tokens.validate(ctx.pki, token.strip(), audiences, ctx.store.tenant_id, ctx.login_url)
    object_id = str(claims.get("oid", ""))
    principal = rbac.find_by_object_id(ctx.store, object_id)
    if principal is None:
        user = find_user_by_object_id(ctx.store, object_id)
        principal = as_principal(user, str(claims.get("appid", ""))) if user else None
    if principal is None:
        raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.")
    return principal
