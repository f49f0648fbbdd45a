"""Request parsing and JSON responses shared by every view."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import orjson
from aiohttp import web
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, ValidationError

from server.errors import BadRequest, Unprocessable

M = TypeVar("M", bound=BaseModel)


# A text's schema pattern when the server refuses it blank (whitespace only) or holding NUL.
NON_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"




def _rfc3339_text(value: object) -> object:
    # Lax parsing would read 0.5 or "0.5" as seconds since 1970; the schema promises date-time.
    if isinstance(value, str) and len(value) > 10 and value[:4].isdigit() and value[4] == "-":
        return value
    raise ValueError("must be an RFC 3339 date-time such as 2026-01-31T18:00:00Z")


# A date-time as the document states it (`format: date-time`): text with a timezone.
Rfc3339 = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]


class Payload(BaseModel):
    """Base of every request body: unknown fields and loose types are refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _validation_details(exc: ValidationError, whole: str) -> list[dict[str, str]]:
    """One entry per problem; ``whole`` names the input when a problem is about all of it."""
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or whole, "problem": err["msg"]}
        for err in exc.errors()
    ]


def _summary(details: list[dict[str, str]]) -> str:
    first = details[0]
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return f"{first['field']}: {first['problem']}{more}"


def validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = _validation_details(exc, "(body)")
        raise Unprocessable(_summary(details), code="invalid", details=details) from exc


async def parse_json(request: web.Request, model: type[M]) -> M:
    """The request body as ``model``, or a 400 (not JSON) / 413 (too big) / 422 (wrong shape)."""
    raw = await request.read()
    if not raw:
        raise BadRequest("a JSON body is required", code="invalid_json")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not valid JSON: {exc}", code="invalid_json") from exc
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object", code="invalid_json")
    if b"." in raw or b"e" in raw or b"E" in raw:
        # JSON Schema counts 2.0 as an integer, so the document promises integer fields take it.
        data = _integral(data)
    if b"\\u0000" in raw and _has_nul(data):
        # PostgreSQL text cannot hold NUL, and no reader means to send one.
        raise Unprocessable("text must not contain NUL characters", code="invalid")
    return validate(model, data)


def _integral(value: Any) -> Any:
    """``value`` with every whole float (``2.0``) an int, where a float holds it exactly."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def parse_query(request: web.Request, model: type[M]) -> M:
    """Query parameters as ``model`` (every field a string to coerce) or a 400."""
    params: dict[str, Any] = dict(request.query)
    if len(params) != len(request.query):
        raise BadRequest("query parameters must not repeat", code="invalid_query")
    if any("\x00" in value for value in params.values()):
        raise BadRequest("query parameters must not contain NUL characters", code="invalid_query")
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        details = _validation_details(exc, "(query)")
        raise BadRequest(_summary(details), code="invalid_query", details=details) from exc


def parse_id(raw: str, name: str = "id") -> int:
    """A positive integer id from a path segment, or a 400."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18 or int(raw) <= 0:
        raise BadRequest(f"{name} must be a positive integer", code="invalid_id")
    return int(raw)


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps(data, default=_default),
        content_type="application/json",
        headers=headers,
    )


__all__ = ["Payload", "json_response", "parse_id", "parse_json", "parse_query", "validate"]
