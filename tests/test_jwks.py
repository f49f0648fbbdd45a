"""RS256/ES256 tokens from an OpenID Connect provider, verified against its JWKS served by a
local HTTP server: keys cached, fetched again on an unknown kid, issuer and audience checked."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from server.errors import Unauthorized, Unavailable
from server.jwks import JwksKeys
from server.settings import Settings
from tests.conftest import auth

ISSUER = "https://id.news.example/"
AUDIENCE = "baraza"


class Provider:
    """Signing keys and the JWKS document listing their public halves."""

    def __init__(self) -> None:
        self.private: dict[str, tuple[str, Any]] = {}
        self.published: list[str] = []
        self.requests = 0

    def add(self, kid: str, alg: str, *, publish: bool = True) -> None:
        if alg == "RS256":
            key: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
        self.private[kid] = (alg, key)
        if publish:
            self.published.append(kid)

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid in self.published:
            alg, key = self.private[kid]
            algorithm = RSAAlgorithm if alg == "RS256" else ECAlgorithm
            jwk = algorithm.to_jwk(key.public_key(), as_dict=True)
            keys.append({**jwk, "kid": kid, "alg": alg, "use": "sig"})
        return {"keys": keys}

    def token(self, kid: str, *, iss: str = ISSUER, aud: str = AUDIENCE, sub: str = "oidc-reader",
              ttl: int = 600, alg: str | None = None, **extra: Any) -> str:
        key_alg, key = self.private[kid]
        now = int(time.time())
        claims = {"sub": sub, "name": "Oidc Reader", "iss": iss, "aud": aud, "iat": now,
                  "exp": now + ttl, **extra}
        return jwt.encode(claims, key, algorithm=alg or key_alg, headers={"kid": kid})


@pytest.fixture
def provider() -> Provider:
    provider = Provider()
    provider.add("rsa-1", "RS256")
    provider.add("ec-1", "ES256")
    return provider


@pytest.fixture
async def jwks_url(aiohttp_server: Any, provider: Provider) -> str:
    async def serve(request: web.Request) -> web.Response:
        provider.requests += 1
        return web.json_response(provider.jwks())

    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", serve)
    server = await aiohttp_server(app)
    return str(server.make_url("/.well-known/jwks.json"))


@pytest.fixture
async def oidc_client(make_client: Any, make_settings: Any, jwks_url: str) -> Any:
    settings = make_settings(jwt_jwks_url=jwks_url, jwt_issuer=ISSUER, jwt_audience=AUDIENCE,
                             jwt_jwks_refresh_seconds=0)
    return await make_client(settings)


async def _post(client: Any, token: str) -> Any:
    return await client.post("/api/v1/articles/oidc-story/comments", json={"body": "Hello."},
                             headers=auth(token))


@pytest.mark.parametrize("kid", ["rsa-1", "ec-1"])
async def test_provider_tokens_are_accepted(oidc_client: Any, provider: Provider, kid: str):
    r = await _post(oidc_client, provider.token(kid))
    assert r.status == 202, await r.text()
    assert (await r.json())["author"]["id"] == "oidc-reader"


async def test_keys_are_cached(oidc_client: Any, provider: Provider):
    for _ in range(3):
        assert (await _post(oidc_client, provider.token("rsa-1"))).status == 202
    assert provider.requests == 1


@pytest.mark.parametrize(
    ("claims", "problem"),
    [({"iss": "https://elsewhere.example/"}, "issuer"), ({"aud": "another-app"}, "audience"),
     ({"ttl": -3600}, "expired")],
)
async def test_issuer_audience_and_expiry_are_checked(
    oidc_client: Any, provider: Provider, claims: dict[str, Any], problem: str
):
    r = await _post(oidc_client, provider.token("rsa-1", **claims))
    assert r.status == 401
    assert problem in (await r.json())["error"]["message"].lower()


async def test_an_unknown_kid_fetches_the_rotated_keys(oidc_client: Any, provider: Provider):
    assert (await _post(oidc_client, provider.token("rsa-1"))).status == 202
    provider.add("rsa-2", "RS256")  # the provider rotates
    r = await _post(oidc_client, provider.token("rsa-2"))
    assert r.status == 202, await r.text()
    assert provider.requests == 2


async def test_unpublished_and_mismatched_keys_are_refused(oidc_client: Any, provider: Provider):
    provider.add("rogue", "RS256", publish=False)
    r = await _post(oidc_client, provider.token("rogue"))
    assert r.status == 401
    assert "does not publish" in (await r.json())["error"]["message"]
    # A token signed by another key under a published kid.
    forged = jwt.encode({"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "exp": time.time() + 60},
                        provider.private["rogue"][1], algorithm="RS256",
                        headers={"kid": "rsa-1"})
    assert (await _post(oidc_client, forged)).status == 401
    # An ES256 header on an RSA key.
    r = await _post(oidc_client, provider.token("rsa-1", alg="PS256"))
    assert r.status == 401


async def test_algorithm_confusion_and_none_are_refused(oidc_client: Any, provider: Provider):
    from cryptography.hazmat.primitives import serialization

    public_pem = provider.private["rsa-1"][1].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 60}
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","kid":"rsa-1","typ":"JWT"}').decode()
    body = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(claims).encode()).decode()
    import hashlib
    import hmac

    signature = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    confused = f"{header}.{body}.{jwt.utils.base64url_encode(signature).decode()}"
    assert (await _post(oidc_client, confused)).status == 401
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert (await _post(oidc_client, unsigned)).status == 401


async def test_the_shared_secret_still_works(oidc_client: Any, make_settings: Any):
    from server.auth import mint_token

    settings = make_settings(jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    token = mint_token(settings, sub="hs-reader", name="Hs")
    assert (await _post(oidc_client, token)).status == 202


async def test_the_live_auth_op_takes_provider_tokens(oidc_client: Any, provider: Provider):
    ws = await oidc_client.ws_connect("/api/v1/live")
    await ws.send_json({"op": "auth", "token": provider.token("ec-1")})
    assert await ws.receive_json() == {"op": "authenticated", "user": "oidc-reader", "roles": []}
    await ws.close()


async def test_unreachable_provider(make_client: Any, make_settings: Any, provider: Provider):
    from tests.live.conftest import free_port

    settings = make_settings(jwt_jwks_url=f"http://127.0.0.1:{free_port()}/jwks",
                             jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    client = await make_client(settings)
    r = await _post(client, provider.token("rsa-1"))
    assert r.status == 503
    assert (await r.json())["error"]["code"] == "jwks_unavailable"


async def test_cache_expiry_and_refresh_interval_follow_the_clock(
    jwks_url: str, provider: Provider
):
    now = [1000.0]
    keys = JwksKeys(jwks_url, cache_seconds=300, refresh_seconds=30, clock=lambda: now[0])
    assert (await keys.get("rsa-1")).key_id == "rsa-1"
    assert keys.fetches == 1
    # Unknown kids within the refresh interval do not reach the provider.
    for kid in ("made-up-1", "made-up-2"):
        with pytest.raises(Unauthorized):
            await keys.get(kid)
    assert keys.fetches == 1
    now[0] += 31
    provider.add("rsa-2", "RS256")
    assert (await keys.get("rsa-2")).key_id == "rsa-2"
    assert keys.fetches == 2
    await keys.get("rsa-1")
    assert keys.fetches == 2  # cached
    now[0] += 301
    await keys.get("rsa-1")
    assert keys.fetches == 3  # expired: fetched again


async def test_known_keys_survive_a_provider_outage(provider: Provider, aiohttp_server: Any):
    up = [True]

    async def serve(request: web.Request) -> web.Response:
        if not up[0]:
            raise web.HTTPServiceUnavailable()
        return web.json_response(provider.jwks())

    app = web.Application()
    app.router.add_get("/jwks", serve)
    server = await aiohttp_server(app)
    now = [0.0]
    keys = JwksKeys(str(server.make_url("/jwks")), cache_seconds=10, refresh_seconds=0,
                    clock=lambda: now[0])
    await keys.get("rsa-1")
    up[0] = False
    now[0] += 11
    assert (await keys.get("rsa-1")).key_id == "rsa-1"
    with pytest.raises(Unauthorized):
        await keys.get("unknown")
    fresh = JwksKeys(str(server.make_url("/jwks")), cache_seconds=10, refresh_seconds=0)
    with pytest.raises(Unavailable):
        await fresh.get("rsa-1")


def test_a_jwks_url_needs_issuer_and_audience() -> None:
    with pytest.raises(ValueError, match="BARAZA_JWT_ISSUER and BARAZA_JWT_AUDIENCE"):
        Settings(jwt_jwks_url="https://id.example/jwks")
