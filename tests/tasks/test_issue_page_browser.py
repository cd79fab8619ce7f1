"""In headless Chromium: assign an issue to an agent on its page and watch the daemon's result appear in place (D15.9)."""

from __future__ import annotations

import uuid

import pytest

from tests.tasks.helpers import create_issue

pytestmark = pytest.mark.browser


def sign_in(page, app, site: str, user) -> None:
    """Give the browser `user`'s signed session cookie (what a completed login leaves behind)."""
    with app.test_request_context():
        value = app.session_interface.get_signing_serializer(app).dumps({"user_id": user.id, "sid": uuid.uuid4().hex})
    page.context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": value, "url": site}])


def test_assign_on_the_issue_page_and_watch_the_result_arrive(app, client, owner, workspace, live_server, loop, page):
    process, agent, runtime = loop("slow.py")
    issue = create_issue(client, owner, workspace, title="Tidy the docs")
    sign_in(page, app, live_server.url, owner)
    page.goto(f"{live_server.url}/{workspace['slug']}/issues/{issue['key']}")
    assert page.get_by_role("heading", name="Tidy the docs").is_visible()
    page.get_by_label("Assignee").select_option(label=agent["name"])
    page.get_by_role("button", name="Assign").click()
    page.wait_for_selector("[data-task-list][data-active]")
    assert page.locator("[data-status=completed]").count() == 0
    page.evaluate("window.__stillTheSamePage = true")
    page.wait_for_selector("[data-status=completed]", timeout=30_000)
    assert page.evaluate("window.__stillTheSamePage") is True  # refreshed in place, not reloaded
    assert "Slowly done: Tidy the docs" in page.locator(".task-result").inner_text()
    assert page.locator("[data-issue-status]").inner_text() == "done"
    page.get_by_role("link", name="Issues").first.click()
    assert page.locator(f'[data-issue="{issue["key"]}"] [data-task-status]').inner_text() == "completed"
