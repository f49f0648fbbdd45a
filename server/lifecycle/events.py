"""The lifecycle's event envelope and the outbox a transaction records its events in.

A unit of work opened by :meth:`EventRelay.transaction <server.lifecycle.relay.EventRelay>`
carries an :class:`Outbox` in ``session.info``; ``transition`` and the other steps of a
comment's life ``record`` a :class:`CommentEvent` there. Nothing is published before the
transaction commits, and nothing at all when it rolls back.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.comments.models import CommentStatus

OUTBOX_KEY = "baraza.outbox"
# ``EventRelay.statements()``: every statement commits by itself, so a write stores its
# outbox batch in the same statement and lists the batch ids under STORED_BATCHES_KEY.
AUTOCOMMIT_KEY = "baraza.outbox.autocommit"
STORED_BATCHES_KEY = "baraza.outbox.stored"


class EventKind(enum.StrEnum):
    """What happened to a comment."""

    posted = "posted"  # stored as pending, awaiting its scores
    approved = "approved"  # by the scorer or a moderator
    held = "held"  # by the scorer, by readers' reports, or after scoring failed
    rejected = "rejected"  # by the scorer, a moderator, or a sanction's cascade
    reopened = "reopened"  # sent back to pending (re-evaluation, an edit)
    edited = "edited"  # new text by its author; it re-enters moderation
    deleted = "deleted"  # by its author
    reported = "reported"  # one reader's report (a hold, if any, is its own event)
    featured = "featured"
    unfeatured = "unfeatured"
    reacted = "reacted"  # reaction counts changed; ``data["reactions"]``
    # Held for its toxicity scores alone: the author may revise it once (server.comments.nudges);
    # ``data["labels"]``, ``data["revise_until"]``.
    nudged = "nudged"


_STATUS_KINDS = {
    CommentStatus.approved: EventKind.approved,
    CommentStatus.held: EventKind.held,
    CommentStatus.rejected: EventKind.rejected,
    CommentStatus.pending: EventKind.reopened,
    CommentStatus.deleted: EventKind.deleted,
}


def kind_of(after: CommentStatus, action: str) -> EventKind:
    """The event of a status change to ``after`` by ``action`` (an audit action name)."""
    if action == "edit":
        return EventKind.edited
    return _STATUS_KINDS[after]


@dataclass(frozen=True, slots=True)
class CommentEvent:
    """One committed thing that happened to a comment, as every subscriber receives it.

    ``action`` is the audit row's action (``auto_moderate``, ``approve``, ``reports`` …) and
    ``actor`` who did it (``system`` or a user id). ``public`` is the comment as readers see
    it right after the change (author name filled in by the subscribers), ``data`` holds what
    is particular to a kind (``reactions``, a report's ``reason``).
    """

    kind: EventKind
    comment_id: int
    article_id: str
    author_id: str
    actor: str
    action: str
    before: CommentStatus
    after: CommentStatus
    was_visible: bool
    visible: bool
    featured: bool
    reason: str | None = None
    public: Mapping[str, Any] | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    # The comment it replies to (a reply's author is told about it on ``user:{sub}``).
    parent_id: int | None = None

    @property
    def appeared(self) -> bool:
        """It became visible in its thread."""
        return self.visible and not self.was_visible

    @property
    def disappeared(self) -> bool:
        """It left its thread (a deletion leaves a placeholder: that counts too)."""
        return self.was_visible and (not self.visible or self.kind is EventKind.deleted)

    @property
    def status_changed(self) -> bool:
        return self.before is not self.after

    def to_json(self) -> dict[str, Any]:
        """Plain JSON, as the outbox table stores it."""
        return {
            "kind": self.kind.value,
            "comment_id": self.comment_id,
            "article_id": self.article_id,
            "author_id": self.author_id,
            "actor": self.actor,
            "action": self.action,
            "before": self.before.value,
            "after": self.after.value,
            "was_visible": self.was_visible,
            "visible": self.visible,
            "featured": self.featured,
            "reason": self.reason,
            "public": dict(self.public) if self.public is not None else None,
            "data": dict(self.data),
            "parent_id": self.parent_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CommentEvent:
        return cls(
            kind=EventKind(data["kind"]),
            comment_id=int(data["comment_id"]),
            article_id=str(data["article_id"]),
            author_id=str(data["author_id"]),
            actor=str(data["actor"]),
            action=str(data["action"]),
            before=CommentStatus(data["before"]),
            after=CommentStatus(data["after"]),
            was_visible=bool(data["was_visible"]),
            visible=bool(data["visible"]),
            featured=bool(data["featured"]),
            reason=data.get("reason"),
            public=data.get("public"),
            data=data.get("data") or {},
            parent_id=data.get("parent_id"),
        )


class Outbox:
    """The events of one transaction, in the order they were recorded."""

    def __init__(self) -> None:
        self._events: list[CommentEvent] = []

    def add(self, event: CommentEvent) -> None:
        self._events.append(event)

    def __iter__(self) -> Iterator[CommentEvent]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)


def outbox_of(session: AsyncSession) -> Outbox:
    """The session's outbox (a new, unpublished one when it was not opened by a relay)."""
    outbox = session.info.get(OUTBOX_KEY)
    if not isinstance(outbox, Outbox):
        outbox = session.info[OUTBOX_KEY] = Outbox()
    return outbox


def record(session: AsyncSession, event: CommentEvent) -> None:
    """Add ``event`` to the outbox of the transaction ``session`` belongs to."""
    outbox_of(session).add(event)
