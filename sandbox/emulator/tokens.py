"""Access tokens: RS256 JWTs shaped like Entra ID v1 app-only and user tokens, and ARM's checks on them."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timezone

import jwt

from .arm import ArmError
from .clock import now
from .pki import Pki
from .rbac import Principal

# ARM tolerates this much clock skew on nbf/exp.
CLOCK_SKEW_SECONDS = 300


def issuer(login_url: str, tenant_id: str) -> str:
    return f"{login_url.rstrip('/')}/{tenant_id}/"


def mint(pki: Pki, claims: dict, *, kid: str | None = None) -> str:
    headers = {"typ": "JWT", "kid": kid or pki.token_kid, "x5t": kid or pki.token_kid}
    return jwt.encode(claims, pki.token_key, algorithm="RS256", headers=headers)


def app_token_claims(principal: Principal, tenant_id: str, login_url: str, audience: str, lifetime: int) -> dict:
    issued = int(now())
    return {
        "aud": audience,
        "iss": issuer(login_url, tenant_id),
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
        "aio": str(uuid.uuid4()),
        "appid": principal.client_id,
        "appidacr": "1",
        "idp": issuer(login_url, tenant_id),
        "idtyp": "app",
        "oid": principal.object_id,
        "sub": principal.object_id,
        "tid": tenant_id,
        "uti": uuid.uuid4().hex[:22],
        "ver": "1.0",
    }


def user_token_claims(user, tenant_id: str, login_url: str, audience: str, lifetime: int, client_id: str) -> dict:
    """A v1 delegated token for `user` (a user record: name, object_id) issued to the public client `client_id`.

    `oid` is the user's object id, so ARM authorizes it by the user's role assignments, as it does a principal.
    """
    issued = int(now())
    return {
        "aud": audience,
        "iss": issuer(login_url, tenant_id),
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
        "acr": "1",
        "amr": ["pwd"],
        "appid": client_id,
        "appidacr": "0",
        "idtyp": "user",
        "name": user["name"].split("@")[0],
        "oid": user["object_id"],
        "scp": "user_impersonation",
        "sub": user["object_id"],
        "tid": tenant_id,
        "unique_name": user["name"],
        "upn": user["name"],
        "uti": uuid.uuid4().hex[:22],
        "ver": "1.0",
    }


def id_token_claims(user, tenant_id: str, login_url: str, client_id: str, lifetime: int) -> dict:
    """The v2 ID token that comes with a user's tokens when `openid` is asked for (MSAL always asks)."""
    issued = int(now())
    return {
        "aud": client_id,
        "iss": f"{login_url.rstrip('/')}/{tenant_id}/v2.0",
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
        "name": user["name"].split("@")[0],
        "oid": user["object_id"],
        "preferred_username": user["name"],
        "sub": user["object_id"],
        "tid": tenant_id,
        "ver": "2.0",
    }


def client_info(user, tenant_id: str) -> str:
    """Entra's `client_info`: base64url JSON of the user's object id and home tenant, for MSAL's account cache."""
    raw = json.dumps({"uid": user["object_id"], "utid": tenant_id}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _normalize(audience: str) -> str:
    return audience.rstrip("/").lower()


def _dotnet_time(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return f"{moment.month}/{moment.day}/{moment.year} {moment.strftime('%I:%M:%S %p').lstrip('0')}"


def _invalid(message: str = "The access token is invalid.") -> ArmError:
    return ArmError(401, "InvalidAuthenticationToken", message)


def validate(pki: Pki, token: str, audiences: list, tenant_id: str, login_url: str) -> dict:
    """Claims of a token ARM would accept, or the ArmError (401) ARM answers with."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _invalid() from None
    if header.get("alg") != "RS256":
        raise _invalid()
    if header.get("kid") != pki.token_kid:
        raise _invalid("The access token has invalid signature.")
    try:
        claims = jwt.decode(
            token,
            pki.token_key.public_key(),
            algorithms=["RS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
    except jwt.InvalidSignatureError:
        raise _invalid("The access token has invalid signature.") from None
    except jwt.PyJWTError:
        raise _invalid() from None

    current = now()
    expires = claims.get("exp")
    if not isinstance(expires, (int, float)):
        raise _invalid()
    if expires + CLOCK_SKEW_SECONDS < current:
        raise ArmError(
            401,
            "ExpiredAuthenticationToken",
            f"The access token expiry UTC time '{_dotnet_time(expires)}' is earlier than current UTC time "
            f"'{_dotnet_time(current)}'.",
        )
    not_before = claims.get("nbf")
    if isinstance(not_before, (int, float)) and not_before - CLOCK_SKEW_SECONDS > current:
        raise _invalid("The access token is not yet valid.")

    audience = str(claims.get("aud", ""))
    if _normalize(audience) not in {_normalize(a) for a in audiences}:
        allowed = ",".join(f"'{a}'" for a in audiences)
        raise ArmError(
            401,
            "InvalidAuthenticationTokenAudience",
            f"The access token has been obtained for wrong audience or resource '{audience}'. "
            f"It should exactly match with one of the allowed audiences {allowed}.",
        )

    if str(claims.get("tid", "")).lower() != tenant_id.lower():
        authority = f"{login_url.rstrip('/')}/{tenant_id}"
        raise ArmError(
            401,
            "InvalidAuthenticationTokenTenant",
            f"The access token is from the wrong issuer '{claims.get('iss')}'. It must match the tenant "
            f"'{issuer(login_url, tenant_id)}' associated with this subscription. Please use the authority (URL) "
            f"'{authority}' to get the token.",
        )
    return claims
