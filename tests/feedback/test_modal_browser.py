"""The Help menu's feedback modal in headless Chromium, inside a workspace and in onboarding, and the
same item with JavaScript disabled (SPEC §16, D14.13, D10).

Events from the page go through the first-party tracker: each check ships the tracker's buffer
(`multicaAnalytics.flush()`), flushes the server's client and waits for the sink.
"""

from __future__ import annotations

import pytest

from tests.conftest import create_user, create_workspace, flush
from tests.feedback.helpers import age_rows, rows, session_cookie

pytestmark = pytest.mark.browser

TIMEOUT = 15.0
STAMPS = {"event_schema_version", "environment", "is_demo", "user_id", "client_type", "app_version", "$geoip_disable", "$lib", "$lib_version"}


@pytest.fixture
def app(make_app, monkeypatch):
    """A PostHog key in the environment, so pages hand the tracker a key."""
    monkeypatch.setenv("POSTHOG_API_KEY", "phc_test")
    return make_app()


def sign_in(context, app, site: str, user) -> None:
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": session_cookie(app, user), "url": site}])


def ship(page, app) -> None:
    """Send what the tracker buffered, then what the server queued."""
    page.wait_for_function("() => Boolean(window.multicaAnalytics)")
    page.evaluate("() => window.multicaAnalytics.flush()")
    flush(app)


def opened_events(sink, user, count: int) -> list[dict]:
    sink.wait_for(lambda s: len([e for e in s.events("feedback_opened") if e["distinct_id"] == user.id]) >= count, TIMEOUT)
    return [e for e in sink.events("feedback_opened") if e["distinct_id"] == user.id]


def custom(event: dict) -> dict:
    return {k: v for k, v in event["properties"].items() if k not in STAMPS}


def open_feedback(page):
    """Help ⇒ Feedback; returns the dialog."""
    page.get_by_role("button", name="Help").click()
    page.get_by_role("menuitem", name="Feedback").click()
    dialog = page.get_by_role("dialog", name="Send feedback")
    dialog.wait_for(state="visible")
    return dialog


def test_modal_inside_a_workspace(app, sink, live_server, page):
    user = create_user(app)
    workspace = create_workspace(app, user, slug="modal-ws")
    sign_in(page.context, app, live_server.url, user)
    page.goto(f"{live_server.url}/modal-ws/issues")

    dialog = open_feedback(page)
    textbox = dialog.get_by_role("textbox")
    assert textbox.is_visible()
    assert dialog.get_by_role("button", name="Send").is_visible()
    assert page.url.endswith("/modal-ws/issues")  # the item opened the modal instead of navigating

    # Typing re-renders the open modal (the counter); it is still one opening.
    textbox.fill("The modal works! ![shot](https://img.example/s.png)")
    ship(page, app)
    [event] = opened_events(sink, user, 1)
    assert custom(event) == {"source": "help_menu", "workspace_id": workspace["id"]}

    dialog.get_by_role("button", name="Send").click()
    dialog.get_by_text("Thanks — your feedback was sent.").wait_for()
    assert textbox.input_value() == ""
    [row] = rows(app, user)
    assert row.message == "The modal works! ![shot](https://img.example/s.png)"
    assert str(row.workspace_id) == workspace["id"]
    assert row.details["url"] == f"{live_server.url}/modal-ws/issues"
    assert row.details["platform"] == "web"
    flush(app)
    [submitted] = sink.wait_for_events(1, "feedback_submitted", TIMEOUT)
    assert submitted["distinct_id"] == user.id
    assert submitted["properties"]["workspace_id"] == workspace["id"]
    assert submitted["properties"]["has_images"] is True
    assert "img.example" not in repr(sink.events()) and "modal works" not in repr(sink.events())

    # Closing and opening again is a second opening: a second event.
    dialog.get_by_role("button", name="Close").click()
    dialog.wait_for(state="hidden")
    open_feedback(page)
    ship(page, app)
    assert len(opened_events(sink, user, 2)) == 2
    ship(page, app)
    assert len(opened_events(sink, user, 2)) == 2


def test_modal_in_onboarding_has_no_workspace_id(app, sink, live_server, page):
    user = create_user(app)
    sign_in(page.context, app, live_server.url, user)
    page.goto(f"{live_server.url}/onboarding")
    dialog = open_feedback(page)
    ship(page, app)
    [event] = opened_events(sink, user, 1)
    assert custom(event) == {"source": "help_menu"}
    assert "workspace_id" not in event["properties"]

    dialog.get_by_role("textbox").fill("Onboarding could explain runtimes better.")
    dialog.get_by_role("button", name="Send").click()
    dialog.get_by_text("Thanks — your feedback was sent.").wait_for()
    [row] = rows(app, user)
    assert row.workspace_id is None
    assert row.details["url"] == f"{live_server.url}/onboarding"
    flush(app)
    [submitted] = sink.wait_for_events(1, "feedback_submitted", TIMEOUT)
    assert "workspace_id" not in submitted["properties"]


def test_modal_enforces_the_limit_and_shows_errors_inline(app, sink, live_server, page):
    user = create_user(app)
    create_workspace(app, user, slug="limits")
    sign_in(page.context, app, live_server.url, user)
    page.goto(f"{live_server.url}/limits/issues")
    dialog = open_feedback(page)
    textbox = dialog.get_by_role("textbox")
    send = dialog.get_by_role("button", name="Send")
    alert = dialog.get_by_role("alert")

    # Over 10 000 characters: refused in the page, nothing sent.
    textbox.fill("x" * 10001)
    send.click()
    alert.wait_for()
    assert "at most 10,000 characters" in alert.inner_text()
    assert rows(app) == []

    # Within 10 000 characters but over 10 000 bytes: the server's refusal is shown.
    textbox.fill("é" * 6000)
    send.click()
    page.wait_for_function("() => document.querySelector('dialog [data-feedback-error]').textContent.includes('message too long')")
    assert rows(app) == []

    # Exactly 10 000 characters goes through.
    textbox.fill("y" * 10000)
    send.click()
    dialog.get_by_text("Thanks — your feedback was sent.").wait_for()
    assert not alert.is_visible()
    assert len(rows(app, user)) == 1


def test_modal_shows_the_429_message(app, sink, live_server, page):
    user = create_user(app)
    create_workspace(app, user, slug="busy")
    client = app.test_client()
    for _ in range(10):
        assert client.post("/api/feedback", json={"message": "earlier"}, headers=user.headers).status_code == 201
    sign_in(page.context, app, live_server.url, user)
    page.goto(f"{live_server.url}/busy/issues")
    dialog = open_feedback(page)
    dialog.get_by_role("textbox").fill("one more")
    dialog.get_by_role("button", name="Send").click()
    alert = dialog.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text() == "Sorry — too many feedback submissions, please try again later."
    assert not dialog.get_by_text("Thanks — your feedback was sent.").is_visible()
    assert dialog.get_by_role("textbox").input_value() == "one more"  # nothing lost
    assert len(rows(app, user)) == 10
    flush(app)
    assert len(sink.events("feedback_submitted")) == 10

    # An hour later the same modal sends it.
    age_rows(app, user, minutes=61)
    dialog.get_by_role("button", name="Send").click()
    dialog.get_by_text("Thanks — your feedback was sent.").wait_for()
    assert not alert.is_visible()
    assert len(rows(app, user)) == 11


@pytest.mark.parametrize("surface", ["workspace", "onboarding"])
def test_without_javascript_the_item_leads_to_the_feedback_page(app, sink, live_server, browser, surface):
    user = create_user(app)
    workspace = create_workspace(app, user, slug="no-js")
    context = browser.new_context(java_script_enabled=False)
    try:
        sign_in(context, app, live_server.url, user)
        page = context.new_page()
        start = "/no-js/issues" if surface == "workspace" else "/onboarding"
        page.goto(f"{live_server.url}{start}")
        page.get_by_role("button", name="Help").click()
        page.get_by_role("menuitem", name="Feedback").click()
        expected = f"/feedback?workspace={workspace['id']}" if surface == "workspace" else "/feedback"
        page.wait_for_url(f"{live_server.url}{expected}")
        assert not page.get_by_role("dialog").is_visible()

        page.get_by_role("button", name="Send").click()  # empty: refused inline
        assert page.get_by_role("alert").inner_text() == "Sorry — message is required."
        assert rows(app) == []

        page.get_by_role("textbox").fill("Sent from the page, no scripts.")
        page.get_by_role("button", name="Send").click()
        page.wait_for_url(f"{live_server.url}{expected}{'&' if '?' in expected else '?'}sent=1")
        assert page.get_by_role("status").inner_text() == "Thanks — your feedback was sent."
        [row] = rows(app, user)
        assert row.message == "Sent from the page, no scripts."
        assert (str(row.workspace_id) if row.workspace_id else None) == (workspace["id"] if surface == "workspace" else None)
        assert row.details["url"] == f"{live_server.url}{start}"  # the page the item was clicked on
        flush(app)
        [event] = sink.wait_for_events(1, "feedback_submitted", TIMEOUT)
        assert event["distinct_id"] == user.id
        assert ("workspace_id" in event["properties"]) == (surface == "workspace")
        assert sink.events("feedback_opened") == []  # no script, no tracker event
    finally:
        context.close()
