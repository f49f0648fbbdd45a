"""Live events for the workers' decisions, published after the transaction has committed.

Approved comments appear on their article's channel (``comment.published``); held ones join
the moderators' queue (``comment.queued``, as the review API lists it); every decision is
announced as ``comment.decided`` so a console drops it from its pending list, and the queue
counts follow (coalesced by the broker to one event a second). The producers never raise: a
broker outage does not undo a stored decision.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from server.comments.models import Comment, CommentStatus
from server.comments.schemas import public_comment
from server.db import Sessionmaker
from server.live import producers
from server.live.base import ChannelBroker
from server.moderation.events import waiting_counts
from server.moderation.models import SYSTEM_ACTOR
from server.moderation.queues import get_item

if TYPE_CHECKING:
    from workers.nudge import Nudge

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Decided:
    """A comment the worker just decided, as committed."""

    comment: Comment
    status: CommentStatus
    author_name: str | None
    action: str
    nudge: Nudge | None = None


async def publish_decisions(
    sessionmaker: Sessionmaker, channels: ChannelBroker, decided: Sequence[Decided]
) -> None:
    """Announce committed decisions to readers and moderators."""
    if not decided:
        return
    by_status: dict[tuple[CommentStatus, str], list[int]] = {}
    for item in decided:
        by_status.setdefault((item.status, item.action), []).append(item.comment.id)
        if item.status is CommentStatus.approved:
            await producers.comment_published(
                channels, public_comment(item.comment, item.author_name, viewer=None)
            )
        elif item.status is CommentStatus.held:
            await producers.comment_queued(channels, await _queue_item(sessionmaker, item))
    for (status, action), ids in by_status.items():
        await producers.comment_decided(
            channels, comment_ids=ids, action=action, status=status.value, actor=SYSTEM_ACTOR,
        )
    try:
        counts = await waiting_counts(sessionmaker)
    except Exception:
        log.warning("could not count the queues", exc_info=True)
        return
    await producers.queue_counts(channels, counts)


async def _queue_item(sessionmaker: Sessionmaker, item: Decided) -> dict[str, Any]:
    """The held comment as ``GET /moderation/queues/held`` shows it (a summary if that fails)."""
    try:
        queued = await get_item(sessionmaker=sessionmaker, comment_id=item.comment.id)
        data: dict[str, Any] = queued.model_dump(mode="json")
        return data
    except Exception:
        log.warning("could not build the queue item of %d", item.comment.id, exc_info=True)
    comment = item.comment
    return {
        "id": comment.id, "article_id": comment.article_id, "status": comment.status,
        "risk": comment.risk, "decision_reason": comment.decision_reason,
    }
