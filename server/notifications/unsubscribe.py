"""Signed one-click unsubscribe tokens: the user id and an HMAC-SHA256 under a key derived
from the JWT secret (no table of tokens; a token cannot be forged for another reader)."""

from __future__ import annotations

import base64
import hashlib
import hmac

_PURPOSE = b"baraza/unsubscribe/v1"


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(user_id: str, secret: str) -> str:
    mac = hmac.new(_key(secret), user_id.encode(), hashlib.sha256).digest()
    return f"{_b64(user_id.encode())}.{_b64(mac)}"


def verify(token: str, secret: str) -> str | None:
    """The user id a token was signed for, or None if it was not signed here."""
    user_part, _, mac_part = token.partition(".")
    try:
        user_id = _unb64(user_part).decode()
        mac = _unb64(mac_part)
    except (ValueError, UnicodeDecodeError):
        return None
    expected = hmac.new(_key(secret), user_id.encode(), hashlib.sha256).digest()
    return user_id if user_id and hmac.compare_digest(mac, expected) else None
