"""Payloads and answers of a reader's own data (they double as the OpenAPI documentation)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, Strict

from server.http import Payload


class SettingsUpdate(Payload):
    reply_emails: Annotated[bool, Strict()] = Field(
        description="E-mail me when someone replies to or a moderator features my comment "
        "(needs an `email` claim in the token)."
    )


class SettingsOut(BaseModel):
    reply_emails: bool
    email: str | None


class ExportUser(BaseModel):
    id: str
    name: str
    status: str
    created_at: dt.datetime
    last_seen_at: dt.datetime


class ExportComment(BaseModel):
    id: int
    article_id: str
    parent_id: int | None
    body: str
    status: str
    featured: bool
    reactions: dict[str, int]
    created_at: dt.datetime
    edited_at: dt.datetime | None
    decision_reason: str | None


class ExportReaction(BaseModel):
    comment_id: int
    kind: str
    created_at: dt.datetime


class ExportReport(BaseModel):
    comment_id: int
    reason: str
    note: str | None
    created_at: dt.datetime


class Export(BaseModel):
    """Everything Baraza holds about the reader."""

    exported_at: dt.datetime
    user: ExportUser | None
    comments: list[ExportComment]
    reactions: list[ExportReaction]
    reports: list[ExportReport]
    settings: SettingsOut


class EraseRequest(Payload):
    reason: Annotated[str, Strict()] | None = Field(
        default=None, max_length=500, pattern=r"^[^\x00]*$"
    )


class Erased(BaseModel):
    user_id: str
    comments: int = Field(description="Comments turned into placeholders.")
    reactions: int
    reports: int
    erased_at: dt.datetime
