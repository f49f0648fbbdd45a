"""Every error code the server raises is in an error table of the documentation."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAISED = (
    re.compile(r'code="([a-z_]+)"'),  # ApiError(..., code="...")
    re.compile(r'ProtocolError\(\s*"([a-z_]+)"'),  # live protocol errors
)
DOCUMENTED = re.compile(r"`([a-z_]+)`")


def raised_codes() -> dict[str, str]:
    codes: dict[str, str] = {}
    for path in sorted((ROOT / "server").rglob("*.py")):
        text = path.read_text("utf-8")
        for pattern in RAISED:
            for code in pattern.findall(text):
                codes.setdefault(code, str(path.relative_to(ROOT)))
    return codes


def documented_codes() -> set[str]:
    """Backquoted names in table rows of docs/*.md and the README."""
    codes: set[str] = set()
    for path in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]:
        for line in path.read_text("utf-8").splitlines():
            if line.startswith("|"):
                codes.update(DOCUMENTED.findall(line))
    return codes


def test_the_scan_finds_codes() -> None:
    codes = raised_codes()
    assert {"comment_not_found", "reason_required", "invalid_since", "resync"} <= codes.keys()


def test_every_raised_error_code_is_documented() -> None:
    missing = {code: where for code, where in raised_codes().items()
               if code not in documented_codes()}
    assert missing == {}, f"add these codes to an error table in docs/: {missing}"
