"""Request input shared by every JSON endpoint: object bodies, trimmed strings with UTF-8 byte limits,
typed fields, UUID ids and rows that must belong to a workspace (D14.9).

Every refusal is an `ApiError` with a 4xx status, raised before anything is stored or emitted, so a
view validates its whole body first and only then calls its service.
"""

from __future__ import annotations

import json
import uuid
from typing import Iterable

from flask import request

from multica.db_utils import parse_uuid
from multica.errors import ApiError
from multica.extensions import db

INVALID_BODY = "invalid request body"


def json_object(max_bytes: int | None = None, *, optional: bool = False) -> dict:
    """The request body as a JSON object, or ApiError 400 `invalid request body`.

    Form-encoded bodies, arrays, strings and `null` are refused like undecodable JSON.
    `optional` turns an empty body into `{}`.
    """
    content_type = (request.mimetype or "").lower()
    if content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        raise ApiError(400, INVALID_BODY)
    raw = request.get_data(cache=True)
    if max_bytes is not None and len(raw) > max_bytes:
        raise ApiError(400, INVALID_BODY)
    if optional and not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, INVALID_BODY) from None
    if not isinstance(body, dict):
        raise ApiError(400, INVALID_BODY)
    return body


def utf8_length(value: str) -> int | None:
    """`value`'s length in UTF-8 bytes, or None when it cannot be encoded (a lone surrogate)."""
    try:
        return len(value.encode("utf-8"))
    except UnicodeEncodeError:
        return None


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    """True when `value` holds a C0 control character or DEL (newlines and tabs allowed if `multiline`)."""
    allowed = {"\n", "\r", "\t"} if multiline else set()
    return any((ord(char) < 0x20 or ord(char) == 0x7F) and char not in allowed for char in value)


def text_field(
    body: dict, key: str, max_bytes: int, *, required: bool = False, multiline: bool = False, nullable: bool = True,
    invalid: str | None = None, too_long: str | None = None, missing: str | None = None,
) -> str:
    """The trimmed string at `body[key]` (`""` when absent, or null and `nullable`, and optional), or ApiError 400.

    Refused: a non-string (`invalid <key>`), control characters (PostgreSQL cannot store NUL; none
    belongs in a name or id; `multiline` admits newlines and tabs), a lone surrogate, more than
    `max_bytes` UTF-8 bytes after trimming (`<key> is too long`), and an empty required value
    (`<key> is required`). The messages can be replaced where the SPEC words them differently.
    """
    value = body.get(key)
    if value is None and (nullable or key not in body):
        if required:
            raise ApiError(400, missing or f"{key} is required")
        return ""
    if not isinstance(value, str):
        raise ApiError(400, invalid or f"invalid {key}")
    value = value.strip()
    size = utf8_length(value)
    if size is None or has_control_characters(value, multiline=multiline):
        raise ApiError(400, invalid or f"invalid {key}")
    if size > max_bytes:
        raise ApiError(400, too_long or f"{key} is too long")
    if required and not value:
        raise ApiError(400, missing or f"{key} is required")
    return value


def optional_string(body: dict, key: str, *, invalid: str = INVALID_BODY) -> str | None:
    """`body[key]` when it is a string or absent/null (None), else ApiError 400."""
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, invalid)
    return value


def bool_field(body: dict, key: str, *, default: bool = False, invalid: str | None = None) -> bool:
    """`body[key]` as a bool (`default` when absent or null); anything but true/false is 400."""
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ApiError(400, invalid or f"invalid {key}")
    return value


def choice_field(
    body: dict, key: str, allowed: Iterable[str], *, required: bool = False, default: str = "",
    invalid: str | None = None, missing: str | None = None,
) -> str:
    """`body[key]` when it is one of `allowed`; absent or empty gives `default` (or 400 when required)."""
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise ApiError(400, missing or f"{key} is required")
        return default
    if not isinstance(value, str) or value not in set(allowed):
        raise ApiError(400, invalid or f"invalid {key}")
    return value


def uuid_field(body: dict, key: str, *, required: bool = False, invalid: str | None = None) -> uuid.UUID | None:
    """`body[key]` as a UUID (None when absent, null or empty and optional), else ApiError 400."""
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise ApiError(400, f"{key} is required")
        return None
    parsed = parse_uuid(value)
    if parsed is None:
        raise ApiError(400, invalid or f"invalid {key}")
    return parsed


def row_in_workspace(model, workspace, raw_id: object, *, noun: str, invalid_status: int = 400, field: str | None = None):
    """The `model` row with id `raw_id` that belongs to `workspace`, or ApiError.

    A malformed id is `invalid_status` `invalid <field>` (400 for a body field; pass 404 for a path
    segment, which is then indistinguishable from an unknown id); an unknown id, or a row of another
    workspace, is 404 `<noun> not found`, so other workspaces' ids cannot be probed.
    """
    row_id = parse_uuid(raw_id)
    if row_id is None:
        if invalid_status == 404:
            raise ApiError(404, f"{noun} not found")
        raise ApiError(invalid_status, f"invalid {field or noun + '_id'}")
    row = db.session.get(model, row_id)
    if row is None or row.workspace_id != workspace.id:
        raise ApiError(404, f"{noun} not found")
    return row


def client_platform(max_length: int = 64) -> str:
    """The `X-Client-Platform` header, cut to `max_length` characters (`""` when absent)."""
    return request.headers.get("X-Client-Platform", "")[:max_length]
