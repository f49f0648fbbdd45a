"""The mailer: each pass finds readers whose oldest unsent notification has waited
``reply_email_delay_seconds``, claims their notifications, and sends one e-mail each (a digest
when there are several) over SMTP, after the claiming transaction has committed. A failed
send gives the notifications back for the next pass."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol
from urllib.parse import quote

import aiosmtplib
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.articles.models import Article
from server.comments.models import Comment, CommentStatus
from server.db import Sessionmaker, utcnow
from server.notifications import unsubscribe
from server.notifications.models import NotificationKind, ReplyNotification
from server.readers.models import ReaderSettings
from server.settings import Settings
from server.users.models import User

log = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]
EXCERPT = 300
USERS_PER_PASS = 100


class Transport(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class SmtpTransport:
    """aiosmtplib with the configured server, TLS and credentials."""

    def __init__(self, settings: Settings) -> None:
        if settings.smtp_host is None:
            raise ValueError("BARAZA_SMTP_HOST is not set")
        self._host = settings.smtp_host
        self._settings = settings

    async def send(self, message: EmailMessage) -> None:
        s = self._settings
        await aiosmtplib.send(
            message,
            hostname=self._host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password,
            use_tls=s.smtp_tls,
            start_tls=s.smtp_starttls,
            timeout=30,
        )


@dataclass(frozen=True, slots=True)
class _Item:
    kind: NotificationKind
    comment_id: int
    body: str
    author: str
    article_title: str | None
    article_url: str | None


@dataclass(frozen=True, slots=True)
class _Claimed:
    user_id: str
    email: str
    ids: list[int]
    items: list[_Item]


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def _subject(items: Sequence[_Item]) -> str:
    if len(items) > 1:
        if all(i.kind is NotificationKind.reply for i in items):
            return f"{len(items)} new replies to your comments"
        return f"{len(items)} updates on your comments"
    item = items[0]
    if item.kind is NotificationKind.featured:
        return "Your comment was featured"
    return f"{item.author} replied to your comment"


def _line(item: _Item) -> str:
    where = item.article_title or "an article"
    link = f"\n{item.article_url}#comment-{item.comment_id}" if item.article_url else ""
    if item.kind is NotificationKind.featured:
        return f"Moderators featured your comment on {where}:\n\n{_excerpt(item.body)}{link}"
    return f"{item.author} replied to you on {where}:\n\n{_excerpt(item.body)}{link}"


def build_message(claimed: _Claimed, settings: Settings) -> EmailMessage:
    """The e-mail for one reader, with RFC 8058 one-click unsubscribe headers."""
    token = unsubscribe.sign(claimed.user_id, settings.jwt_secret)
    link = f"{settings.base_url}/api/v1/email/unsubscribe?token={quote(token)}"
    message = EmailMessage()
    message["From"] = settings.email_from
    message["To"] = claimed.email
    message["Subject"] = _subject(claimed.items)
    message["Message-ID"] = make_msgid(domain="baraza")
    message["List-Unsubscribe"] = f"<{link}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    parts = [_line(item) for item in claimed.items]
    footer = (
        f"You receive these e-mails because you asked for them.\nStop them with one click: {link}"
    )
    message.set_content("\n\n---\n\n".join(parts) + "\n\n-- \n" + footer + "\n")
    return message


class Mailer:
    def __init__(
        self,
        *,
        sessionmaker: Sessionmaker,
        settings: Settings,
        transport: Transport,
        clock: Clock = utcnow,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._settings = settings
        self._transport = transport
        self._clock = clock

    async def run_once(self) -> int:
        """Send what is due; return how many e-mails went out."""
        sent = 0
        for claimed in await self._claim():
            try:
                await self._transport.send(build_message(claimed, self._settings))
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                log.warning(
                    "reply e-mail to %s failed; retrying later", claimed.user_id, exc_info=True
                )
                await self._give_back(claimed.ids)
            else:
                sent += 1
        return sent

    async def run(self, stopping: asyncio.Event, poll_seconds: float = 5.0) -> None:
        while not stopping.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("reply e-mail pass failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), poll_seconds)

    async def _claim(self) -> list[_Claimed]:
        now = self._clock()
        due = now - dt.timedelta(seconds=self._settings.reply_email_delay_seconds)
        async with self._sessionmaker.begin() as session:
            users = (
                await session.scalars(
                    select(ReplyNotification.user_id)
                    .where(ReplyNotification.sent_at.is_(None))
                    .group_by(ReplyNotification.user_id)
                    .having(func.min(ReplyNotification.created_at) <= due)
                    .limit(USERS_PER_PASS)
                )
            ).all()
            claimed = []
            for user_id in users:
                found = await self._claim_user(session, user_id, now)
                if found is not None:
                    claimed.append(found)
        return claimed

    async def _claim_user(
        self, session: AsyncSession, user_id: str, now: dt.datetime
    ) -> _Claimed | None:
        rows = (
            await session.execute(
                select(ReplyNotification, Comment, Article.title, Article.url, User.name)
                .join(Comment, Comment.id == ReplyNotification.comment_id)
                .join(Article, Article.id == Comment.article_id)
                .join(User, User.id == Comment.author_id)
                .where(ReplyNotification.user_id == user_id, ReplyNotification.sent_at.is_(None))
                .order_by(ReplyNotification.id)
                .with_for_update(skip_locked=True, of=ReplyNotification)
            )
        ).all()
        if not rows:
            return None
        ids = [n.id for n, *_ in rows]
        await session.execute(
            update(ReplyNotification).where(ReplyNotification.id.in_(ids)).values(sent_at=now)
        )
        settings = await session.get(ReaderSettings, user_id)
        if settings is None or not settings.reply_emails or not settings.email:
            return None  # they opted out meanwhile: drop what was queued
        items = [
            _Item(NotificationKind(n.kind), c.id, c.body, name, title, url)
            for n, c, title, url, name in rows
            if c.status == CommentStatus.approved  # one removed or erased since is not news
        ]
        if not items:
            return None
        return _Claimed(user_id, settings.email, ids, items)

    async def _give_back(self, ids: list[int]) -> None:
        async with self._sessionmaker.begin() as session:
            await session.execute(
                update(ReplyNotification).where(ReplyNotification.id.in_(ids)).values(sent_at=None)
            )
