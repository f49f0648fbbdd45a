"""Hardened, streaming XML: ``defusedxml``'s iterparse with DTDs, entities and external
references forbidden, yielding (event, element) with the root cleared as the caller goes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse


class UnsafeXml(Exception):
    """The file declares a DTD or entities (billion laughs, external entities): refused."""


class BadXml(Exception):
    """The file is not well-formed XML."""


def local(tag: str) -> str:
    """A tag without its namespace: ``{http://disqus.com}post`` → ``post``."""
    return tag.rsplit("}", 1)[-1]


def attribute(element: Element, name: str) -> str | None:
    """An attribute by local name, whatever its namespace (``dsq:id``)."""
    for key, value in element.attrib.items():
        if local(key) == name:
            return value
    return None


def text_of(element: Element | None) -> str:
    return "" if element is None or element.text is None else element.text


def child(element: Element, name: str) -> Element | None:
    for sub in element:
        if local(sub.tag) == name:
            return sub
    return None


def stream(path: Path | IO[bytes]) -> Iterator[tuple[str, Element, Element]]:
    """(event, element, root) for "start" and "end" events; clear ``root`` after a record."""
    try:
        events = iterparse(
            path,
            events=("start", "end"),
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
        root: Element | None = None
        for event, element in events:
            if root is None:
                root = element
            yield event, element, root
    except DefusedXmlException as exc:
        raise UnsafeXml(f"refused: the file declares a DTD or entities ({exc})") from exc
    except ParseError as exc:
        raise BadXml(f"not well-formed XML: {exc}") from exc
