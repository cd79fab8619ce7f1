"""Who is making the request: a Bearer token (API clients) or the signed session cookie (browsers)."""

from __future__ import annotations

import secrets
from functools import wraps

from flask import g, redirect, request, session, url_for

from multica.auth.models import User
from multica.auth.tokens import token_subject
from multica.db_utils import parse_uuid
from multica.errors import ApiError, wants_json
from multica.extensions import db


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer` header, if there is one."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def current_user_id() -> str | None:
    """The authenticated user's id as a string, without loading the row."""
    if "auth_user_id" in g:
        return g.auth_user_id
    token = bearer_token()
    user_id = token_subject(token) if token else session.get("user_id")
    g.auth_user_id = user_id if parse_uuid(user_id) else None
    return g.auth_user_id


def current_user() -> User | None:
    """The authenticated user, loaded once per request."""
    if "auth_user" not in g:
        user_id = parse_uuid(current_user_id())
        g.auth_user = db.session.get(User, user_id) if user_id else None
    return g.auth_user


def require_user() -> User:
    """The authenticated user, or 401 (JSON) for API calls."""
    if bearer_token() and current_user_id() is None:
        raise ApiError(401, "invalid token")
    user = current_user()
    if user is None:
        raise ApiError(401, "missing authorization")
    return user


def login_required_page(view):
    """Pages: send anonymous visitors to /login with a `next` back here."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            if wants_json():
                raise ApiError(401, "missing authorization")
            return redirect(url_for("auth.login_page", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def start_session(user: User) -> None:
    """Sign the browser in with a fresh session (the old one is discarded: no fixation)."""
    session.clear()
    session["sid"] = secrets.token_urlsafe(16)
    session["user_id"] = str(user.id)
    session.permanent = True
    g.pop("auth_user_id", None)
    g.pop("auth_user", None)


def end_session() -> None:
    """Forget the signed-in user."""
    session.clear()
    g.pop("auth_user_id", None)
    g.pop("auth_user", None)
