"""The `/login` form in headless Chromium, with JavaScript on and off: `walk2@example` is refused before
anything is sent, by the same rule the server applies (D20.5)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from multica.auth.models import VerificationCode
from multica.extensions import db

pytestmark = pytest.mark.browser


@pytest.fixture
def app(make_app):
    return make_app(MAIL_BACKEND="memory")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_login_form_refuses_an_address_without_a_dotted_domain(app, live_server, browser, javascript):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    try:
        posts = []
        page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
        page.goto(f"{live_server.url}/login")
        page.get_by_label("Work email").fill("walk2@example")
        page.get_by_role("button", name="Email me a sign-in code").click()
        assert page.evaluate("() => document.querySelector('#email').validity.valid") is False
        assert posts == [] and page.url == f"{live_server.url}/login"
        page.get_by_label("Work email").fill("walk2@example.com")
        page.get_by_role("button", name="Email me a sign-in code").click()
        page.get_by_label("6-digit code").wait_for()
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(VerificationCode)) == 1
    finally:
        context.close()
