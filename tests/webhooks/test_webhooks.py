"""Webhooks end to end: a local receiver (aiohttp test server), the real dispatcher and
HTTP sender, a clock the tests advance (no sleeps)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from aiohttp import web
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook as Verifier

from server.comments.models import CommentStatus
from server.db import utcnow
from server.lifecycle import CommentEvent, EventKind
from server.lifecycle.models import OutboxBatch
from server.typedefs import EVENTS
from server.webhooks.dispatch import Dispatcher, HttpSender
from server.webhooks.models import WebhookDelivery
from tests.conftest import auth
from tests.factories import make_comment


@dataclass
class Receiver:
    """Records every request; answers with the next status in ``script`` (then the last)."""

    script: list[int] = field(default_factory=lambda: [200])
    seen: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append((dict(request.headers), await request.read()))
        status = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        return web.Response(status=status, text="ok")


@pytest.fixture
async def receiver(aiohttp_server: Any) -> Receiver:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    server = await aiohttp_server(app)
    rec.url = str(server.make_url("/hook"))
    return rec


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def private_settings(make_settings: Any) -> Any:
    return make_settings(
        webhook_allow_private=True,
        webhook_max_attempts=3,
        webhook_backoff_base_seconds=10.0,
    )


async def _register(client: Any, token: Any, url: str, events: list[str]) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/webhooks",
        json={"url": url, "events": events},
        headers=auth(token("admin-1", roles=["admin"])),
    )
    assert r.status == 201, await r.text()
    body: dict[str, Any] = await r.json()
    return body


async def _post_comment(client: Any, token: Any, body: str = "Good reporting.") -> int:
    r = await client.post(
        "/api/v1/articles/a-1/comments", json={"body": body}, headers=auth(token("reader-1"))
    )
    assert r.status == 202
    comment_id: int = (await r.json())["id"]
    return comment_id


async def test_signed_delivery_after_commit(
    make_client, private_settings, token, receiver, sessionmaker
):
    client = await make_client(private_settings)
    hook = await _register(client, token, receiver.url, ["comment.posted"])
    assert hook["secret"].startswith("whsec_")
    assert hook["events"] == ["comment.posted"]
    comment_id = await _post_comment(client, token)
    # Queued in the comment's transaction, not sent on the request path.
    assert receiver.seen == []
    sender = HttpSender(private_settings)
    dispatcher = Dispatcher(sessionmaker=sessionmaker, settings=private_settings, sender=sender)
    try:
        assert await dispatcher.run_once() == 1
    finally:
        await sender.aclose()
    assert len(receiver.seen) == 1
    headers, raw = receiver.seen[0]
    event = Verifier(hook["secret"]).verify(raw, headers)
    assert event["type"] == "comment.posted"
    assert event["data"]["comment"]["id"] == comment_id
    assert set(event) == {"type", "timestamp", "data"}
    with pytest.raises(Exception, match="signature"):
        Verifier(hook["secret"]).verify(raw.replace(b"Good", b"Bad!"), headers)
    r = await client.get(
        f"/api/v1/webhooks/{hook['id']}/deliveries",
        headers=auth(token("admin-1", roles=["admin"])),
    )
    page = await r.json()
    [delivery] = page["items"]
    assert delivery["status"] == "delivered"
    assert [(a["number"], a["status_code"]) for a in delivery["attempts"]] == [(1, 200)]
    listed = await client.get("/api/v1/webhooks", headers=auth(token("a", roles=["admin"])))
    assert [h["id"] for h in (await listed.json())["items"]] == [hook["id"]]
    assert "secret" not in (await listed.json())["items"][0]


async def test_retries_back_off_then_dead_then_replay(
    make_client, private_settings, token, receiver, sessionmaker
):
    client = await make_client(private_settings)
    hook = await _register(client, token, receiver.url, ["comment.posted"])
    await _post_comment(client, token)
    receiver.script = [500, 503, 500, 200]
    clock = Clock()
    sender = HttpSender(private_settings)
    dispatcher = Dispatcher(
        sessionmaker=sessionmaker,
        settings=private_settings,
        sender=sender,
        clock=clock,
        rng=random.Random(7),
    )
    admin = auth(token("admin-1", roles=["admin"]))
    try:
        assert await dispatcher.run_once() == 1  # try 1 fails
        first = await _only_delivery(sessionmaker)
        delay = (first.next_attempt_at - clock.now).total_seconds()
        assert 5 <= delay <= 10  # base 10 s with jitter in [½, 1]
        assert await dispatcher.run_once() == 0  # not due yet
        clock.advance(10)
        assert await dispatcher.run_once() == 1  # try 2 fails
        second = await _only_delivery(sessionmaker)
        delay = (second.next_attempt_at - clock.now).total_seconds()
        assert 10 <= delay <= 20  # doubled
        clock.advance(19.9)
        if delay > 19.9:
            assert await dispatcher.run_once() == 0
        clock.advance(0.1)
        assert await dispatcher.run_once() == 1  # try 3 fails: the last
        dead = await _only_delivery(sessionmaker)
        assert dead.status == "dead" and dead.next_attempt_at is None
        clock.advance(10_000)
        assert await dispatcher.run_once() == 0
        r = await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=admin)
        [listed] = (await r.json())["items"]
        assert [(a["number"], a["status_code"]) for a in listed["attempts"]] == [
            (1, 500),
            (2, 503),
            (3, 500),
        ]
        assert listed["status"] == "dead" and listed["last_error"] == "HTTP 500"
        r = await client.post(f"/api/v1/webhooks/deliveries/{listed['id']}/replay", headers=admin)
        assert r.status == 202
        replayed = await r.json()
        assert replayed["replay_of"] == listed["id"] and replayed["status"] == "pending"
        assert await dispatcher.run_once() == 1
    finally:
        await sender.aclose()
    ids = {headers["webhook-id"] for headers, _ in receiver.seen}
    assert len(receiver.seen) == 4 and ids == {listed["message_id"]}
    # The test clock ran ahead of the wall clock, so check the signature, not its age.
    headers, raw = receiver.seen[-1]
    stamp = dt.datetime.fromtimestamp(int(headers["webhook-timestamp"]), dt.UTC)
    expected = Verifier(hook["secret"]).sign(headers["webhook-id"], stamp, raw.decode())
    assert headers["webhook-signature"] == expected
    assert stamp == clock.now.replace(microsecond=0)
    r = await client.get(
        f"/api/v1/webhooks/{hook['id']}/deliveries?status=delivered", headers=admin
    )
    assert [d["id"] for d in (await r.json())["items"]] == [replayed["id"]]


async def _only_delivery(sessionmaker: Any) -> WebhookDelivery:
    async with sessionmaker() as session:
        rows = (await session.scalars(select(WebhookDelivery))).all()
    assert len(rows) == 1
    return rows[0]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",  # refused after DNS resolution
        "http://[::1]/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:192.168.0.1]/hook",
    ],
)
async def test_private_targets_refused(client, token, url):
    r = await client.post(
        "/api/v1/webhooks",
        json={"url": url, "events": ["comment.posted"]},
        headers=auth(token("admin-1", roles=["admin"])),
    )
    assert r.status == 422
    assert (await r.json())["error"]["code"] == "url_not_allowed"


async def test_private_target_refused_at_send_time(
    make_client, make_settings, private_settings, token, receiver, sessionmaker
):
    # Registered while private targets were allowed; the dispatcher is stricter.
    client = await make_client(private_settings)
    await _register(client, token, receiver.url, ["comment.posted"])
    await _post_comment(client, token)
    strict = make_settings(webhook_max_attempts=3)
    sender = HttpSender(strict)
    try:
        dispatcher = Dispatcher(sessionmaker=sessionmaker, settings=strict, sender=sender)
        assert await dispatcher.run_once() == 1
    finally:
        await sender.aclose()
    assert receiver.seen == []
    delivery = await _only_delivery(sessionmaker)
    assert delivery.status == "pending" and delivery.attempt_count == 1
    assert delivery.last_error is not None and delivery.last_error.startswith("refused")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"url": "ftp://example.com/x", "events": ["comment.posted"]}, 422),
        ({"url": "https://example.com/x", "events": []}, 422),
        ({"url": "https://example.com/x", "events": ["comment.nope"]}, 422),
        ({"url": "https://example.com/x", "events": "comment.posted"}, 422),
    ],
)
async def test_bad_registrations(client, token, body, status):
    r = await client.post(
        "/api/v1/webhooks", json=body, headers=auth(token("admin-1", roles=["admin"]))
    )
    assert r.status == status
    assert "error" in await r.json()


async def test_admin_only_and_unknown_ids(client, token):
    reader = auth(token("reader-1"))
    admin = auth(token("admin-1", roles=["admin"]))
    moderator = auth(token("mod-1", roles=["moderator"]))
    assert (await client.get("/api/v1/webhooks", headers=reader)).status == 403
    assert (await client.get("/api/v1/webhooks", headers=moderator)).status == 403
    assert (await client.get("/api/v1/webhooks")).status == 401
    assert (await client.get("/api/v1/webhooks/99/deliveries", headers=admin)).status == 404
    assert (await client.get("/api/v1/webhooks/x/deliveries", headers=admin)).status == 400
    r = await client.post("/api/v1/webhooks/deliveries/99/replay", headers=admin)
    assert r.status == 404
    r = await client.get("/api/v1/webhooks/1/deliveries?cursor=abc", headers=admin)
    assert r.status == 400


async def test_every_event_type_is_queued(make_client, private_settings, token, sessionmaker):
    client = await make_client(private_settings)
    everything = [
        "comment.posted",
        "comment.decided",
        "comment.reported",
        "user.sanctioned",
        "liveblog.post.published",
    ]
    await _register(client, token, "http://127.0.0.1:9/hook", everything)
    moderator = auth(token("mod-1", roles=["moderator", "editor"]))
    comment_id = await _post_comment(client, token)
    r = await client.post(
        "/api/v1/moderation/decisions",
        json={"comment_ids": [comment_id], "action": "approve"},
        headers=moderator,
    )
    assert r.status == 200, await r.text()
    r = await client.post(
        f"/api/v1/comments/{comment_id}/reports",
        json={"reason": "spam"},
        headers=auth(token("reader-2")),
    )
    assert r.status in (200, 201), await r.text()
    r = await client.post(
        "/api/v1/moderation/users/reader-1/status",
        json={"status": "banned", "reason": "spam"},
        headers=moderator,
    )
    assert r.status == 200, await r.text()
    r = await client.put(
        "/api/v1/articles/a-1/liveblog",
        json={"status": "live", "title": "Live"},
        headers=moderator,
    )
    assert r.status in (200, 201), await r.text()
    r = await client.post(
        "/api/v1/articles/a-1/liveblog/posts", json={"body": "First entry"}, headers=moderator
    )
    assert r.status == 201, await r.text()
    async with sessionmaker() as session:
        types = list(
            (
                await session.scalars(
                    select(WebhookDelivery.event_type).order_by(WebhookDelivery.id)
                )
            ).all()
        )
    assert types == everything


async def _deliveries(sessionmaker: Any) -> list[tuple[str, dict[str, Any]]]:
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(WebhookDelivery.event_type, WebhookDelivery.payload).order_by(
                    WebhookDelivery.id
                )
            )
        ).tuples()
        return [(kind, orjson.loads(payload)["data"]) for kind, payload in rows]


async def test_comment_events_come_from_the_lifecycle_once(
    make_client, private_settings, token, sessionmaker
):
    """Every way a comment is decided is a ``comment.decided`` (a report's hold, a sanction's
    cascade), queued in the change's transaction; the outbox's re-relay adds none."""
    client = await make_client(private_settings)
    await _register(
        client, token, "http://127.0.0.1:9/hook",
        ["comment.posted", "comment.decided", "comment.reported"],
    )
    admin = auth(token("admin-1", roles=["admin"]))
    r = await client.put("/api/v1/moderation/policy", json={"report_hold_count": 1}, headers=admin)
    assert r.status == 200, await r.text()
    published = await make_comment(sessionmaker, article_id="a-1", author="reader-1")
    waiting = await _post_comment(client, token, "Still waiting for its scores.")
    r = await client.post(
        f"/api/v1/comments/{published}/reports",
        json={"reason": "spam"},
        headers=auth(token("reader-2")),
    )
    assert r.status == 201, await r.text()
    r = await client.post(
        "/api/v1/moderation/users/reader-1/status",
        json={"status": "banned", "reason": "spam", "reject_comments": True},
        headers=auth(token("mod-1", roles=["moderator"])),
    )
    assert r.status == 200, await r.text()
    seen = await _deliveries(sessionmaker)
    assert [(kind, data["comment"]["id"]) for kind, data in seen] == [
        ("comment.posted", waiting),
        ("comment.reported", published),
        ("comment.decided", published),
        # The ban's cascade rejects everything still awaiting a person, the held one too.
        ("comment.decided", published),
        ("comment.decided", waiting),
    ]
    reported, held, _, rejected = (data for _, data in seen[1:])
    assert reported["comment"]["status"] == "approved" and reported["report_count"] == 1
    assert reported["report"] == {"reason": "spam", "reporter_id": "reader-2"}
    assert (held["action"], held["before"], held["after"]) == ("reports", "approved", "held")
    assert held["comment"]["status"] == "held" and held["actor_id"] == "system"
    assert (rejected["before"], rejected["after"], rejected["actor_id"]) == (
        "pending", "rejected", "mod-1",
    )
    # A batch left behind by a process that died after its commit is relayed again: the
    # subscribers hear it twice, the webhook queue does not grow.
    left = CommentEvent(
        kind=EventKind.held, comment_id=published, article_id="a-1", author_id="reader-1",
        actor="system", action="reports", before=CommentStatus.approved,
        after=CommentStatus.held, was_visible=True, visible=False, featured=False,
    )
    async with sessionmaker.begin() as session:
        session.add(OutboxBatch(events=[left.to_json()]))
    relayed = await client.app[EVENTS].relay_stale(
        older_than=dt.timedelta(seconds=-60), now=utcnow()
    )
    assert relayed == 1
    assert len(await _deliveries(sessionmaker)) == len(seen)
