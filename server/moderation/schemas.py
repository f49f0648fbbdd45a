"""The review API's request payloads, query strings and response shapes.

Response models double as the OpenAPI documentation: the views build them, so what the
document promises is what the code returns.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from server.comments.models import CommentStatus, ReportReason
from server.cursors import decode_cursor, encode_cursor, foreign_cursor
from server.http import Payload, Rfc3339
from server.ids import ARTICLE_ID_PATTERN
from server.users.models import UserStatus

MAX_BULK_IDS = 500
# PostgreSQL text and JSONB cannot hold NUL: refused at the boundary rather than failing there.
NO_NUL = r"^[^\x00]*$"


CommentId = Annotated[int, Strict(), Field(gt=0, lt=10**18)]


class Queue(enum.StrEnum):
    pending = "pending"
    held = "held"
    reported = "reported"
    rejected = "rejected"
    approved = "approved"


class QueueOrder(enum.StrEnum):
    risk = "risk"
    newest = "newest"
    oldest = "oldest"


class DecisionAction(enum.StrEnum):
    approve = "approve"
    reject = "reject"
    feature = "feature"
    unfeature = "unfeature"


# Readers report and moderators reject with the same reasons: one list.
ReasonCode = ReportReason


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QueueCountsQuery(_Query):
    article_id: str | None = Field(default=None, pattern=ARTICLE_ID_PATTERN)


class QueueQuery(_Query):
    article_id: str | None = Field(default=None, pattern=ARTICLE_ID_PATTERN)
    author_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=NO_NUL)
    since: Rfc3339 | None = None
    until: Rfc3339 | None = None
    reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=NO_NUL,
        description="Substring of the decision reason (e.g. a rule or label name, 'reports').",
    )
    order: QueueOrder = QueueOrder.risk
    cursor: str | None = Field(default=None, max_length=300)
    limit: int = Field(default=20, ge=1, le=100)


class PageQuery(_Query):
    cursor: str | None = Field(default=None, max_length=300)
    limit: int = Field(default=50, ge=1, le=200)


class DecisionRequest(Payload):
    # Lax so enums parse from JSON strings; ids, flags and texts stay strict field by field.
    # The schema says what ``reason_required`` enforces: a reject names its reason.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=False,
        json_schema_extra={
            "if": {"properties": {"action": {"const": "reject"}}, "required": ["action"]},
            "then": {"required": ["reason"], "properties": {"reason": {"type": "string"}}},
        },
    )

    comment_ids: list[CommentId] = Field(min_length=1, max_length=MAX_BULK_IDS)
    action: DecisionAction
    reason: ReasonCode | None = Field(default=None, description="Required to reject.")
    note: Annotated[str, Strict()] | None = Field(default=None, max_length=500, pattern=NO_NUL)
    queue: Queue | None = Field(
        default=None,
        description="Apply only to comments still in this queue; the others are answered "
        "with a 'conflict' result showing what changed them.",
    )


class UserStatusChange(Payload):
    # The schema says what ``check_change`` enforces (all but 'until' being in the future).
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=False,
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"status": {"const": "suspended"}}},
                    "then": {"required": ["until"], "properties": {"until": {"type": "string"}}},
                    "else": {"properties": {"until": {"type": "null"}}},
                },
                {
                    "if": {"properties": {"status": {"enum": ["active", "premod"]}}},
                    "then": {"properties": {"reject_comments": {"const": False}}},
                },
            ]
        },
    )

    status: UserStatus
    until: Rfc3339 | None = Field(default=None, description="Required for 'suspended'.")
    reason: Annotated[str, Strict()] = Field(min_length=1, max_length=500, pattern=NO_NUL)
    reject_comments: Annotated[bool, Strict()] = Field(
        default=False,
        description="Also reject the user's pending and held comments in the same action.",
    )


class CommentStatusAwaiting(enum.StrEnum):
    pending = "pending"
    held = "held"


class ReevaluateRequest(Payload):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    statuses: list[CommentStatusAwaiting] = Field(
        default_factory=lambda: [CommentStatusAwaiting.pending, CommentStatusAwaiting.held],
        min_length=1,
        max_length=2,
    )
    article_id: str | None = Field(default=None, pattern=ARTICLE_ID_PATTERN)
    limit: Annotated[int, Strict()] = Field(default=1000, ge=1, le=5000)


# Responses


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class AuthorSummary(_Out):
    id: str
    name: str | None
    status: UserStatus
    suspended_until: dt.datetime | None
    approved_count: int
    rejected_count: int
    reported_count: int


class ArticleSummary(_Out):
    id: str
    title: str | None
    url: str | None
    comments: str
    moderation: str


class ParentExcerpt(_Out):
    id: int
    author_id: str
    status: CommentStatus
    excerpt: str


class ReportSummary(_Out):
    count: int
    reasons: dict[str, int]
    notes: list[str]


class QueueItem(_Out):
    id: int
    status: CommentStatus
    body: str
    html: str
    featured: bool
    depth: int
    root_id: int | None
    created_at: dt.datetime
    edited_at: dt.datetime | None
    published_at: dt.datetime | None
    decided_at: dt.datetime | None
    article: ArticleSummary
    author: AuthorSummary
    parent: ParentExcerpt | None
    scores: dict[str, float] | None
    risk: float | None
    model: str | None
    decision_reason: str | None
    rule: str | None = Field(description="The rule that fired in the latest decision.")
    reports: ReportSummary


class QueuePage(_Out):
    queue: Queue
    order: QueueOrder
    items: list[QueueItem]
    next_cursor: str | None


class QueueCounts(_Out):
    article_id: str | None
    counts: dict[Queue, int]


class ItemError(_Out):
    code: str
    message: str


class LastAction(_Out):
    actor_id: str
    action: str
    created_at: dt.datetime


class DecisionResult(_Out):
    id: int
    ok: bool
    changed: bool
    status: CommentStatus | None
    previous_status: CommentStatus | None
    featured: bool | None
    error: ItemError | None = None
    last_action: LastAction | None = None


class DecisionResponse(_Out):
    action: DecisionAction
    applied: int
    unchanged: int
    failed: int
    results: list[DecisionResult]


class AuditEntry(_Out):
    id: int
    actor_id: str
    action: str
    comment_id: int | None
    subject_user_id: str | None
    before: str | None
    after: str | None
    reason: str | None
    details: dict[str, Any] | None
    created_at: dt.datetime


class AuditPage(_Out):
    items: list[AuditEntry]
    next_cursor: str | None


class UserComment(_Out):
    id: int
    article_id: str
    status: CommentStatus
    excerpt: str
    risk: float | None
    decision_reason: str | None
    created_at: dt.datetime


class UserPage(_Out):
    id: str
    name: str
    status: UserStatus
    effective_status: UserStatus
    suspended_until: dt.datetime | None
    status_reason: str | None
    approved_count: int
    rejected_count: int
    reported_count: int
    pending_count: int
    held_count: int
    created_at: dt.datetime
    last_seen_at: dt.datetime
    recent_comments: list[UserComment]


class StatusChangeResponse(_Out):
    user: UserPage
    rejected_comment_ids: list[int]


class ReevaluateResponse(_Out):
    examined: int = Field(description="Pending and held comments found (at most 'limit').")
    reopened: int = Field(description="Held comments moved back to pending.")
    queued: int = Field(description="Comments handed to the scoring workers.")
    comment_ids: list[int]


# Cursors


class AuditCursor(BaseModel):
    """Position in an audit listing: the last entry's id."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    k: str
    id: int = Field(gt=0)


class QueueCursor(BaseModel):
    """Position in a queue: which listing, the last item's id and (by risk) its risk."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    q: str
    o: str
    id: int = Field(gt=0)
    r: float | None = None

    def encode(self) -> str:
        return encode_cursor(self)

    @classmethod
    def decode(cls, token: str, queue: Queue, order: QueueOrder) -> QueueCursor:
        cursor = decode_cursor(cls, token)
        if cursor.q != queue.value or cursor.o != order.value:
            raise foreign_cursor()
        return cursor


# Policy and word lists (admin)

LabelName = Literal[
    "toxicity",
    "severe_toxicity",
    "obscene",
    "threat",
    "insult",
    "identity_attack",
    "sexual_explicit",
]
Score = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class ThresholdsBody(Payload):
    """Hold at or above ``hold``, reject at or above ``reject``; null or left out: off."""

    hold: Score | None = None
    reject: Score | None = None


class SpamBody(Payload):
    """Spam thresholds (0 switches a rule off); keys left out keep their defaults."""

    link_min_approved: int | None = Field(default=None, ge=0, le=1_000_000)
    duplicate_count: int | None = Field(default=None, ge=0, le=1_000_000)
    duplicate_window_seconds: int | None = Field(default=None, ge=1, le=1_000_000)
    burst_author_count: int | None = Field(default=None, ge=0, le=1_000_000)
    burst_ip_count: int | None = Field(default=None, ge=0, le=1_000_000)
    burst_window_seconds: int | None = Field(default=None, ge=1, le=1_000_000)
    commercial: bool | None = None


class LanguagesBody(Payload):
    unsupported: Literal["score", "hold", "words_only"] | None = None


PhraseRuleLine = Annotated[str, Field(max_length=2000, pattern=NO_NUL)]


class PolicyBody(Payload):
    """A new policy config. Keys left out (or null) keep their defaults; a label left out of
    ``thresholds`` keeps its default thresholds."""

    thresholds: dict[LabelName, ThresholdsBody] | None = None
    new_author_hold_count: int | None = Field(default=None, ge=0, le=10_000)
    report_hold_count: int | None = Field(default=None, ge=0, le=10_000)
    hold_unscored: bool | None = None
    phrase_rules: list[PhraseRuleLine] | None = Field(
        default=None,
        max_length=4000,
        description="Threat and dehumanisation rule lines; null: the shipped default list.",
    )
    spam: SpamBody | None = None
    languages: LanguagesBody | None = None
    reason: str | None = Field(default=None, max_length=500, pattern=NO_NUL)


class WordlistBody(Payload):
    words: list[Annotated[str, Field(max_length=100, pattern=NO_NUL)]] = Field(max_length=10_000)
    reason: str | None = Field(default=None, max_length=500, pattern=NO_NUL)


class Thresholds(_Out):
    hold: float | None
    reject: float | None


class SpamOut(_Out):
    link_min_approved: int
    duplicate_count: int
    duplicate_window_seconds: int
    burst_author_count: int
    burst_ip_count: int
    burst_window_seconds: int
    commercial: bool


class LanguagesOut(_Out):
    unsupported: str


class PolicyConfigOut(_Out):
    thresholds: dict[str, Thresholds]
    new_author_hold_count: int
    report_hold_count: int
    hold_unscored: bool
    phrase_rules: list[str] | None = Field(description="null: the shipped default list")
    spam: SpamOut
    languages: LanguagesOut


class PolicyOut(_Out):
    version: int = Field(description="0 until a policy is saved: the defaults are in force.")
    updated_by: str | None
    updated_at: dt.datetime | None
    config: PolicyConfigOut


class WordlistOut(_Out):
    kind: str
    version: int = Field(description="0 until the list is saved: the default is in force.")
    words: list[str]
    updated_by: str | None
    updated_at: dt.datetime | None
