"""Where the moderation policy lives: the config row, the two word lists, and a reload cache.

Each of the three is one row with a ``version`` bumped on every save, and every save writes an
audit row (``policy.update`` / ``wordlist.update``) with the before and after. With no rows the
defaults apply: ``PolicyConfig()``, an empty banned list and the shipped default suspect list.

The functions take the caller's session and never commit: they run inside the caller's unit of
work (``async with sessionmaker.begin() as session``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
import math
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from sqlalchemy import CheckConstraint, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, JSONType, UTCDateTime, utcnow
from server.lifecycle.audit import audit_row
from server.moderation.policy.rules import PolicyConfig
from server.moderation.policy.words import (
    WordMatcher,
    clean_wordlist,
    compile_wordlist,
    default_suspect_words,
)

log = logging.getLogger(__name__)

POLICY_ROW_ID = 1


class WordlistKind(enum.StrEnum):
    banned = "banned"
    suspect = "suspect"


class ModerationPolicy(Base):
    """The current policy config: a single row (id 1), versioned."""

    __tablename__ = "moderation_policy"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)
    config: Mapped[dict[str, Any]] = mapped_column(JSONType)
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ModerationWordlist(Base):
    """One word list (``banned`` or ``suspect``): its entries as a JSON list, versioned."""

    __tablename__ = "moderation_wordlists"
    __table_args__ = (CheckConstraint("kind IN ('banned', 'suspect')", name="kind"),)

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    words: Mapped[list[str]] = mapped_column(JSONType)
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


@dataclasses.dataclass(frozen=True, slots=True)
class Wordlist:
    """A word list as stored (version 0 and no author: the default, never saved)."""

    kind: WordlistKind
    words: tuple[str, ...]
    version: int = 0
    updated_by: str | None = None
    updated_at: dt.datetime | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class StoredConfig:
    """The policy config as stored (version 0: the defaults, never saved)."""

    config: PolicyConfig
    version: int = 0
    updated_by: str | None = None
    updated_at: dt.datetime | None = None


class PolicyVersions(NamedTuple):
    config: int
    banned: int
    suspect: int


class LoadedPolicy(NamedTuple):
    """What a worker needs to decide: the config and the two compiled word lists."""

    config: PolicyConfig
    banned: WordMatcher
    suspect: WordMatcher


def default_words(kind: WordlistKind) -> tuple[str, ...]:
    """The list in force before anyone saved one."""
    return default_suspect_words() if kind is WordlistKind.suspect else ()


async def get_policy_config(session: AsyncSession) -> StoredConfig:
    """The stored config, or the defaults (version 0) when none was saved.

    A stored config that no longer validates is logged and replaced by the defaults, so that
    moderation keeps running; saving a valid config repairs it.
    """
    row = await session.get(ModerationPolicy, POLICY_ROW_ID)
    if row is None:
        return StoredConfig(PolicyConfig())
    try:
        config = PolicyConfig.from_dict(row.config)
    except ValueError:
        log.exception("stored moderation policy v%d is invalid; using defaults", row.version)
        config = PolicyConfig()
    return StoredConfig(config, row.version, row.updated_by, row.updated_at)


async def get_wordlist(session: AsyncSession, kind: WordlistKind | str) -> Wordlist:
    """The stored word list of ``kind``, or its default (version 0) when none was saved."""
    kind = WordlistKind(kind)
    row = await session.get(ModerationWordlist, kind.value)
    if row is None:
        return Wordlist(kind, default_words(kind))
    try:
        words = tuple(clean_wordlist(row.words))
    except (TypeError, ValueError):
        log.exception("stored %s word list v%d is invalid; using defaults", kind, row.version)
        words = default_words(kind)
    return Wordlist(kind, words, row.version, row.updated_by, row.updated_at)


async def _read(session: AsyncSession) -> tuple[LoadedPolicy, PolicyVersions]:
    stored = await get_policy_config(session)
    banned = await get_wordlist(session, WordlistKind.banned)
    suspect = await get_wordlist(session, WordlistKind.suspect)
    loaded = LoadedPolicy(
        stored.config, compile_wordlist(banned.words), compile_wordlist(suspect.words)
    )
    return loaded, PolicyVersions(stored.version, banned.version, suspect.version)


async def load_policy(session: AsyncSession) -> LoadedPolicy:
    """The policy in force: ``(config, banned matcher, suspect matcher)``."""
    loaded, _ = await _read(session)
    return loaded


async def policy_versions(session: AsyncSession) -> PolicyVersions:
    """The versions of the config and both lists (0 where never saved): two small queries."""
    config_version = await session.scalar(
        select(ModerationPolicy.version).where(ModerationPolicy.id == POLICY_ROW_ID)
    )
    rows = await session.execute(select(ModerationWordlist.kind, ModerationWordlist.version))
    lists = {kind: version for kind, version in rows.tuples()}
    return PolicyVersions(
        config=config_version or 0,
        banned=lists.get(WordlistKind.banned.value, 0),
        suspect=lists.get(WordlistKind.suspect.value, 0),
    )


async def save_policy_config(
    session: AsyncSession, config: PolicyConfig, actor: str, reason: str | None = None
) -> int:
    """Store ``config`` as the policy in force and audit it; returns the new version."""
    row = await session.get(ModerationPolicy, POLICY_ROW_ID, with_for_update=True)
    before = dict(row.config) if row else PolicyConfig().to_dict()
    after = config.to_dict()
    old_version = row.version if row else 0
    if row is None:
        row = ModerationPolicy(id=POLICY_ROW_ID, version=0, config=after, updated_by=actor)
        session.add(row)
    row.version = old_version + 1
    row.config = after
    row.updated_by = actor
    row.updated_at = utcnow()
    details = {"version": row.version, "before": before, "after": after}
    _audit(session, "policy.update", actor, old_version, row.version, reason, details)
    await session.flush()
    return row.version


async def save_wordlist(
    session: AsyncSession,
    kind: WordlistKind | str,
    words: Iterable[str],
    actor: str,
    reason: str | None = None,
) -> int:
    """Replace the word list of ``kind`` and audit it; returns the new version.

    Entries are cleaned first (see ``clean_wordlist``); a bad entry raises ValueError.
    """
    kind = WordlistKind(kind)
    after = clean_wordlist(words)
    row = await session.get(ModerationWordlist, kind.value, with_for_update=True)
    before = list(row.words) if row else list(default_words(kind))
    old_version = row.version if row else 0
    if row is None:
        row = ModerationWordlist(kind=kind.value, version=0, words=after, updated_by=actor)
        session.add(row)
    row.version = old_version + 1
    row.words = after
    row.updated_by = actor
    row.updated_at = utcnow()
    before_set, after_set = set(before), set(after)
    details = {
        "kind": kind.value,
        "version": row.version,
        "added": [word for word in after if word not in before_set],
        "removed": [word for word in before if word not in after_set],
        "before": before,
        "after": after,
    }
    _audit(session, "wordlist.update", actor, old_version, row.version, reason, details)
    await session.flush()
    return row.version


def _audit(
    session: AsyncSession,
    action: str,
    actor: str,
    before: int,
    after: int,
    reason: str | None,
    details: dict[str, Any],
) -> None:
    session.add(
        audit_row(
            actor=actor,
            action=action,
            before=str(before),
            after=str(after),
            reason=reason,
            details=details,
        )
    )


class PolicyCache:
    """The policy in force, re-read only when a version changed.

    ``get`` costs two tiny version queries (at most once per ``check_interval`` seconds);
    the config and lists are read and compiled again only when one of them was saved.
    """

    def __init__(
        self, *, check_interval: float = 0.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if check_interval < 0:
            raise ValueError("check_interval must not be negative")
        self._check_interval = check_interval
        self._clock = clock
        self._loaded: LoadedPolicy | None = None
        self._versions: PolicyVersions | None = None
        self._checked_at = -math.inf
        self.reloads = 0

    @property
    def versions(self) -> PolicyVersions | None:
        """The versions of what is cached (``None`` before the first ``get``)."""
        return self._versions

    def invalidate(self) -> None:
        """Forget what is cached: the next ``get`` reads everything again."""
        self._loaded = None
        self._versions = None
        self._checked_at = -math.inf

    async def get(self, session: AsyncSession) -> LoadedPolicy:
        """The current policy, from the cache when no version changed."""
        now = self._clock()
        if self._loaded is not None and now - self._checked_at < self._check_interval:
            return self._loaded
        if self._loaded is not None and await policy_versions(session) == self._versions:
            self._checked_at = now
            return self._loaded
        self._loaded, self._versions = await _read(session)
        self._checked_at = now
        self.reloads += 1
        return self._loaded
