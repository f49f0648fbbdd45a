"""The console's page, its sign-in hand-off and the session check that refuses readers."""

from __future__ import annotations

import jwt
import pydantic
import pytest

from server.cli import main
from tests.conftest import JWT_SECRET, auth

SESSION = "/api/v1/console/session"


async def test_config_names_the_login_page(client, make_settings, make_client):
    r = await client.get("/api/v1/console/config")
    assert r.status == 200 and await r.json() == {"login_url": None}
    other = await make_client(make_settings(console_login_url="https://news.example/login?a=1"))
    r = await other.get("/api/v1/console/config")
    assert await r.json() == {"login_url": "https://news.example/login?a=1"}


def test_login_url_must_be_http(make_settings):
    with pytest.raises(pydantic.ValidationError):
        make_settings(console_login_url="javascript:alert(1)")


async def test_session_accepts_staff_and_refuses_readers(client, token):
    r = await client.get(SESSION, headers=auth(token("mod-1", name="Wanjiru", roles=["moderator"])))
    assert r.status == 200, await r.text()
    assert await r.json() == {"sub": "mod-1", "name": "Wanjiru", "roles": ["moderator"]}
    assert r.headers["Cache-Control"] == "private, no-store"
    r = await client.get(SESSION, headers=auth(token("ed-1", roles=["editor", "admin"])))
    assert (await r.json())["roles"] == ["editor", "admin"]
    r = await client.get(SESSION, headers=auth(token("reader-1")))
    assert r.status == 403 and (await r.json())["error"]["code"] == "missing_role"
    r = await client.get(SESSION)
    assert r.status == 401
    r = await client.get(SESSION, headers=auth(token("mod-1", roles=["moderator"], ttl=-100)))
    assert r.status == 401


def test_token_console_prints_a_ready_link(monkeypatch, capsys):
    monkeypatch.setenv("BARAZA_JWT_SECRET", JWT_SECRET)
    args = ["token", "--sub", "m1", "--name", "Wanjiru", "--role", "moderator", "--console"]
    assert main([*args, "--base-url", "https://baraza.example/"]) == 0
    link = capsys.readouterr().out.strip()
    prefix = "https://baraza.example/console/#token="
    assert link.startswith(prefix) and "?" not in link
    claims = jwt.decode(link.removeprefix(prefix), JWT_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "m1" and claims["roles"] == ["moderator"]
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("http://127.0.0.1:8080/console/#token=")
