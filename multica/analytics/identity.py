"""The browser's anonymous analytics id: the `multica_anon_id` cookie the tracker writes (D7, D14.2)."""

from __future__ import annotations

from urllib.parse import unquote

from flask import request

ANON_COOKIE = "multica_anon_id"
MAX_ANON_ID_BYTES = 200


def anonymous_id() -> str:
    """The URL-decoded cookie value, or `""` when absent, too long or shaped like a synthetic id."""
    value = unquote(request.cookies.get(ANON_COOKIE, "")).strip()
    return value if 0 < len(value.encode("utf-8")) <= MAX_ANON_ID_BYTES and ":" not in value else ""
