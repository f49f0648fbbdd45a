"""Reply e-mails against a real SMTP server (aiosmtpd) in the test process: opt-in, replies
and features, the digest, and the one-click unsubscribe link (RFC 8058 headers)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
import re
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from server.auth import mint_token
from server.comments.models import CommentStatus
from server.db import utcnow
from server.notifications.mailer import Mailer, SmtpTransport
from server.notifications.models import ReplyNotification
from tests.conftest import auth
from tests.factories import set_status

EMAIL = "amina@example.org"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    # aiosmtpd logs each session from its own thread, sometimes after pytest has closed the
    # stream it captured: keep its chatter out of the test output.
    mail_log = logging.getLogger("mail.log")
    propagate, mail_log.propagate = mail_log.propagate, False
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
        mail_log.propagate = propagate


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def mail_settings(make_settings: Any, smtp: tuple[Inbox, int]) -> Any:
    return make_settings(
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        public_url="https://comments.example",
        reply_email_delay_seconds=300,
        email_from="Paper <comments@paper.example>",
    )


async def _setup(
    client: Any, settings: Any, token: Any, sessionmaker: Any, opt_in: bool = True
) -> tuple[dict[str, str], int]:
    amina = auth(mint_token(settings, sub="amina", name="Amina", email=EMAIL))
    if opt_in:
        r = await client.put("/api/v1/me/settings", json={"reply_emails": True}, headers=amina)
        assert r.status == 200
    r = await client.post(
        "/api/v1/articles/story/comments", json={"body": "My view"}, headers=amina
    )
    comment_id: int = (await r.json())["id"]
    await set_status(sessionmaker, comment_id, CommentStatus.approved)
    return amina, comment_id


async def _reply(client: Any, token: Any, parent: int, who: str, body: str) -> int:
    r = await client.post(
        "/api/v1/articles/story/comments",
        json={"body": body, "parent_id": parent},
        headers=auth(token(who)),
    )
    assert r.status == 202
    reply_id: int = (await r.json())["id"]
    r = await client.post(
        "/api/v1/moderation/decisions",
        json={"comment_ids": [reply_id], "action": "approve"},
        headers=auth(token("mod", roles=["moderator"])),
    )
    assert r.status == 200
    return reply_id


async def test_reply_email_with_one_click_unsubscribe(
    make_client, mail_settings, token, sessionmaker, smtp
):
    inbox, _ = smtp
    client = await make_client(mail_settings)
    amina, mine = await _setup(client, mail_settings, token, sessionmaker)
    await _reply(client, token, mine, "baraka", "I disagree, politely")
    clock = Clock()
    mailer = Mailer(
        sessionmaker=sessionmaker,
        settings=mail_settings,
        transport=SmtpTransport(mail_settings),
        clock=clock,
    )
    assert await mailer.run_once() == 0  # waits for company first
    clock.now += dt.timedelta(seconds=301)
    assert await mailer.run_once() == 1
    assert await mailer.run_once() == 0  # sent once
    [message] = inbox.messages
    assert message["To"] == EMAIL and message["X-Envelope-To"] == EMAIL
    assert message["Subject"] == "Baraka replied to your comment"
    assert "I disagree, politely" in message.get_content()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<(.+)>", message["List-Unsubscribe"]).group(1)  # type: ignore[union-attr]
    assert link.startswith("https://comments.example/api/v1/email/unsubscribe?token=")
    assert link in message.get_content()
    parts = urlsplit(link)
    page = await client.get(f"{parts.path}?{parts.query}")
    assert page.status == 200 and "<form method=post" in await page.text()
    # A page view unsubscribes nobody; the one-click POST does.
    assert (await (await client.get("/api/v1/me/settings", headers=amina)).json())["reply_emails"]
    r = await client.post(f"{parts.path}?{parts.query}", data="List-Unsubscribe=One-Click")
    assert r.status == 200 and (await r.json()) == {"unsubscribed": True}
    settings_now = await (await client.get("/api/v1/me/settings", headers=amina)).json()
    assert settings_now == {"reply_emails": False, "email": None}
    await _reply(client, token, mine, "chege", "Another one")
    clock.now += dt.timedelta(hours=1)
    assert await mailer.run_once() == 0
    assert len(inbox.messages) == 1


async def test_many_become_one_digest_and_features_count(
    make_client, mail_settings, token, sessionmaker, smtp
):
    inbox, _ = smtp
    client = await make_client(mail_settings)
    _amina, mine = await _setup(client, mail_settings, token, sessionmaker)
    for n, who in enumerate(["baraka", "chege", "dalia"]):
        await _reply(client, token, mine, who, f"Reply number {n}")
    await _reply(client, token, mine, "amina", "My own reply is no news")
    r = await client.post(
        "/api/v1/moderation/decisions",
        json={"comment_ids": [mine], "action": "feature"},
        headers=auth(token("mod", roles=["moderator"])),
    )
    assert r.status == 200
    clock = Clock()
    clock.now += dt.timedelta(seconds=301)
    mailer = Mailer(
        sessionmaker=sessionmaker,
        settings=mail_settings,
        transport=SmtpTransport(mail_settings),
        clock=clock,
    )
    assert await mailer.run_once() == 1
    [digest] = inbox.messages
    assert digest["Subject"] == "4 updates on your comments"
    text = digest.get_content()
    assert all(f"Reply number {n}" in text for n in range(3))
    assert "Moderators featured your comment" in text and "My own reply" not in text


async def test_nothing_without_opt_in(make_client, mail_settings, token, sessionmaker, smtp):
    inbox, _ = smtp
    client = await make_client(mail_settings)
    _amina, mine = await _setup(client, mail_settings, token, sessionmaker, opt_in=False)
    await _reply(client, token, mine, "baraka", "Hello")
    clock = Clock()
    clock.now += dt.timedelta(days=1)
    mailer = Mailer(
        sessionmaker=sessionmaker,
        settings=mail_settings,
        transport=SmtpTransport(mail_settings),
        clock=clock,
    )
    assert await mailer.run_once() == 0
    assert inbox.messages == []


async def test_smtp_down_keeps_notifications(
    make_client, make_settings, mail_settings, token, sessionmaker, smtp
):
    inbox, _port = smtp
    client = await make_client(mail_settings)
    _amina, mine = await _setup(client, mail_settings, token, sessionmaker)
    await _reply(client, token, mine, "baraka", "Kept for later")
    clock = Clock()
    clock.now += dt.timedelta(seconds=301)
    down = make_settings(smtp_host="127.0.0.1", smtp_port=_free_port())
    failing = Mailer(
        sessionmaker=sessionmaker, settings=down, transport=SmtpTransport(down), clock=clock
    )
    assert await failing.run_once() == 0
    working = Mailer(
        sessionmaker=sessionmaker,
        settings=mail_settings,
        transport=SmtpTransport(mail_settings),
        clock=clock,
    )
    assert await working.run_once() == 1
    assert "Kept for later" in inbox.messages[0].get_content()


@pytest.mark.parametrize("token_value", ["abc", "bm9ib2R5.AAAA", "x" * 601, "a b"])
async def test_bad_unsubscribe_tokens(client, token_value):
    r = await client.post("/api/v1/email/unsubscribe", params={"token": token_value})
    assert r.status == 400
    assert "error" in await r.json()
    r = await client.get("/api/v1/email/unsubscribe")
    assert r.status == 400


async def test_a_reply_erased_before_sending_is_not_mailed(
    make_client, mail_settings, token, sessionmaker, smtp
):
    inbox, _ = smtp
    client = await make_client(mail_settings)
    _amina, mine = await _setup(client, mail_settings, token, sessionmaker)
    await _reply(client, token, mine, "baraka", "Soon erased")
    r = await client.delete("/api/v1/me", headers=auth(token("baraka")))
    assert r.status == 200
    clock = Clock()
    clock.now += dt.timedelta(seconds=301)
    mailer = Mailer(
        sessionmaker=sessionmaker,
        settings=mail_settings,
        transport=SmtpTransport(mail_settings),
        clock=clock,
    )
    assert await mailer.run_once() == 0
    assert inbox.messages == []


async def test_a_reply_published_again_is_told_once(
    make_client, mail_settings, token, sessionmaker
):
    """Queued by the lifecycle in the approval's transaction; rejected and approved again, the
    reply is not news a second time."""
    client = await make_client(mail_settings)
    _, mine = await _setup(client, mail_settings, token, sessionmaker)
    reply = await _reply(client, token, mine, "baraka", "A second look")
    moderator = auth(token("mod", roles=["moderator"]))
    for decision in ({"action": "reject", "reason": "spam"}, {"action": "approve"}):
        r = await client.post(
            "/api/v1/moderation/decisions",
            json={"comment_ids": [reply], **decision},
            headers=moderator,
        )
        assert r.status == 200 and (await r.json())["applied"] == 1, await r.text()
    async with sessionmaker() as session:
        queued = (
            await session.execute(select(ReplyNotification.user_id, ReplyNotification.comment_id))
        ).all()
    assert [tuple(row) for row in queued] == [("amina", reply)]
