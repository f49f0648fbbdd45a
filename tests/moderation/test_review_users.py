"""Users: the moderators' page, status changes, bans cascading, re-evaluation."""

from __future__ import annotations

import datetime as dt

from server.comments.models import CommentStatus
from tests.conftest import auth
from tests.factories import make_comment, make_user
from tests.moderation.review_support import audit_rows, mod, queue_ids, stored


def _status_url(user_id: str) -> str:
    return f"/api/v1/moderation/users/{user_id}/status"


async def test_user_page(client, token, sessionmaker):
    await make_comment(sessionmaker, author="amina")
    await make_comment(sessionmaker, author="amina", status=CommentStatus.rejected)
    await make_comment(sessionmaker, author="amina", status=CommentStatus.held)
    await make_comment(sessionmaker, author="amina", status=CommentStatus.pending)
    r = await client.get("/api/v1/moderation/users/amina", headers=mod(token))
    assert r.status == 200
    page = await r.json()
    assert page["id"] == "amina" and page["status"] == "active"
    assert (
        page["approved_count"],
        page["rejected_count"],
        page["held_count"],
        page["pending_count"],
    ) == (1, 1, 1, 1)
    assert [c["status"] for c in page["recent_comments"]] == [
        "pending",
        "held",
        "rejected",
        "approved",
    ]
    r = await client.get("/api/v1/moderation/users/nobody", headers=mod(token))
    assert r.status == 404 and (await r.json())["error"]["code"] == "user_not_found"


async def test_ban_rejects_pending_and_held_in_the_same_action(client, token, sessionmaker):
    published = await make_comment(sessionmaker, author="troll")
    held = await make_comment(sessionmaker, author="troll", status=CommentStatus.held)
    pending = await make_comment(sessionmaker, author="troll", status=CommentStatus.pending)
    other = await make_comment(sessionmaker, author="amina", status=CommentStatus.held)
    r = await client.post(
        _status_url("troll"),
        headers=mod(token),
        json={"status": "banned", "reason": "repeated abuse", "reject_comments": True},
    )
    assert r.status == 200, await r.text()
    body = await r.json()
    assert sorted(body["rejected_comment_ids"]) == sorted([held, pending])
    assert body["user"]["status"] == "banned" and body["user"]["rejected_count"] == 2
    assert body["user"]["status_reason"] == "repeated abuse"
    for cid in (held, pending):
        comment = await stored(sessionmaker, cid)
        assert comment.status == "rejected"
        last = (await audit_rows(sessionmaker, cid))[-1]
        assert (last.actor_id, last.action, last.after) == ("mod-1", "reject", "rejected")
        assert last.details is not None and last.details["cascade"] == "user.banned"
    assert (await stored(sessionmaker, published)).status == "approved"
    assert (await stored(sessionmaker, other)).status == "held"
    # The banned reader can no longer post.
    r = await client.post(
        "/api/v1/articles/a1/comments", json={"body": "again"}, headers=auth(token("troll"))
    )
    assert r.status == 403 and (await r.json())["error"]["code"] == "user_banned"
    history = await (
        await client.get("/api/v1/moderation/users/troll/history", headers=mod(token))
    ).json()
    assert history["items"][0]["action"] == "user.status"
    assert history["items"][0]["before"] == "active" and history["items"][0]["after"] == "banned"
    assert sorted(history["items"][0]["details"]["rejected_comment_ids"]) == sorted([held, pending])


async def test_ban_without_cascade_leaves_comments(client, token, sessionmaker):
    held = await make_comment(sessionmaker, author="troll", status=CommentStatus.held)
    r = await client.post(
        _status_url("troll"), headers=mod(token), json={"status": "banned", "reason": "abuse"}
    )
    assert r.status == 200 and (await r.json())["rejected_comment_ids"] == []
    assert held in await queue_ids(client, token, "held")


async def test_suspension_and_reinstatement(client, token, sessionmaker):
    await make_user(sessionmaker, "omar")
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    r = await client.post(
        _status_url("omar"),
        headers=mod(token),
        json={"status": "suspended", "until": until, "reason": "cool off"},
    )
    assert r.status == 200
    user = (await r.json())["user"]
    assert user["status"] == "suspended" and user["effective_status"] == "suspended"
    assert user["suspended_until"] is not None
    r = await client.post(
        _status_url("omar"), headers=mod(token), json={"status": "premod", "reason": "on probation"}
    )
    assert (await r.json())["user"]["suspended_until"] is None
    r = await client.post(
        _status_url("omar"),
        headers=mod(token),
        json={"status": "active", "reason": "appeal upheld"},
    )
    assert (await r.json())["user"]["status"] == "active"
    history = await (
        await client.get(
            "/api/v1/moderation/users/omar/history", params={"limit": "2"}, headers=mod(token)
        )
    ).json()
    assert [h["after"] for h in history["items"]] == ["active", "premod"]
    more = await (
        await client.get(
            "/api/v1/moderation/users/omar/history",
            params={"cursor": history["next_cursor"]},
            headers=mod(token),
        )
    ).json()
    assert [h["after"] for h in more["items"]] == ["suspended"] and more["next_cursor"] is None


async def test_status_change_refusals(client, token, sessionmaker):
    await make_user(sessionmaker, "omar")
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    for body, code in (
        ({"status": "suspended", "reason": "x"}, "until_required"),
        ({"status": "suspended", "until": past, "reason": "x"}, "until_in_past"),
        ({"status": "banned", "until": future, "reason": "x"}, "until_not_allowed"),
        ({"status": "premod", "reason": "x", "reject_comments": True}, "invalid_cascade"),
        ({"status": "exiled", "reason": "x"}, "invalid"),
        ({"status": "banned"}, "invalid"),
        ({"status": "banned", "reason": ""}, "invalid"),
        ({"status": "suspended", "until": "2030-01-01T00:00:00", "reason": "x"}, "invalid"),
    ):
        r = await client.post(_status_url("omar"), json=body, headers=mod(token))
        assert r.status == 422, body
        assert (await r.json())["error"]["code"] == code, body
    r = await client.post(
        _status_url("ghost"), json={"status": "banned", "reason": "x"}, headers=mod(token)
    )
    assert r.status == 404
    r = await client.post(
        _status_url("x" * 129), json={"status": "banned", "reason": "x"}, headers=mod(token)
    )
    assert r.status == 400


async def test_reevaluate_sends_held_and_pending_back_to_the_workers(
    client, token, sessionmaker, settings, redis_client
):
    held = await make_comment(sessionmaker, status=CommentStatus.held)
    pending = await make_comment(sessionmaker, status=CommentStatus.pending)
    approved = await make_comment(sessionmaker)
    r = await client.post("/api/v1/moderation/reevaluate", json={}, headers=mod(token))
    assert r.status == 200, await r.text()
    body = await r.json()
    assert body == {"examined": 2, "reopened": 1, "queued": 2, "comment_ids": [held, pending]}
    assert (await stored(sessionmaker, held)).status == "pending"
    assert (await stored(sessionmaker, approved)).status == "approved"
    last = (await audit_rows(sessionmaker, held))[-1]
    assert (last.action, last.before, last.after) == ("reevaluate", "held", "pending")
    jobs = await redis_client.xrange(f"{settings.redis_prefix}jobs:score")
    assert [int(f[b"comment_id"]) for _i, f in jobs] == [held, pending]
    r = await client.post(
        "/api/v1/moderation/reevaluate", json={"statuses": ["approved"]}, headers=mod(token)
    )
    assert r.status == 422
