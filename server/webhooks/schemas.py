"""Webhook API payloads and answers (they double as the OpenAPI documentation)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

from server.http import Payload
from server.webhooks.models import DeliveryStatus, EventType

NO_NUL = r"^[^\x00]*$"


class WebhookCreate(Payload):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    url: Annotated[str, Strict()] = Field(
        min_length=8,
        max_length=2000,
        pattern=r"^https?://[^\x00\s]+$",
        description="http(s) URL of a public address (private targets need "
        "BARAZA_WEBHOOK_ALLOW_PRIVATE=true).",
    )
    events: list[EventType] = Field(min_length=1, max_length=len(EventType))
    description: Annotated[str, Strict()] | None = Field(
        default=None, max_length=500, pattern=NO_NUL
    )


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[EventType]
    description: str | None
    active: bool
    created_by: str
    created_at: dt.datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="whsec_… signing secret; shown only in this answer.")


class WebhookList(BaseModel):
    items: list[WebhookOut]


class DeliveriesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: DeliveryStatus | None = None
    cursor: str | None = Field(default=None, max_length=40, pattern=r"^[0-9]{1,18}$")
    limit: int = Field(default=50, ge=1, le=200)


class AttemptOut(BaseModel):
    number: int
    attempted_at: dt.datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    id: int
    webhook_id: int
    message_id: str
    event_type: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: dt.datetime | None
    last_error: str | None
    replay_of: int | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    payload: str = Field(description="The exact JSON body sent (and signed).")
    attempts: list[AttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
