"""A reader's settings and the export of everything held about them."""

from __future__ import annotations

from sqlalchemy import select

from server.auth import Principal
from server.comments.models import Comment, Reaction, Report
from server.db import Sessionmaker, utcnow
from server.errors import Unprocessable
from server.readers.models import ReaderSettings
from server.readers.schemas import (
    Export,
    ExportComment,
    ExportReaction,
    ExportReport,
    ExportUser,
    SettingsOut,
)
from server.users.models import User
from server.users.service import ensure_user


def _settings(row: ReaderSettings | None) -> SettingsOut:
    if row is None:
        return SettingsOut(reply_emails=False, email=None)
    return SettingsOut(reply_emails=row.reply_emails, email=row.email)


async def get_settings(*, sessionmaker: Sessionmaker, principal: Principal) -> SettingsOut:
    async with sessionmaker() as session:
        return _settings(await session.get(ReaderSettings, principal.sub))


async def put_settings(
    *, sessionmaker: Sessionmaker, principal: Principal, reply_emails: bool
) -> SettingsOut:
    """Opt in (with the token's ``email`` claim) or out of reply e-mails."""
    if reply_emails and principal.email is None:
        raise Unprocessable(
            "reply e-mails need an 'email' claim in your token", code="email_required"
        )
    now = utcnow()
    async with sessionmaker.begin() as session:
        await ensure_user(session, principal, now)
        row = await session.get(ReaderSettings, principal.sub, with_for_update=True)
        if row is None:
            row = ReaderSettings(user_id=principal.sub)
            session.add(row)
        row.reply_emails = reply_emails
        # Opting out forgets the address; opting in keeps the one the host vouches for now.
        row.email = principal.email if reply_emails else None
        row.updated_at = now
        return _settings(row)


async def export(*, sessionmaker: Sessionmaker, principal: Principal) -> Export:
    """The reader's comments (every status), reactions, reports and settings."""
    async with sessionmaker() as session:
        user = await session.get(User, principal.sub)
        comments = (
            await session.scalars(
                select(Comment).where(Comment.author_id == principal.sub).order_by(Comment.id)
            )
        ).all()
        reactions = (
            await session.scalars(
                select(Reaction)
                .where(Reaction.user_id == principal.sub)
                .order_by(Reaction.created_at, Reaction.comment_id)
            )
        ).all()
        reports = (
            await session.scalars(
                select(Report).where(Report.user_id == principal.sub).order_by(Report.id)
            )
        ).all()
        settings = await session.get(ReaderSettings, principal.sub)
    return Export(
        exported_at=utcnow(),
        user=None
        if user is None
        else ExportUser(
            id=user.id,
            name=user.name,
            status=user.status,
            created_at=user.created_at,
            last_seen_at=user.last_seen_at,
        ),
        comments=[
            ExportComment(
                id=c.id,
                article_id=c.article_id,
                parent_id=c.parent_id,
                body=c.body,
                status=c.status,
                featured=c.featured,
                reactions=dict(c.reactions or {}),
                created_at=c.created_at,
                edited_at=c.edited_at,
                decision_reason=c.decision_reason,
            )
            for c in comments
        ],
        reactions=[
            ExportReaction(comment_id=r.comment_id, kind=r.kind, created_at=r.created_at)
            for r in reactions
        ],
        reports=[
            ExportReport(
                comment_id=r.comment_id, reason=r.reason, note=r.note, created_at=r.created_at
            )
            for r in reports
        ],
        settings=_settings(settings),
    )
