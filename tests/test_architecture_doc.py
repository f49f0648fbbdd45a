"""docs/architecture.md names modules that exist, and the functions it names are in them."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text("utf-8")


def test_every_module_named_exists() -> None:
    named = set(re.findall(r"\b((?:server|workers)/[\w/]+\.py)\b", DOC))
    assert len(named) > 15
    assert sorted(p for p in named if not (ROOT / p).is_file()) == []


def test_the_owners_it_names_define_what_it_says() -> None:
    owners = {
        "server/lifecycle/transitions.py": ("async def transition(", "def feature(",
                                          "async def transition_many("),
        "server/lifecycle/audit.py": ("def audit_row(",),
        "server/lifecycle/relay.py": ("class EventRelay", "async def transaction("),
        "server/lifecycle/subscribers.py": ("class PageInvalidation", "class ReaderChannels",
                                            "class ModerationChannel", "def build_relay("),
        "server/ratelimit.py": ("def limited(",),
    }
    for path, names in owners.items():
        text = (ROOT / path).read_text("utf-8")
        assert [n for n in names if n not in text] == [], path
