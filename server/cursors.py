"""The one codec of opaque list cursors: a small model as URL-safe base64 JSON.

Every listing keeps its own cursor model (which listing, the last row's keys) and checks that a
decoded cursor belongs to it; the encoding and the 400 for a bad token are the same everywhere.
"""

from __future__ import annotations

import base64
from typing import TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from server.errors import BadRequest

C = TypeVar("C", bound=BaseModel)


def encode_cursor(model: BaseModel) -> str:
    """``model`` as an opaque token (unset optional fields left out)."""
    raw = orjson.dumps(model.model_dump(exclude_none=True))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cls: type[C], token: str) -> C:
    """The ``cls`` a token encodes, or a 400 ``invalid_cursor``."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return cls.model_validate(orjson.loads(raw))
    except (ValueError, ValidationError, orjson.JSONDecodeError) as exc:
        raise BadRequest("cursor is not valid", code="invalid_cursor") from exc


def foreign_cursor() -> BadRequest:
    """The error for a valid cursor of another listing (raise it)."""
    return BadRequest("cursor belongs to another listing", code="invalid_cursor")
