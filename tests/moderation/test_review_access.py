"""Permission matrix of every review route, and what readers can never see."""

from __future__ import annotations

from typing import Any

import pytest

from server.comments.models import CommentStatus
from tests.conftest import auth
from tests.factories import make_comment, make_user
from tests.moderation.review_support import machine_decide

M = "/api/v1/moderation"
# (method, path, json body, least role). Paths use ids made by the fixture below.
ROUTES: list[tuple[str, str, Any, str]] = [
    ("GET", f"{M}/queues", None, "moderator"),
    ("GET", f"{M}/queues/held", None, "moderator"),
    ("POST", f"{M}/decisions", {"comment_ids": [1], "action": "approve"}, "moderator"),
    ("POST", f"{M}/reevaluate", {"statuses": ["held"]}, "moderator"),
    ("GET", f"{M}/comments/1", None, "moderator"),
    ("GET", f"{M}/comments/1/history", None, "moderator"),
    ("GET", f"{M}/users/amina", None, "moderator"),
    ("GET", f"{M}/users/amina/history", None, "moderator"),
    ("POST", f"{M}/users/amina/status", {"status": "premod", "reason": "x"}, "moderator"),
    ("GET", f"{M}/policy", None, "admin"),
    ("PUT", f"{M}/policy", {"report_hold_count": 4}, "admin"),
    ("GET", f"{M}/wordlists/banned", None, "admin"),
    ("PUT", f"{M}/wordlists/suspect", {"words": ["scum"]}, "admin"),
    ("PUT", "/api/v1/articles/a1", {"moderation": "pre"}, "editor"),
    ("GET", f"{M}/deadletters", None, "moderator"),
    ("POST", f"{M}/deadletters/replay", {"comment_ids": [1]}, "moderator"),
    ("POST", f"{M}/policy/preview", {}, "admin"),
    ("POST", f"{M}/policy/apply", {}, "admin"),
    ("POST", f"{M}/wordlists/test", {"text": "x"}, "admin"),
]
ROLES = {"reader": [], "editor": ["editor"], "moderator": ["moderator"], "admin": ["admin"]}
ALLOWED = {
    "moderator": {"moderator", "admin"},
    "admin": {"admin"},
    # Article settings: editors, and moderators (who switch a heated story to pre-moderation).
    "editor": {"editor", "moderator", "admin"},
}


@pytest.fixture
async def comment_one(sessionmaker):
    await make_user(sessionmaker, "amina")
    return await make_comment(sessionmaker, author="amina", status=CommentStatus.held)


async def _call(client, method, path, body, headers):
    return await client.request(method, path, json=body, headers=headers)


def _route_id(route: tuple[str, str, Any, str]) -> str:
    return f"{route[0]} {route[1]}"


@pytest.mark.parametrize("route", ROUTES, ids=_route_id)
async def test_permission_matrix(client, token, comment_one, route):
    method, path, body, least = route
    r = await _call(client, method, path, body, {})
    assert r.status == 401 and (await r.json())["error"]["code"] == "unauthenticated"
    r = await _call(client, method, path, body, {"Authorization": "Bearer not.a.jwt"})
    assert r.status == 401 and (await r.json())["error"]["code"] == "invalid_token"
    expired = token("mod-x", roles=["admin"], ttl=-3600)
    r = await _call(client, method, path, body, auth(expired))
    assert r.status == 401
    for role, claims in ROLES.items():
        r = await _call(client, method, path, body, auth(token(f"{role}-1", roles=claims)))
        if role in ALLOWED[least]:
            assert r.status == 200, (role, await r.text())
        else:
            assert r.status == 403, role
            assert (await r.json())["error"]["code"] == "missing_role"


def test_matrix_covers_every_review_route(make_settings):
    from server.app import create_app

    app = create_app(make_settings())
    listed = {(m, p) for m, p, _b, _r in ROUTES}
    canonical = {
        ("GET", f"{M}/queues/{{queue}}"),
        ("GET", f"{M}/comments/{{comment_id}}"),
        ("GET", f"{M}/comments/{{comment_id}}/history"),
        ("GET", f"{M}/users/{{user_id}}"),
        ("GET", f"{M}/users/{{user_id}}/history"),
        ("POST", f"{M}/users/{{user_id}}/status"),
        ("GET", f"{M}/wordlists/{{kind}}"),
        ("PUT", f"{M}/wordlists/{{kind}}"),
        # Console tools (tests/moderation/test_dead_letters.py checks the 404 of a non-letter).
        ("GET", f"{M}/deadletters/{{comment_id}}"),
        ("POST", f"{M}/deadletters/replay"),
        ("POST", f"{M}/policy/preview"),
        ("POST", f"{M}/policy/apply"),
        ("POST", f"{M}/wordlists/test"),
    }
    concrete = {(m, p) for m, p in listed if "/" not in p.removeprefix(M + "/")}
    routes = {
        (r.method, r.resource.canonical)
        for r in app.router.routes()
        if r.resource is not None and r.resource.canonical.startswith(M)
        and r.method not in ("HEAD", "OPTIONS")  # OPTIONS: server.cors's preflights
    }
    assert routes == canonical | concrete


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"{M}/comments/424242", None),
        ("GET", f"{M}/comments/424242/history", None),
        ("GET", f"{M}/users/ghost", None),
        ("GET", f"{M}/users/ghost/history", None),
        ("POST", f"{M}/users/ghost/status", {"status": "banned", "reason": "x"}),
        ("GET", f"{M}/queues/everything", None),
        ("GET", f"{M}/wordlists/naughty", None),
        ("PUT", f"{M}/wordlists/naughty", {"words": []}),
    ],
)
async def test_unknown_ids_are_404(client, token, method, path, body):
    r = await client.request(method, path, json=body, headers=auth(token("boss", roles=["admin"])))
    assert r.status == 404


@pytest.mark.parametrize("raw", ["0", "-1", "abc", "1e3", "9" * 19])
async def test_malformed_comment_ids_are_400(client, token, raw):
    r = await client.get(f"{M}/comments/{raw}", headers=auth(token("m", roles=["moderator"])))
    assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_id"


async def test_readers_never_see_others_held_or_rejected_comments_or_scores(
    client, token, sessionmaker
):
    held = await make_comment(sessionmaker, author="amina", status=CommentStatus.pending)
    await machine_decide(sessionmaker, held, CommentStatus.held, risk=0.9)
    rejected = await make_comment(sessionmaker, author="amina", status=CommentStatus.rejected)
    published = await make_comment(sessionmaker, author="amina", status=CommentStatus.pending)
    await machine_decide(sessionmaker, published, CommentStatus.approved, risk=0.1)
    for viewer in ({}, auth(token("omar"))):
        r = await client.get("/api/v1/articles/article-1/comments", headers=viewer)
        page = await r.json()
        ids = [c["id"] for c in page["items"]] + [c["id"] for c in page["awaiting_review"]]
        assert ids == [published]
        text = await r.text()
        assert "risk" not in text and "scores" not in text and "decision_reason" not in text
        for hidden in (held, rejected):
            r = await client.get(f"/api/v1/comments/{hidden}/replies", headers=viewer)
            assert r.status == 404
    # The author sees their own held comment as awaiting review, without scores.
    r = await client.get("/api/v1/articles/article-1/comments", headers=auth(token("amina")))
    page = await r.json()
    assert [c["id"] for c in page["awaiting_review"]] == [held]
    assert "scores" not in await r.text()
