"""Reading the rendered download page: its links in document order, as a browser's DOM has them."""

from __future__ import annotations

from html.parser import HTMLParser


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict] = []
        self.buttons: list[dict] = []
        self._template_depth = 0
        self._stack: list[str] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "template":
            self._template_depth += 1
        if self._template_depth:
            return  # <template> content is not part of the document
        if tag in {"a", "button"}:
            self._current = {"tag": tag, "text": "", **attributes}
            (self.links if tag == "a" else self.buttons).append(self._current)

    def handle_endtag(self, tag):
        if tag == "template":
            self._template_depth -= 1
        if tag in {"a", "button"}:
            self._current = None

    def handle_data(self, data):
        if self._current is not None and not self._template_depth:
            self._current["text"] += data


def parse(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def links(html: str) -> list[dict]:
    """Every `<a>` outside `<template>`, in document order, with its attributes and text."""
    return parse(html).links


def buttons(html: str) -> list[dict]:
    """Every `<button>` outside `<template>`."""
    return parse(html).buttons


def installer_links(html: str) -> list[dict]:
    """The installer links (`a[data-installer]`) in document order."""
    return [link for link in links(html) if "data-installer" in link]
