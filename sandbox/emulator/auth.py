"""The Entra ID stand-in (OIDC discovery, client-credentials tokens) and ARM's bearer-token check.

The login endpoint shares the emulator's origin: MSAL builds every URL from
`{authority_host}/{tenant}`, and no ARM path starts with a tenant id.

MSAL performs "instance discovery" against the public cloud for any authority
host it does not know, so clients of the sandbox (like those of Azure Stack or
any private cloud) pass `disable_instance_discovery=True` to azure-identity.
`/common/discovery/instance` is served anyway for MSAL clients configured with
this emulator as their instance-discovery endpoint.
"""

from __future__ import annotations

import uuid

from aiohttp import BasicAuth, web

from . import rbac, tokens
from .arm import ArmError, ArmRequest, Router, json_response
from .clock import iso

GRANT_CLIENT_CREDENTIALS = "client_credentials"


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


def openid_configuration(ctx, tenant_id: str, v2: bool) -> dict:
    login = ctx.login_url
    suffix = "/v2.0" if v2 else ""
    oauth = f"{login}/{tenant_id}/oauth2{suffix}"
    return {
        "token_endpoint": f"{oauth}/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{login}/{tenant_id}/discovery{suffix}/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{login}/{tenant_id}{suffix}" if v2 else tokens.issuer(login, tenant_id),
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
    if not _known_tenant(req.ctx, tenant):
        return _unknown_tenant(tenant)
    v2 = "/v2.0/" in req.request.path.lower()
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


def _resource_of(form, v2: bool) -> tuple[str | None, web.Response | None]:
    if not v2:
        resource = form.get("resource")
        if not resource:
            return None, _aad_error(
                400, "invalid_request", 900144, "The request body must contain the following parameter: 'resource'."
            )
        return resource, None
    scopes = [s for s in (form.get("scope") or "").split() if s not in ("openid", "profile", "offline_access")]
    if not scopes:
        return None, _aad_error(
            400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'."
        )
    scope = scopes[0]
    if not scope.endswith("/.default"):
        return None, _aad_error(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential flows must have a scope value "
            "with /.default suffixed to the resource identifier (application ID URI).",
        )
    return scope[: -len("/.default")], None


async def post_token(req: ArmRequest) -> web.Response:
    ctx = req.ctx
    tenant = req.params["tenant"]
    if not _known_tenant(ctx, tenant):
        return _unknown_tenant(tenant)
    form = await req.request.post()
    client_id, secret = form.get("client_id"), form.get("client_secret")
    authorization = req.request.headers.get("Authorization", "")
    if authorization.lower().startswith("basic "):
        try:
            basic = BasicAuth.decode(authorization)
        except ValueError:
            basic = None
        if basic is not None:
            client_id, secret = basic.login, basic.password
    grant = form.get("grant_type")
    if grant != GRANT_CLIENT_CREDENTIALS:
        return _aad_error(
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant}'. The sandbox issues client-credentials tokens "
            "only.",
        )
    principal = rbac.find_by_client_id(ctx.store, client_id or "")
    if principal is None:
        return _aad_error(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory '{ctx.tenant_domain}'. This "
            "can happen if the application has not been installed by the administrator of the tenant or consented "
            "to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
        )
    if not secret or secret != principal.secret:
        return _aad_error(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "
            f"not the client secret ID, for a secret added to app '{principal.client_id}'.",
        )
    v2 = "/v2.0/" in req.request.path.lower()
    resource, error = _resource_of(form, v2)
    if error is not None:
        return error
    known = {a.rstrip("/").lower() for a in ctx.token_audiences}
    if resource.rstrip("/").lower() not in known:
        return _aad_error(
            400,
            "invalid_resource",
            500011,
            f"The resource principal named {resource} was not found in the tenant named {ctx.tenant_domain}. This "
            "can happen if the application has not been installed by the administrator of the tenant or consented "
            "to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
        )
    lifetime = int(ctx.store.settings["token_lifetime_seconds"])
    claims = tokens.app_token_claims(principal, ctx.store.tenant_id, ctx.login_url, resource, lifetime)
    body = {
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": tokens.mint(ctx.pki, claims),
    }
    if not v2:
        body.update(expires_on=str(claims["exp"]), not_before=str(claims["nbf"]), resource=resource)
    return json_response(body)


def register(router: Router) -> None:
    anonymous = {"auth": "none", "api_versions": "skip"}
    router.add("GET", "/common/discovery/instance", get_instance_discovery, **anonymous)
    router.add("GET", "/common/discovery/keys", get_keys, **anonymous)
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
    principal = rbac.find_by_object_id(ctx.store, str(claims.get("oid", "")))
    if principal is None:
        raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.")
    return principal
