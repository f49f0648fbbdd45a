"""The word-list test box: which entries a text hits, read the way the matcher reads it."""

from __future__ import annotations

from collections.abc import Sequence

from server.comments.models import CommentStatus
from server.db import Sessionmaker
from server.errors import Unprocessable
from server.moderation.policy.store import load_policy
from server.moderation.policy.words import WordMatcher, clean_wordlist, compile_wordlist, normalize
from server.moderation.tool_schemas import WordTestRequest, WordTestResponse


def _matcher(kind: str, words: Sequence[str] | None, stored: WordMatcher) -> WordMatcher:
    if words is None:
        return stored
    try:
        return compile_wordlist(clean_wordlist(words))
    except ValueError as exc:
        raise Unprocessable(f"{kind}: {exc}", code="invalid_wordlist") from exc


async def match_text(*, sessionmaker: Sessionmaker, request: WordTestRequest) -> WordTestResponse:
    """Match ``request.text`` against the given lists, or the stored ones where not given."""
    async with sessionmaker() as session:
        stored = await load_policy(session)
    banned = _matcher("banned", request.banned, stored.banned).find(request.text)
    suspect = _matcher("suspect", request.suspect, stored.suspect).find(request.text)
    outcome = (
        CommentStatus.rejected
        if banned
        else CommentStatus.held
        if suspect
        else CommentStatus.approved
    )
    return WordTestResponse(
        normalized=normalize(request.text), banned=banned, suspect=suspect, outcome=outcome
    )
