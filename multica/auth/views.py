"""Sign-in endpoints (JSON for API clients, forms for people) and `/api/me` (SPEC §8, D3)."""

from __future__ import annotations

import logging

from flask import current_app, jsonify, redirect, render_template, request

from multica.auth import bp
from multica.auth.identity import current_user, end_session, require_user
from multica.auth.routing import destination_after_sign_in, safe_next
from multica.auth.service import (
    Restrictions,
    delete_expired_codes,
    discard_code,
    find_or_create_user,
    send_code,
    verify_code,
)
from multica.auth.signin import finish_sign_in
from multica.auth.tokens import issue_token
from multica.errors import ApiError
from multica.extensions import csrf, db, limiter
from multica.inputs import json_object
from multica.ratelimit import per_minute

logger = logging.getLogger("multica.auth")
MAX_AUTH_BODY = 16 * 1024


_auth_limit = per_minute("RATE_LIMIT_AUTH")
_verify_limit = per_minute("RATE_LIMIT_AUTH_VERIFY")


def _restrictions() -> Restrictions:
    return Restrictions.from_config(current_app.config)


def _send(email_input: object) -> str:
    """Create, store and mail a code; returns the normalised email."""
    email, code = send_code(email_input, _restrictions())
    try:
        current_app.extensions["mailer"].send_verification_code(email, code)
    except Exception:  # noqa: BLE001 - any mail failure is the same answer to the client
        logger.exception("auth: could not send verification code")
        discard_code(email, code)
        raise ApiError(500, "failed to send verification code") from None
    delete_expired_codes()
    return email


def _verify(email_input: object, code_input: object, *, browser_session: bool = True):
    email = verify_code(email_input, code_input)
    try:
        user, is_new = find_or_create_user(email, _restrictions())
    except ApiError:
        raise
    except Exception:  # noqa: BLE001
        db.session.rollback()
        logger.exception("auth: could not create user")
        raise ApiError(500, "failed to create user") from None
    finish_sign_in(user, is_new, browser_session=browser_session)
    return user


# What the sign-in pages tell people, for the API's messages (D20.5); the API keeps its own words.
_SENTENCES = {
    "email is required": "Enter your email address.",
    "email is invalid": "Enter a full email address, like name@example.com.",
    "email and code are required": "Enter the 6-digit code from the email.",
    "failed to send verification code": "We couldn't send the email just now. Please try again in a minute.",
    "failed to create user": "We couldn't create your account just now. Please try again in a minute.",
    "failed to lookup user": "Something went wrong on our side. Please try again in a minute.",
}
_CODE_SENTENCES = {
    "locked": "That code was entered wrong too many times, so it is locked. Request a new code below.",
    "wrong": "That code isn't right. Check the email we sent and try again.",
    "expired": "That code has expired or was already used. Request a new code below.",
}


def page_message(error: ApiError) -> str:
    """A sentence for a person about a refused sign-in step."""
    wait = str(error.headers.get("Retry-After", ""))
    if error.status == 429 and wait.isdigit():
        seconds = int(wait)
        return f"Please wait {seconds} second{'' if seconds == 1 else 's'} before requesting another code."
    if error.message == "invalid or expired code":
        return _CODE_SENTENCES.get(error.reason, _CODE_SENTENCES["expired"])
    if error.message in _SENTENCES:
        return _SENTENCES[error.message]
    text = error.message[:1].upper() + error.message[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _string_field(body: dict, name: str) -> object:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, "invalid request body")
    return value


@bp.post("/auth/send-code")
@csrf.exempt
@limiter.limit(_auth_limit)
def send_code_api():
    """Mail a 6-digit sign-in code."""
    body = json_object(MAX_AUTH_BODY)
    _send(_string_field(body, "email"))
    return jsonify(message="Verification code sent")


@bp.post("/auth/verify-code")
@csrf.exempt
@limiter.limit(_verify_limit)
def verify_code_api():
    """Exchange a code for `{token, user}`; also signs the browser in."""
    body = json_object(MAX_AUTH_BODY)
    user = _verify(_string_field(body, "email"), _string_field(body, "code"))
    return jsonify(token=issue_token(str(user.id)), user=user.to_dict())


@bp.get("/auth/logout")
def logout_page():
    """A GET never signs anyone out (a link or a prefetch could); it shows the sign-out button instead."""
    return render_template("auth/logout.html", signed_in=current_user() is not None)


@bp.post("/auth/logout")
def logout():
    """Sign out (POST only; a form post is sent back to the landing page)."""
    end_session()
    if request.mimetype == "application/x-www-form-urlencoded" or request.form:
        return redirect("/")
    return jsonify(message="logged out")


@bp.get("/api/me")
def me():
    """The signed-in user."""
    user = require_user()
    return jsonify(user.to_dict())


# ---- pages ------------------------------------------------------------------------------------

def _login_page(status: int = 200, **context):
    context.setdefault("google_enabled", current_app.extensions["google_oauth"].configured)
    context.setdefault("next", safe_next(request.values.get("next")) or "")
    return render_template("auth/login.html", **context), status


@bp.get("/login")
def login_page():
    """Email first, then the code. Signed-in visitors go straight to where they belong."""
    user = current_user()
    if user is not None:
        return redirect(destination_after_sign_in(user, request.args.get("next")))
    return _login_page()


@bp.post("/login")
@limiter.limit(_auth_limit)
def login_send_code():
    """The no-JavaScript form: mail a code and show the code form."""
    email_input = request.form.get("email", "")
    try:
        email = _send(email_input)
    except ApiError as exc:
        # A resend that must wait keeps the code form: the code already sent still works.
        step = "code" if exc.status == 429 and request.form.get("resend") else None
        return _login_page(exc.status, error=page_message(exc), email=email_input, step=step)
    return _login_page(step="code", email=email, info=f"We sent a 6-digit code to {email}.")


@bp.post("/login/verify")
@limiter.limit(_verify_limit)
def login_verify():
    """The no-JavaScript form: check the code, sign in and route onwards."""
    email_input = request.form.get("email", "")
    try:
        user = _verify(email_input, request.form.get("code", ""))
    except ApiError as exc:
        return _login_page(exc.status, error=page_message(exc), email=email_input, step="code")
    return redirect(destination_after_sign_in(user, request.form.get("next")))
