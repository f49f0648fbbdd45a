"""The moderation policy: its config and word lists (stored, cached), and the pure decision.

``rules`` is pure (facts and config in, a ``Decision`` out); ``words`` matches word lists
against obfuscation; ``phrases`` (threat and dehumanisation phrase rules) and ``signals`` (spam
and language rules, the poster's address hash) are the rules' newer inputs, pure as well;
``store`` keeps the config and lists in the database; ``configuration`` is the admin service
behind ``/moderation/policy`` and ``/moderation/wordlists``. The pure rules are re-exported
here: ``from server.moderation.policy import PolicyConfig, decide``.
"""

from server.moderation.policy.rules import (
    DEFAULT_CONFIG,
    CommentFacts,
    Decision,
    LabelThresholds,
    PolicyConfig,
    Rule,
    decide,
    risk,
)

__all__ = [
    "DEFAULT_CONFIG",
    "CommentFacts",
    "Decision",
    "LabelThresholds",
    "PolicyConfig",
    "Rule",
    "decide",
    "risk",
]
