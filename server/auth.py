"""Host-site JWTs: decoding, the per-request principal, and role checks declared per route."""

from __future__ import annotations

import enum
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jwt
from aiohttp import web

from server.errors import Forbidden, Unauthorized
from server.jwks import JwksKeys
from server.settings import Settings
from server.typedefs import PRINCIPAL, TOKENS


class Role(enum.StrEnum):
    moderator = "moderator"
    editor = "editor"
    admin = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the host site's user id, display name and roles."""

    sub: str
    name: str
    roles: frozenset[Role]

    def has(self, role: Role) -> bool:
        # An admin may do anything a moderator or editor may.
        return role in self.roles or Role.admin in self.roles


def decode_token(token: str, settings: Settings) -> Principal:
    """Verify an HS256 token from the host site; raise Unauthorized with the reason."""
    return _verified(token, settings.jwt_secret, ["HS256"], settings)


# Asymmetric algorithms accepted from an OpenID Connect provider's keys (BARAZA_JWT_JWKS_URL).
PROVIDER_ALGORITHMS = ("RS256", "ES256")


class TokenVerifier:
    """Host-site tokens: HS256 with the shared secret; RS256/ES256 against the provider's JWKS.

    The header's ``alg`` picks the path; each path accepts only its own algorithms and key, so
    a token cannot choose to be checked against the wrong key (algorithm confusion).
    """

    def __init__(self, settings: Settings, keys: JwksKeys | None = None) -> None:
        self._settings = settings
        self._keys = keys

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"invalid token: {exc}", code="invalid_token") from exc
        alg = header.get("alg")
        if alg == "HS256":
            return decode_token(token, self._settings)
        if alg not in PROVIDER_ALGORITHMS or self._keys is None:
            raise Unauthorized(f"tokens signed with {alg!r} are not accepted",
                               code="invalid_token")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("token header has no 'kid'", code="invalid_token")
        key = await self._keys.get(kid)
        if key.algorithm_name != alg:
            raise Unauthorized(f"key {kid!r} is not a {alg} key", code="invalid_token")
        return _verified(token, key, [alg], self._settings)


def _verified(token: str, key: Any, algorithms: list[str], settings: Settings) -> Principal:
    required = ["sub", "exp"]
    if settings.jwt_issuer:
        required.append("iss")
    if settings.jwt_audience:
        required.append("aud")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            leeway=settings.jwt_leeway_seconds,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": required, "verify_aud": settings.jwt_audience is not None},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token has expired", code="token_expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(f"invalid token: {exc}", code="invalid_token") from exc
    return _principal(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not 0 < len(sub) <= 128:
        raise Unauthorized("token 'sub' must be a string of 1-128 characters", code="invalid_token")
    name = claims.get("name", sub)
    if not isinstance(name, str) or not name.strip():
        raise Unauthorized("token 'name' must be a non-empty string", code="invalid_token")
    raw_roles = claims.get("roles", [])
    if not isinstance(raw_roles, list):
        raise Unauthorized("token 'roles' must be a list", code="invalid_token")
    roles = frozenset(Role(r) for r in raw_roles if r in Role.__members__)
    return Principal(sub=sub, name=name.strip()[:200], roles=roles)


def token_verifier(settings: Settings) -> TokenVerifier:
    """The verifier ``create_app`` installs: with provider keys when a JWKS URL is set."""
    keys = None
    if settings.jwt_jwks_url:
        keys = JwksKeys(settings.jwt_jwks_url, cache_seconds=settings.jwt_jwks_cache_seconds,
                        refresh_seconds=settings.jwt_jwks_refresh_seconds)
    return TokenVerifier(settings, keys)


def mint_token(
    settings: Settings,
    *,
    sub: str,
    name: str,
    roles: list[str] | None = None,
    ttl_seconds: int = 24 * 3600,
) -> str:
    """A token as the host site would sign it (for ``baraza token``, tests and benchmarks)."""
    now = int(time.time())
    claims = {"sub": sub, "name": name, "roles": roles or [], "iat": now, "exp": now + ttl_seconds}
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'", code="invalid_token")
    return token.strip()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Decode a bearer token when one is sent; routes decide whether they need one."""
    token = bearer_token(request)
    request[PRINCIPAL] = None if token is None else await request.app[TOKENS].verify(token)
    return await handler(request)


def current_principal(request: web.Request) -> Principal | None:
    principal: Principal | None = request.get(PRINCIPAL)
    return principal


def require_principal(request: web.Request) -> Principal:
    principal: Principal | None = request.get(PRINCIPAL)
    if principal is None:
        raise Unauthorized("this action needs a signed-in user", code="unauthenticated")
    return principal


def requires(*roles: Role) -> Callable[[Handler], Handler]:
    """Declare on a route that it needs a signed-in user holding any of ``roles`` (or none)."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            principal = require_principal(request)
            if roles and not any(principal.has(role) for role in roles):
                wanted = " or ".join(roles)
                raise Forbidden(f"this action needs the {wanted} role", code="missing_role")
            return await handler(request)

        wrapper.__dict__["required_roles"] = tuple(roles)
        return wrapper

    return decorate


authenticated = requires()
