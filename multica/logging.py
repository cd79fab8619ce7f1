"""Structured logging: one line per record on stderr, extra fields as key=value."""

from __future__ import annotations

import logging
import sys

_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class KeyValueFormatter(logging.Formatter):
    """Appends the record's `extra` fields as `key=value` pairs after the message."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_")}
        if fields:
            line += " " + " ".join(f"{key}={_render(value)}" for key, value in fields.items())
        return line


def _render(value: object) -> str:
    text = str(value)
    return f'"{text}"' if (" " in text or not text) else text


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at emit time (so test capture and redirection work)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def configure_logging(level: str = "INFO") -> None:
    """Send INFO and above (or `LOG_LEVEL`) from `multica` to stderr, once per process."""
    logger = logging.getLogger("multica")
    logger.setLevel(getattr(logging, level, logging.INFO))
    if not any(getattr(h, "_multica", False) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._multica = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
