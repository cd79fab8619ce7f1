"""Bearer tokens for API clients: signed with SECRET_KEY, carrying `sub`, expiring after AUTH_TOKEN_TTL (D3)."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_SALT = "multica-api-token"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def issue_token(user_id: str) -> str:
    """A token that authenticates `user_id` until AUTH_TOKEN_TTL passes."""
    return _serializer().dumps({"sub": str(user_id)})


def token_subject(token: str) -> str | None:
    """The user id a valid, unexpired token names; None otherwise."""
    try:
        claims = _serializer().loads(token, max_age=current_app.config["AUTH_TOKEN_TTL"])
    except (BadSignature, SignatureExpired):
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return sub if isinstance(sub, str) and sub else None
