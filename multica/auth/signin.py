"""What happens once a person has proven who they are: session, signup event, identity merge."""

from __future__ import annotations

from flask import request

from multica.analytics import events
from multica.analytics.identity import anonymous_id
from multica.analytics.record import record_event
from multica.auth.identity import start_session
from multica.auth.models import User
from multica.auth.service import signup_source_from_cookie

SIGNUP_SOURCE_COOKIE = "multica_signup_source"


def finish_sign_in(user: User, is_new: bool, *, auth_method: str | None = None, browser_session: bool = True) -> None:
    """Start the browser session, emit `signup` for a new user and merge the anonymous id (D7)."""
    if browser_session:
        start_session(user)
    user_id = str(user.id)
    if is_new:
        source = signup_source_from_cookie(request.cookies.get(SIGNUP_SOURCE_COOKIE))
        record_event(events.signup(user_id, user.email, source, auth_method=auth_method))
    anon = anonymous_id()
    if anon and anon != user_id:
        record_event(events.identify(user_id, anon))
