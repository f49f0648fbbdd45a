"""OpenAPI descriptions of the review API's operations (attached in ``views`` by ``@document``)."""

from __future__ import annotations

from server.moderation.schemas import (
    AuditPage,
    DecisionRequest,
    DecisionResponse,
    PageQuery,
    PolicyBody,
    PolicyOut,
    Queue,
    QueueCounts,
    QueueCountsQuery,
    QueueItem,
    QueuePage,
    QueueQuery,
    ReevaluateRequest,
    ReevaluateResponse,
    StatusChangeResponse,
    UserPage,
    UserStatusChange,
    WordlistBody,
    WordlistOut,
)
from server.openapi import Operation, Reply

TAGS = ("moderation",)
SETTINGS_TAGS = ("moderation settings",)
QUEUE_PATH = {"queue": {"type": "string", "enum": [q.value for q in Queue]}}
KIND_PATH = {"kind": {"type": "string", "enum": ["banned", "suspect"]}}

COUNTS = Operation(
    summary="Sizes of every review queue",
    tags=TAGS,
    query=QueueCountsQuery,
    responses={200: Reply("Counts by queue.", QueueCounts)},
)
QUEUE = Operation(
    summary="One page of a review queue",
    description=(
        "Filter by article, author, creation time and decision reason; order by risk "
        "(highest first, unscored first) or time; follow `next_cursor` for the next page."
    ),
    tags=TAGS,
    query=QueueQuery,
    path=QUEUE_PATH,
    responses={200: Reply("Items with everything needed to decide them.", QueuePage)},
)
DECISIONS = Operation(
    summary="Approve, reject, feature or unfeature up to 500 comments",
    description=(
        "Each comment is decided atomically under a row lock and gets its own result; "
        "unknown, deleted or moved-on comments fail without stopping the others. A comment "
        "already in the requested state is answered `changed: false` with the last action. "
        "Rejecting needs a `reason` code."
    ),
    tags=TAGS,
    body=DecisionRequest,
    responses={200: Reply("A result per comment, in request order.", DecisionResponse)},
)
REEVALUATE = Operation(
    summary="Send pending and held comments through the current policy again",
    description=(
        "Held comments return to pending (audited) and are queued with the pending ones for "
        "the scoring workers, which decide them with the policy and word lists in force."
    ),
    tags=TAGS,
    body=ReevaluateRequest,
    responses={200: Reply("What was sent back.", ReevaluateResponse)},
)
COMMENT = Operation(
    summary="A comment as moderators see it",
    tags=TAGS,
    responses={200: Reply("The comment with scores, rule, reports and context.", QueueItem)},
)
COMMENT_HISTORY = Operation(
    summary="Audit log of a comment, oldest first",
    tags=TAGS,
    query=PageQuery,
    responses={200: Reply("Every action on the comment.", AuditPage)},
)
USER = Operation(
    summary="A user's status, history counts and recent comments",
    tags=TAGS,
    responses={200: Reply("The user.", UserPage)},
)
USER_HISTORY = Operation(
    summary="Audit log about a user, newest first",
    tags=TAGS,
    query=PageQuery,
    responses={200: Reply("Decisions on their comments and sanctions.", AuditPage)},
)
USER_STATUS = Operation(
    summary="Set a user's status (active, premod, suspended until, banned)",
    description="A ban or suspension can also reject the user's pending and held comments.",
    tags=TAGS,
    body=UserStatusChange,
    responses={200: Reply("The user as changed.", StatusChangeResponse)},
)
POLICY_GET = Operation(
    summary="The moderation policy in force",
    tags=SETTINGS_TAGS,
    responses={200: Reply("The config and its version.", PolicyOut)},
)
POLICY_PUT = Operation(
    summary="Replace the moderation policy (versioned, audited)",
    description="Old comments are not re-decided; use POST /moderation/reevaluate for that.",
    tags=SETTINGS_TAGS,
    body=PolicyBody,
    responses={200: Reply("The new config and version.", PolicyOut)},
)
WORDLIST_GET = Operation(
    summary="A word list (banned: reject, suspect: hold)",
    tags=SETTINGS_TAGS,
    path=KIND_PATH,
    responses={200: Reply("The list and its version.", WordlistOut)},
)
WORDLIST_PUT = Operation(
    summary="Replace a word list (versioned, audited)",
    description="Old comments are not re-decided; use POST /moderation/reevaluate for that.",
    tags=SETTINGS_TAGS,
    path=KIND_PATH,
    body=WordlistBody,
    responses={200: Reply("The cleaned list and its new version.", WordlistOut)},
)
