"""The live protocol's messages, typed both ways, and their encodings (WebSocket frame, SSE).

A message the server sends to many connections is encoded once into a :class:`Frame`; every
connection writes the same bytes.
"""

from __future__ import annotations

import struct
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from server.live.base import Event, EventType

# Close codes (RFC 6455 §7.4; 4000-4999 are ours).
CLOSE_GOING_AWAY = 1001
CLOSE_TOO_BIG = 1009
CLOSE_SLOW_CONSUMER = 4008
CLOSE_TOO_MANY_ERRORS = 4009


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Client → server.
class Subscribe(_Op):
    op: Literal["subscribe"]
    channel: str = Field(max_length=200)
    since: int | None = Field(default=None, ge=0, le=2**53)


class Unsubscribe(_Op):
    op: Literal["unsubscribe"]
    channel: str = Field(max_length=200)


class Ping(_Op):
    op: Literal["ping"]


class Auth(_Op):
    op: Literal["auth"]
    token: str = Field(max_length=8192)


ClientOp = Annotated[Subscribe | Unsubscribe | Ping | Auth, Field(discriminator="op")]
_CLIENT_OP: TypeAdapter[Subscribe | Unsubscribe | Ping | Auth] = TypeAdapter(ClientOp)


class ProtocolError(Exception):
    """A client message we cannot act on; answered with an ``error`` op."""

    def __init__(self, code: str, message: str, channel: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.channel = code, message, channel


def parse_client_op(raw: str | bytes) -> Subscribe | Unsubscribe | Ping | Auth:
    """One client message, or ProtocolError(``invalid_json`` / ``invalid_op``)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError("invalid_json", f"message is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("op"), str):
        raise ProtocolError("invalid_op", "message must be a JSON object with a string 'op'")
    try:
        return _CLIENT_OP.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "op"
        raise ProtocolError("invalid_op", f"{where}: {first['msg']}") from exc


# Server → client.
class Subscribed(_Op):
    op: Literal["subscribed"] = "subscribed"
    channel: str
    offset: int
    recovered: bool


class Unsubscribed(_Op):
    op: Literal["unsubscribed"] = "unsubscribed"
    channel: str


class EventMessage(_Op):
    op: Literal["event"] = "event"
    channel: str
    offset: int
    type: EventType
    data: dict[str, Any]
    time: float


class Presence(_Op):
    op: Literal["presence"] = "presence"
    channel: str
    count: int


class Authenticated(_Op):
    op: Literal["authenticated"] = "authenticated"
    user: str
    roles: list[str]


class Pong(_Op):
    op: Literal["pong"] = "pong"


class ErrorMessage(_Op):
    op: Literal["error"] = "error"
    code: str
    message: str
    channel: str | None = None


ServerMessage = (
    Subscribed | Unsubscribed | EventMessage | Presence | Authenticated | Pong | ErrorMessage
)

_TEXT = 0x81  # FIN + text opcode; servers never mask (RFC 6455 §5.1)


def ws_frame(payload: bytes) -> bytes:
    """A complete unmasked, uncompressed WebSocket text frame carrying ``payload``."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", _TEXT, size)
    elif size < 65536:
        header = struct.pack("!BBH", _TEXT, 126, size)
    else:
        header = struct.pack("!BBQ", _TEXT, 127, size)
    return header + payload


class Frame:
    """One server message encoded once: JSON, the WebSocket frame, and (lazily) the SSE block."""

    __slots__ = ("_sse", "name", "offset", "payload", "ws")

    def __init__(self, message: ServerMessage, *, offset: int = 0, name: str = "") -> None:
        self.payload = message.model_dump_json(exclude_none=True).encode()
        self.ws = ws_frame(self.payload)
        self.offset = offset  # the channel offset of an event frame, else 0
        self.name = name or message.op
        self._sse: bytes | None = None

    @property
    def sse(self) -> bytes:
        """The Server-Sent Events block: ``id`` is the offset, ``event`` the event type."""
        if self._sse is None:
            head = f"id: {self.offset}\n" if self.offset else ""
            head += f"event: {self.name}\ndata: "
            self._sse = head.encode() + self.payload + b"\n\n"
        return self._sse


def event_frame(event: Event) -> Frame:
    message = EventMessage(
        channel=event.channel, offset=event.offset, type=event.type, data=event.data,
        time=event.time,
    )
    return Frame(message, offset=event.offset, name=event.type.value)


def presence_frame(channel: str, count: int) -> Frame:
    return Frame(Presence(channel=channel, count=count))
