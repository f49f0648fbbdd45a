"""Reading and saving the policy config and the word lists (admins), audited and versioned.

Saving never re-decides old comments: moderators ask for that explicitly
(``POST /moderation/reevaluate``).
"""

from __future__ import annotations

from server.auth import Principal
from server.db import Sessionmaker
from server.errors import Unprocessable
from server.moderation.policy.rules import PolicyConfig
from server.moderation.policy.store import (
    StoredConfig,
    Wordlist,
    WordlistKind,
    get_policy_config,
    get_wordlist,
    save_policy_config,
    save_wordlist,
)
from server.moderation.schemas import PolicyBody, PolicyOut, WordlistBody, WordlistOut


def _policy_out(stored: StoredConfig) -> PolicyOut:
    return PolicyOut.model_validate(
        {
            "version": stored.version,
            "updated_by": stored.updated_by,
            "updated_at": stored.updated_at,
            "config": stored.config.to_dict(),
        }
    )


def _wordlist_out(wordlist: Wordlist) -> WordlistOut:
    return WordlistOut(
        kind=wordlist.kind.value,
        version=wordlist.version,
        words=list(wordlist.words),
        updated_by=wordlist.updated_by,
        updated_at=wordlist.updated_at,
    )


async def read_policy(*, sessionmaker: Sessionmaker) -> PolicyOut:
    async with sessionmaker() as session:
        return _policy_out(await get_policy_config(session))


async def write_policy(
    *, sessionmaker: Sessionmaker, principal: Principal, body: PolicyBody
) -> PolicyOut:
    """Validate and store a new policy config; the audit log keeps the old one."""
    # A top-level null keeps the default, as leaving the key out does (the schema allows it).
    given = body.model_dump(exclude_unset=True, exclude={"reason"})
    data = {key: value for key, value in given.items() if value is not None}
    try:
        config = PolicyConfig.from_dict(data)
    except ValueError as exc:
        raise Unprocessable(str(exc), code="invalid_policy") from exc
    async with sessionmaker.begin() as session:
        await save_policy_config(session, config, principal.sub, body.reason)
        return _policy_out(await get_policy_config(session))


async def read_wordlist(*, sessionmaker: Sessionmaker, kind: WordlistKind) -> WordlistOut:
    async with sessionmaker() as session:
        return _wordlist_out(await get_wordlist(session, kind))


async def write_wordlist(
    *, sessionmaker: Sessionmaker, principal: Principal, kind: WordlistKind, body: WordlistBody
) -> WordlistOut:
    """Replace a word list (entries cleaned and validated); the audit log keeps the diff."""
    async with sessionmaker.begin() as session:
        try:
            await save_wordlist(session, kind, body.words, principal.sub, body.reason)
        except ValueError as exc:
            raise Unprocessable(str(exc), code="invalid_wordlist") from exc
        return _wordlist_out(await get_wordlist(session, kind))
