from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, BigId, JSONType, UTCDateTime, utcnow

SYSTEM_ACTOR = "system"


class ModerationAction(Base):
    """The audit log: one row per decision or change, by the system or a person."""

    __tablename__ = "moderation_actions"
    __table_args__ = (
        Index("ix_moderation_actions_comment", "comment_id", "id"),
        Index("ix_moderation_actions_subject", "subject_user_id", "id"),
        Index("ix_moderation_actions_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    actor_id: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    comment_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("comments.id", ondelete="CASCADE")
    )
    # The user the action is about: the comment's author, or the sanctioned user.
    subject_user_id: Mapped[str | None] = mapped_column(String(128))
    before: Mapped[str | None] = mapped_column(String(64))
    after: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(1000))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
