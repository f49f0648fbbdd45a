"""Entry bodies: a safe Markdown subset rendered by markdown-it-py, then sanitised by nh3.

markdown-it runs with raw HTML off, so ``<script>`` in a body is text, not markup. nh3
(ammonia) then enforces the allow-list below on whatever the renderer produced: this second
pass is what the promise "no script, no event handlers, no javascript: URLs" rests on, so a
future renderer option or plugin cannot widen what reaches readers.
"""

from __future__ import annotations

import re
import unicodedata

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "em", "strong", "del", "s", "a", "ul", "ol", "li", "blockquote",
    "code", "pre", "img", "h2", "h3", "h4",
})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener nofollow"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LONE_URL = re.compile(r"^https?://[^\s<>\"'`]+$", re.IGNORECASE)


def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        allowed_classes={"a": {"embed"}},
        set_tag_attribute_values={"img": {"loading": "lazy"}},
        strip_comments=True,
    )


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("strikethrough")
    return md


def normalise_markdown(raw: str) -> str:
    """NFC, unified line ends, control characters (except newline and tab) removed, trimmed."""
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n"))
    return _CONTROL.sub("", text).strip()


def _demote_headings(tokens: list[Token]) -> None:
    """An entry sits under the article's own headings: ``#`` becomes h2, and so on down to h4."""
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(int(token.tag[1]) + 1, 4)
            token.tag = f"h{level}"


class Renderer:
    """Markdown source in, sanitised HTML out. Build one per process and reuse it."""

    def __init__(self) -> None:
        self._md = _markdown()
        self._cleaner = _cleaner()

    def render(self, source: str) -> str:
        tokens = self._md.parse(source)
        _demote_headings(tokens)
        self._mark_embeds(tokens)
        html = self._md.renderer.render(tokens, self._md.options, {})
        return self._cleaner.clean(html).strip()

    def _mark_embeds(self, tokens: list[Token]) -> None:
        """A paragraph that is only a URL is an embed (a tweet, a video): a link with class
        ``embed`` that the widget may enhance; never an iframe or script of ours."""
        for i in range(1, len(tokens) - 1):
            inline = tokens[i]
            if tokens[i - 1].type != "paragraph_open" or inline.type != "inline":
                continue
            children = inline.children or []
            if len(children) != 1 or children[0].type != "text":
                continue
            url = children[0].content.strip()
            if _LONE_URL.match(url) and self._md.validateLink(url):
                inline.children = self._embed_tokens(url)

    def _embed_tokens(self, url: str) -> list[Token]:
        href = self._md.normalizeLink(url)
        opening = Token("link_open", "a", 1, attrs={"href": href, "class": "embed"})
        text = Token("text", "", 0, content=url)
        return [opening, text, Token("link_close", "a", -1)]
