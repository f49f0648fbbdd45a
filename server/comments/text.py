"""Comment bodies: normalisation at the boundary and the safe HTML every client is given."""

from __future__ import annotations

import html
import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_INVISIBLE_EDGES = "\u200b\u200c\u200d\u2060\ufeff"
_PARAGRAPHS = re.compile(r"\n\s*\n+")
_URL = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING_PUNCTUATION = ".,;:!?)]}'\""


def normalise_body(raw: str) -> str:
    """NFC, control characters other than newlines removed, line ends unified, trimmed."""
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text.replace("\t", " "))
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text.strip().strip(_INVISIBLE_EDGES).strip()


def _linkify(escaped_line: str) -> str:
    def link(match: re.Match[str]) -> str:
        url = match.group(0)
        tail = ""
        while url and url[-1] in _TRAILING_PUNCTUATION:
            tail = url[-1] + tail
            url = url[:-1]
        # The text is already escaped; the href must not be double-escaped.
        href = html.escape(html.unescape(url), quote=True)
        return f'<a href="{href}" rel="nofollow ugc" target="_blank">{url}</a>{tail}'

    return _URL.sub(link, escaped_line)


def render_html(body: str) -> str:
    """Escaped HTML: paragraphs from blank lines, <br> for single newlines, links marked ugc."""
    paragraphs = [p for p in _PARAGRAPHS.split(body) if p.strip()]
    rendered = []
    for paragraph in paragraphs:
        lines = [_linkify(html.escape(line, quote=True)) for line in paragraph.split("\n")]
        rendered.append("<p>" + "<br>".join(lines) + "</p>")
    return "".join(rendered)
