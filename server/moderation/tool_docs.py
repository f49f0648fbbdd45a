"""OpenAPI descriptions of the console's moderation tools (attached by ``@document``)."""

from __future__ import annotations

from server.moderation.tool_schemas import (
    ApplyRequest,
    DeadLetterDetail,
    DeadLetterPage,
    DeadLetterQuery,
    PreviewRequest,
    PreviewResponse,
    ReplayRequest,
    ReplayResponse,
    WordTestRequest,
    WordTestResponse,
)
from server.openapi import Operation, Reply

TAGS = ("moderation",)
SETTINGS_TAGS = ("moderation settings",)

DEAD_LETTERS = Operation(
    summary="Comments whose scoring failed and was given up (held for a person)",
    description=(
        "A dead letter is a held comment whose latest decision is `scoring_failed`. Newest "
        "first; follow `next_cursor`."
    ),
    tags=TAGS,
    query=DeadLetterQuery,
    responses={200: Reply("Dead letters with their last error.", DeadLetterPage)},
)
DEAD_LETTER = Operation(
    summary="One dead letter with its audit log",
    tags=TAGS,
    responses={200: Reply("The comment, its error and history.", DeadLetterDetail)},
)
REPLAY = Operation(
    summary="Send dead letters back to the scoring workers",
    description=(
        "Each named dead letter returns to `pending` (audited as `replay_scoring`) and is queued "
        "for scoring; anything that is not (or no longer) a dead letter fails on its own."
    ),
    tags=TAGS,
    body=ReplayRequest,
    responses={200: Reply("A result per comment, in request order.", ReplayResponse)},
)
POLICY_PREVIEW = Operation(
    summary="Dry run: how a policy would decide the last N machine-decided comments",
    description=(
        "Decides again, from their stored scores, the last `limit` comments the policy decided "
        "(never a person's decision), with the policy given in `config` (the one in force when "
        "left out). Nothing is stored; `POST /moderation/policy/apply` stores exactly this for "
        "the policy in force."
    ),
    tags=SETTINGS_TAGS,
    body=PreviewRequest,
    responses={200: Reply("Counts now and under the policy, and what changes.", PreviewResponse)},
)
POLICY_APPLY = Operation(
    summary="Re-decide the last N machine-decided comments under the policy in force",
    description=(
        "The same computation as the preview, stored: each change is audited as "
        "`policy_reevaluate` and announced live. A comment decided or edited meanwhile is left."
    ),
    tags=SETTINGS_TAGS,
    body=ApplyRequest,
    responses={200: Reply("What was evaluated and how many changed.", PreviewResponse)},
)
WORDLIST_TEST = Operation(
    summary="Which word-list entries a text hits",
    description=(
        "Reads the text as the matcher does (look-alike letters, leetspeak, spacing, zero-width "
        "characters). Lists given in the body are tried instead of the stored ones."
    ),
    tags=SETTINGS_TAGS,
    body=WordTestRequest,
    responses={200: Reply("Normalised text and the entries found.", WordTestResponse)},
)
