"""Time as a parameter: what waits, expires or coalesces takes a ``Clock``.

Production code uses ``SYSTEM_CLOCK`` (the event loop's monotonic time and ``asyncio.sleep``);
tests pass a clock they advance by hand (``tests/clock.py``) instead of sleeping.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""

    async def sleep(self, seconds: float) -> None:
        """Return once ``seconds`` have passed on this clock."""


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM_CLOCK: Clock = SystemClock()
