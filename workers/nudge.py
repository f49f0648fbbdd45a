"""The nudge: a comment held only for its toxicity scores gets one revision from its author.

The author is told, on their own channel ``user:{sub}``, which kinds of language the model saw
(label names, never scores) and until when they may revise; ``PATCH /comments/{id}`` then
re-enters moderation once (``server.comments.service.edit_comment``). Comments held for words,
phrases, spam, reports, pre-moderation or the author's status are never nudged: a person has
to look at those.

``publish_nudges`` is the one place that announces nudges. It publishes after commit through
the live broker; with issue 9's outbox it becomes a subscriber of ``held`` events.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from server.comments.models import Comment, CommentStatus
from server.live.base import ChannelBroker, EventType

if TYPE_CHECKING:
    from workers.judge import Verdict

log = logging.getLogger(__name__)

# The words a reader sees for each label (never the score).
LABEL_WORDS = {
    "toxicity": "toxic language",
    "severe_toxicity": "severely toxic language",
    "obscene": "obscene language",
    "threat": "threatening language",
    "insult": "insults",
    "identity_attack": "attacks on a group",
    "sexual_explicit": "sexually explicit language",
}


@dataclass(frozen=True, slots=True)
class Nudge:
    comment_id: int
    article_id: str
    author_id: str
    labels: tuple[str, ...]
    revise_until: dt.datetime

    def data(self) -> dict[str, Any]:
        kinds = [LABEL_WORDS.get(label, label) for label in self.labels]
        return {
            "comment_id": self.comment_id,
            "article_id": self.article_id,
            "labels": list(self.labels),
            "kinds": kinds,
            "revise_until": self.revise_until.isoformat(),
            "message": (
                "Your comment is waiting for a moderator because it may contain "
                f"{', '.join(kinds)}. You can revise it once before "
                f"{self.revise_until:%H:%M} UTC; the new text is checked again."
            ),
        }


def nudge_for(comment: Comment, verdict: Verdict, window: dt.timedelta) -> Nudge | None:
    """A nudge if only toxicity scores held ``comment`` and it was never nudged before."""
    if verdict.status is not CommentStatus.held or verdict.rule != "score_hold":
        return None
    fired = verdict.details.get("fired", [])
    if not isinstance(fired, list) or any(item.get("rule") != "score_hold" for item in fired):
        return None
    if comment.nudge is not None:
        return None
    labels = tuple(str(item["label"]) for item in fired if "label" in item)
    return Nudge(
        comment_id=comment.id,
        article_id=comment.article_id,
        author_id=comment.author_id,
        labels=labels,
        revise_until=comment.created_at + window,
    )


def user_channel(user_id: str) -> str:
    return f"user:{user_id}"


async def publish_nudges(channels: ChannelBroker, nudges: Sequence[Nudge]) -> None:
    """Tell each author about their nudged comment, after commit; never raises."""
    for nudge in nudges:
        try:
            await channels.publish(
                user_channel(nudge.author_id), EventType.comment_nudged, nudge.data()
            )
        except Exception:  # a broker outage must not undo a stored decision
            log.warning("could not publish the nudge of %d", nudge.comment_id, exc_info=True)
