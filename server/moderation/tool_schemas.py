"""Payloads and answers of the console's moderation tools: dead letters, the policy preview
and re-evaluation over stored scores, and the word-list test box."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, Strict

from server.comments.models import CommentStatus
from server.http import Payload
from server.ids import ARTICLE_ID_PATTERN
from server.moderation.schemas import (
    MAX_BULK_IDS,
    NO_NUL,
    AuditEntry,
    CommentId,
    ItemError,
    PolicyBody,
    QueueItem,
    _Out,
    _Query,
)

MAX_PREVIEW = 5000
MAX_LISTED_CHANGES = 500
MAX_TEST_TEXT = 10_000

# ---------------------------------------------------------------- dead letters


class DeadLetterQuery(_Query):
    cursor: str | None = Field(default=None, max_length=40, pattern=r"^[0-9]{1,18}$")
    limit: int = Field(default=50, ge=1, le=200)


class DeadLetter(_Out):
    """A comment whose scoring failed until it was given up and held for a person."""

    comment: QueueItem
    error: str | None = Field(description="The scorer's last error.")
    failures: int = Field(description="How many times its scoring was given up.")
    failed_at: dt.datetime | None


class DeadLetterPage(_Out):
    items: list[DeadLetter]
    next_cursor: str | None


class DeadLetterDetail(DeadLetter):
    history: list[AuditEntry] = Field(description="The comment's audit log, oldest first.")


class ReplayRequest(Payload):
    comment_ids: list[CommentId] = Field(min_length=1, max_length=MAX_BULK_IDS)


class ReplayResult(_Out):
    id: int
    ok: bool
    error: ItemError | None = None


class ReplayResponse(_Out):
    replayed: int
    failed: int
    results: list[ReplayResult]


# ---------------------------------------------------------------- policy preview


class PreviewRequest(Payload):
    """Which comments to look at, and the policy to try (the policy in force when left out)."""

    config: PolicyBody | None = None
    limit: Annotated[int, Strict()] = Field(default=500, ge=1, le=MAX_PREVIEW)
    article_id: str | None = Field(default=None, pattern=ARTICLE_ID_PATTERN)


class ApplyRequest(Payload):
    limit: Annotated[int, Strict()] = Field(default=500, ge=1, le=MAX_PREVIEW)
    article_id: str | None = Field(default=None, pattern=ARTICLE_ID_PATTERN)


class Outcomes(_Out):
    approved: int
    held: int
    rejected: int


class PreviewChange(_Out):
    id: int
    article_id: str
    excerpt: str
    risk: float | None
    before: CommentStatus
    after: CommentStatus
    rule: str
    reason: str


class PreviewResponse(_Out):
    examined: int = Field(description="Machine-decided comments with stored scores looked at.")
    current: Outcomes = Field(description="Their statuses now.")
    proposed: Outcomes = Field(description="Their statuses under the policy tried.")
    changed: int
    changes: list[PreviewChange] = Field(description=f"At most {MAX_LISTED_CHANGES}, newest first.")
    applied: int = Field(0, description="Comments re-decided (re-evaluation only).")


# ---------------------------------------------------------------- word-list test


class WordTestRequest(Payload):
    """A text to test; lists given here are tried instead of the stored ones (unsaved edits)."""

    text: Annotated[str, Strict()] = Field(min_length=1, max_length=MAX_TEST_TEXT, pattern=NO_NUL)
    banned: list[Annotated[str, Field(max_length=1000, pattern=NO_NUL)]] | None = Field(
        default=None, max_length=10_000
    )
    suspect: list[Annotated[str, Field(max_length=1000, pattern=NO_NUL)]] | None = Field(
        default=None, max_length=10_000
    )


class WordTestResponse(_Out):
    normalized: str = Field(description="The text as the matcher reads it.")
    banned: list[str] = Field(description="Banned entries found (reject).")
    suspect: list[str] = Field(description="Suspect entries found (hold).")
    outcome: CommentStatus = Field(description="What the word lists alone would do.")
