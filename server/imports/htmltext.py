"""Comment HTML of the source systems as Baraza's plain text (paragraphs and line breaks kept)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_GAPS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_BLOCKS = frozenset({"p", "div", "blockquote", "li", "pre", "ul", "ol", "h1", "h2", "h3"})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a":
            self._href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a" and self._href:
            # Keep the target of a link whose text hides it.
            if self.parts and self._href not in self.parts[-1]:
                self.parts.append(f" ({self._href})")
            self._href = None

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Text of ``markup``; anything that is not markup passes through unchanged."""
    if "<" not in markup:
        return html.unescape(markup)
    parser = _Text()
    parser.feed(markup)
    parser.close()
    # Adjacent blocks leave runs of blank lines: one blank line is one paragraph break.
    return _GAPS.sub("\n\n", "".join(parser.parts)).strip()
