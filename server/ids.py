"""Formats of identifiers the host site chooses (article ids), in one place."""

from __future__ import annotations

import re

# 1-128 letters, digits and . _ : ~ - (not starting with a punctuation mark).
ARTICLE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:~-]{0,127}$"
ARTICLE_ID = re.compile(ARTICLE_ID_PATTERN)
