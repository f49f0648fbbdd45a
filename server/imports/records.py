"""What every parser yields: one comment of the source system, plus why some are skipped."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
from dataclasses import dataclass

from server.ids import ARTICLE_ID

MAX_USER_ID = 128


class Source(enum.StrEnum):
    disqus = "disqus"
    wordpress = "wordpress"
    isso = "isso"


class SourceStatus(enum.StrEnum):
    """The source's state, before mapping to Baraza's statuses."""

    approved = "approved"
    pending = "pending"
    spam = "spam"
    deleted = "deleted"


@dataclass(frozen=True, slots=True)
class SourceComment:
    source_id: str
    article_id: str
    article_title: str | None
    article_url: str | None
    parent_source_id: str | None
    author_key: str
    author_name: str
    body: str
    created_at: dt.datetime
    status: SourceStatus


@dataclass(frozen=True, slots=True)
class Skipped:
    """An item of the source that is not a comment to import, and why."""

    source_id: str
    reason: str


Item = SourceComment | Skipped

_UNSAFE = re.compile(r"[^A-Za-z0-9._:~-]+")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def article_id_for(preferred: str | None, fallback: str) -> str:
    """The source's own article key when it is a valid Baraza article id, else a slug of it,
    else ``fallback`` (always valid)."""
    for candidate in (preferred, _slug(preferred)):
        if candidate and ARTICLE_ID.match(candidate):
            return candidate
    return fallback


def _slug(value: str | None) -> str | None:
    if not value:
        return None
    value = _SCHEME.sub("", value.strip())
    slug = _UNSAFE.sub("-", value.strip("/")).strip("-._:~")
    return slug[:128] if slug else None


def user_id_for(source: Source, key: str) -> str:
    """``source:key``; a key too long for an id (or empty) becomes a stable hash."""
    key = key.strip()
    prefix = f"{source.value}:"
    if key and len(prefix) + len(key) <= MAX_USER_ID and "\x00" not in key:
        return prefix + key
    return prefix + "h-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def anonymous_key(email: str | None, name: str | None) -> str:
    """Authors without an account: one user per e-mail (or per name), never the e-mail itself."""
    basis = (email or "").strip().lower() or "name:" + (name or "").strip()
    return "anon-" + hashlib.sha256(basis.encode()).hexdigest()[:20]


def parse_time(raw: str | None) -> dt.datetime | None:
    """ISO 8601 or ``YYYY-MM-DD HH:MM:SS`` (UTC when no offset is given)."""
    if not raw or not raw.strip():
        return None
    text = raw.strip().replace("Z", "+00:00")
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)
