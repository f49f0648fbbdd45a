"""The one builder of audit rows (``moderation_actions``): decisions, sanctions, settings.

``audit_row`` builds an ORM row, ``audit_values`` the same columns for a set-based INSERT."""

from __future__ import annotations

import datetime as dt
from typing import Any

from server.comments.models import Comment
from server.db import utcnow
from server.moderation.models import ModerationAction


def audit_values(
    *,
    actor: str,
    action: str,
    comment: Comment | None = None,
    subject_user_id: str | None = None,
    before: str | None = None,
    after: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The columns of an audit row of ``action`` by ``actor``; about ``comment`` (and its
    author) if given. For set-based INSERTs of many rows (``transition_many``)."""
    return {
        "actor_id": actor,
        "action": action,
        "comment_id": comment.id if comment is not None else None,
        "subject_user_id": comment.author_id if comment is not None else subject_user_id,
        "before": before,
        "after": after,
        "reason": reason,
        "details": details,
        "created_at": now or utcnow(),
    }


def audit_row(
    *,
    actor: str,
    action: str,
    comment: Comment | None = None,
    subject_user_id: str | None = None,
    before: str | None = None,
    after: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> ModerationAction:
    """An audit row of ``action`` by ``actor``; about ``comment`` (and its author) if given."""
    return ModerationAction(
        **audit_values(
            actor=actor,
            action=action,
            comment=comment,
            subject_user_id=subject_user_id,
            before=before,
            after=after,
            reason=reason,
            details=details,
            now=now,
        )
    )
