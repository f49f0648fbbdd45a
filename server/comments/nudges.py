"""The author's side of a nudge: one revision of a comment held for its toxicity scores.

The scoring workers mark such a comment ``nudge = "offered"`` and tell its author
(``workers.nudge``). Editing it within the edit window uses the offer (``"revised"``) and
sends it back to scoring; once used, a held comment cannot be edited again: a moderator
decides it.
"""

from __future__ import annotations

from prometheus_client import Counter

from server.comments.models import Comment, CommentStatus
from server.errors import Conflict

OFFERED = "offered"
REVISED = "revised"

NUDGED_REVISIONS = Counter(
    "baraza_nudged_revisions_total", "Nudged comments their authors revised (and re-scored)"
)


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
