"""The nudge: a comment held only for its toxicity scores gets one revision from its author.

The scoring worker offers it (``offer``) in the transaction that stores the hold: the comment
becomes ``nudge = "offered"`` and a ``nudged`` :class:`~server.lifecycle.events.CommentEvent`
is recorded in the outbox. After commit the lifecycle subscriber ``NudgeNotices``
(``server.lifecycle.subscribers``) tells the author on their own channel ``user:{sub}`` which
kinds of language the model saw (label names, never scores) and until when they may revise
(``notice``). Editing the comment within the edit window uses the offer (``"revised"``) and
sends it back to scoring through the lifecycle's edit path; once used, a held comment cannot be
edited again: a moderator decides it. Comments held for words, phrases, spam, reports,
pre-moderation or the author's status are never nudged: a person has to look at those.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from prometheus_client import Counter

from server.comments.models import Comment, CommentStatus
from server.errors import Conflict
from server.moderation.policy.rules import Decision, Rule

OFFERED = "offered"
REVISED = "revised"

NUDGED_REVISIONS = Counter(
    "baraza_nudged_revisions_total", "Nudged comments their authors revised (and re-scored)"
)

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


def offer(comment: Comment, decision: Decision, window: dt.timedelta) -> dict[str, Any] | None:
    """Offer one revision if only toxicity scores hold ``comment`` and it was never nudged.

    Marks the comment ``"offered"`` and returns the ``nudged`` event's data (``labels``,
    ``revise_until``), or ``None`` when there is nothing to offer.
    """
    if decision.status is not CommentStatus.held or decision.rule is not Rule.score_hold:
        return None
    fired = decision.details.get("fired", [])
    if not isinstance(fired, list) or any(item.get("rule") != Rule.score_hold for item in fired):
        return None
    if comment.nudge is not None:
        return None
    comment.nudge = OFFERED
    labels = [str(item["label"]) for item in fired if "label" in item]
    revise_until = comment.created_at + window
    return {"labels": labels, "revise_until": revise_until.isoformat()}


def notice(comment_id: int, article_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``comment.nudged`` event its author receives, from a ``nudged`` event's data."""
    labels = [str(label) for label in data.get("labels", [])]
    kinds = [LABEL_WORDS.get(label, label) for label in labels]
    revise_until = dt.datetime.fromisoformat(str(data["revise_until"]))
    return {
        "comment_id": comment_id,
        "article_id": article_id,
        "labels": labels,
        "kinds": kinds,
        "revise_until": revise_until.isoformat(),
        "message": (
            "Your comment is waiting for a moderator because it may contain "
            f"{', '.join(kinds)}. You can revise it once before "
            f"{revise_until:%H:%M} UTC; the new text is checked again."
        ),
    }


def use_nudge(comment: Comment) -> bool:
    """Mark an offered nudge as used (True), or refuse a second revision of a held comment."""
    if comment.nudge == OFFERED and comment.status == CommentStatus.held:
        comment.nudge = REVISED
        return True
    if comment.nudge == REVISED and comment.status == CommentStatus.held:
        raise Conflict(
            "this comment was already revised once; a moderator will decide it",
            code="revision_used",
        )
    return False
