"""Sign-up and login: email codes, Google, sessions, Bearer tokens and CSRF (SPEC §8, D3, D4)."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, request

bp = Blueprint("auth", __name__)

_STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def init_app(app: Flask) -> None:
    """Mailer, Google client, the identity hook used by analytics, and CSRF that spares Bearer calls."""
    from multica.auth import google
    from multica.auth.identity import current_user_id
    from multica.auth.mail import Mailer

    Mailer(app)
    google.GoogleSignIn(app)
    app.extensions["current_user_id"] = current_user_id
    # Flask-WTF's blanket check would also demand a token from Bearer clients; ours skips them.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.before_request(_csrf_unless_bearer)


def _csrf_unless_bearer() -> None:
    """Cookie-authenticated state changes need a CSRF token; Bearer-authenticated API calls do not."""
    from flask import session

    from multica.auth.identity import bearer_token
    from multica.extensions import csrf

    if not current_app.config.get("WTF_CSRF_ENABLED", True) or request.method not in _STATE_CHANGING:
        return
    # An API call that the session cookie does not authenticate has no ambient authority to
    # abuse: Bearer clients, and anonymous callers (who then get the view's 401).
    if request.path.startswith("/api/") and (bearer_token() or not session.get("user_id")):
        return
    csrf.protect(apply_exemptions=True)
