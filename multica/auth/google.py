"""Google sign-in: Authlib's OpenID Connect redirect flow (D4, D14.4)."""

from __future__ import annotations

import logging

from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, redirect, request, session, url_for
from requests.exceptions import RequestException

from multica.auth import bp
from multica.auth.routing import destination_after_sign_in, safe_next
from multica.auth.service import Restrictions, default_name, find_or_create_user, normalize_email
from multica.auth.signin import finish_sign_in
from multica.errors import ApiError
from multica.extensions import db, limiter
from multica.ratelimit import per_minute

logger = logging.getLogger("multica.auth")
NOT_CONFIGURED = "Google login is not configured"
DEFAULT_METADATA_URL = "https://accounts.google.com/.well-known/openid-configuration"
_NEXT_KEY = "google_next"


class GoogleSignIn:
    """Holds the Authlib client when `GOOGLE_CLIENT_ID` and `GOOGLE_CLIENT_SECRET` are set."""

    def __init__(self, app: Flask) -> None:
        config = app.config
        self.client_id = config.get("GOOGLE_CLIENT_ID", "")
        self.client_secret = config.get("GOOGLE_CLIENT_SECRET", "")
        self.configured = bool(self.client_id and self.client_secret)
        self.client = None
        if self.configured:
            oauth = OAuth(app)
            self.client = oauth.register(
                "google",
                client_id=self.client_id,
                client_secret=self.client_secret,
                server_metadata_url=config.get("GOOGLE_SERVER_METADATA_URL") or DEFAULT_METADATA_URL,
                client_kwargs={"scope": "openid email profile", "timeout": 10},
            )
        app.extensions["google_oauth"] = self


def _google() -> GoogleSignIn:
    google = current_app.extensions["google_oauth"]
    if not google.configured:
        raise ApiError(503, NOT_CONFIGURED)
    return google


_auth_limit = per_minute("RATE_LIMIT_AUTH")


def _refuse(status: int, message: str):
    """Answer the callback itself with the login page and the reason; no session, nobody created."""
    from multica.auth.views import _login_page

    next_path = _stored_next()
    session.pop(_NEXT_KEY, None)
    return _login_page(status, error=message, next=next_path or "")


def _stored_next() -> str | None:
    return safe_next(session.get(_NEXT_KEY))


@bp.get("/auth/google")
@limiter.limit(_auth_limit)
def google_start():
    """Redirect to Google (state and nonce are kept in the session by Authlib)."""
    google = _google()
    next_path = safe_next(request.args.get("next"))
    if next_path:
        session[_NEXT_KEY] = next_path
    else:
        session.pop(_NEXT_KEY, None)
    try:
        return google.client.authorize_redirect(url_for("auth.google_callback", _external=True))
    except (RequestException, OAuthError, ValueError):
        logger.warning("auth: could not reach the Google discovery document", exc_info=True)
        raise ApiError(502, "failed to reach Google") from None


@bp.get("/auth/google/callback")
def google_callback():
    """Verify the ID token, find or create the user, start the session and route onwards."""
    google = _google()
    if request.args.get("error"):
        return _refuse(400, "Google sign-in was cancelled or refused. Please try again.")
    if not request.args.get("code"):
        return _refuse(400, "Google sign-in did not return a code. Please try again.")
    try:
        token = google.client.authorize_access_token()
    except MismatchingStateError:
        return _refuse(400, "Your Google sign-in expired or was started elsewhere. Please try again.")
    except OAuthError as exc:
        logger.info("auth: google rejected the code", extra={"error": exc.error})
        return _refuse(400, "Google could not confirm your sign-in. Please try again.")
    except RequestException:
        logger.warning("auth: google token endpoint unreachable", exc_info=True)
        return _refuse(502, "We could not reach Google. Please try again in a moment.")
    except Exception:  # noqa: BLE001 - a bad ID token (signature, nonce, issuer) is a refusal too
        logger.warning("auth: google ID token rejected", exc_info=True)
        return _refuse(400, "Google could not confirm your sign-in. Please try again.")
    claims = token.get("userinfo") or {}
    email = normalize_email(claims.get("email"))
    if not email:
        return _refuse(400, "Your Google account has no email address.")
    if claims.get("email_verified") is not True:
        return _refuse(403, "Your Google email address is not verified.")
    try:
        user, is_new = find_or_create_user(email, Restrictions.from_config(current_app.config))
    except ApiError as exc:
        return _refuse(exc.status, exc.message)
    _fill_profile(user, claims)
    next_path = _stored_next()
    finish_sign_in(user, is_new, auth_method="google")
    return redirect(destination_after_sign_in(user, next_path))


def _fill_profile(user, claims: dict) -> None:
    """Google's name replaces the default one; its picture fills an empty avatar (errors ignored)."""
    name = claims.get("name") if isinstance(claims.get("name"), str) else ""
    picture = claims.get("picture") if isinstance(claims.get("picture"), str) else ""
    try:
        changed = False
        if name.strip() and user.name == default_name(user.email):
            user.name = name.strip()[:255]
            changed = True
        if picture.strip() and not user.avatar_url:
            user.avatar_url = picture.strip()
            changed = True
        if changed:
            db.session.commit()
    except Exception:  # noqa: BLE001
        db.session.rollback()
        logger.warning("auth: could not update profile from Google", exc_info=True)
