"""A progress line on stderr (counts and rate), redrawn at most once a second, and the summary."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

EXAMPLES_PER_REASON = 5


@dataclass(slots=True)
class Summary:
    """What an import did: counts, and every skipped item's reason (with a few example ids)."""

    read: int = 0
    imported: int = 0
    already: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, source_id: str, reason: str) -> None:
        self.skipped[reason] += 1
        ids = self.examples.setdefault(reason, [])
        if len(ids) < EXAMPLES_PER_REASON:
            ids.append(source_id)

    def lines(self) -> list[str]:
        out = [
            f"read {self.read:,} · imported {self.imported:,} · already imported "
            f"{self.already:,} · skipped {sum(self.skipped.values()):,}"
        ]
        for reason, count in self.skipped.most_common():
            out.append(f"  skipped {count:,}: {reason} (e.g. {', '.join(self.examples[reason])})")
        return out


class Progress:
    """Counts and rate, redrawn in place; ``clock`` is injectable (tests do not wait)."""

    def __init__(
        self,
        label: str,
        *,
        out: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 1.0,
    ) -> None:
        self._label = label
        self._out = out if out is not None else sys.stderr
        self._clock = clock
        self._interval = interval
        self._started = clock()
        self._last = self._started

    def rate(self, summary: Summary, now: float) -> float:
        elapsed = now - self._started
        return summary.imported / elapsed if elapsed > 0 else 0.0

    def line(self, summary: Summary, now: float) -> str:
        return (
            f"{self._label}: {summary.read:,} read · {summary.imported:,} imported · "
            f"{summary.already:,} already · {sum(summary.skipped.values()):,} skipped · "
            f"{self.rate(summary, now):,.0f} comments/s"
        )

    def update(self, summary: Summary) -> None:
        now = self._clock()
        if now - self._last >= self._interval:
            self._last = now
            self._out.write("\r" + self.line(summary, now))
            self._out.flush()

    def done(self, summary: Summary) -> None:
        self._out.write("\r" + self.line(summary, self._clock()) + "\n")
        for text in summary.lines():
            self._out.write(text + "\n")
        self._out.flush()
