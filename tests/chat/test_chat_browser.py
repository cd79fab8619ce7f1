"""In headless Chromium: start a chat, send a message, see the real daemon's reply appear without a reload (D15.9)."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.browser


def sign_in(page, app, site: str, user) -> None:
    with app.test_request_context():
        value = app.session_interface.get_signing_serializer(app).dumps({"user_id": user.id, "sid": uuid.uuid4().hex})
    page.context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": value, "url": site}])


def test_send_a_message_and_see_the_reply(app, owner, workspace, live_server, loop, page):
    process, agent, runtime = loop("slow.py")
    sign_in(page, app, live_server.url, owner)
    page.goto(f"{live_server.url}/{workspace['slug']}/chat")
    page.get_by_role("button", name="New chat").click()
    page.get_by_label("Message").fill("Summarise the README")
    page.get_by_role("button", name="Send").click()
    page.wait_for_selector("[data-messages][data-pending]")
    page.evaluate("window.__stillTheSamePage = true")
    page.wait_for_selector("[data-role=agent]", timeout=30_000)
    assert page.evaluate("window.__stillTheSamePage") is True
    assert "Slowly done: Summarise the README" in page.locator("[data-role=agent]").inner_text()
    assert page.locator("[data-role=user]").inner_text().endswith("Summarise the README")
