"""`/admin/funnel` (D16.3, D19.13): only ADMIN_EMAILS see it (404 for anyone else, signed out
included); its numbers equal the command's; in headless Chromium each chart's SVG has the right bars,
points and labels, with a table beneath and no external script."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.conftest import create_user
from tests.insight.seed import seed

ADMIN = "boss@example.com"


@pytest.fixture
def admin_app(make_app):
    return make_app(ADMIN_EMAILS=f"someone@example.com, {ADMIN.upper()}")


def test_anyone_but_an_admin_gets_404(admin_app):
    client = admin_app.test_client()
    assert client.get("/admin/funnel").status_code == 404  # signed out: not a redirect
    other = create_user(admin_app)
    assert client.get("/admin/funnel", headers=other.headers).status_code == 404


def test_without_admin_emails_nobody_sees_it(app):
    admin = create_user(app, ADMIN)
    assert app.test_client().get("/admin/funnel", headers=admin.headers).status_code == 404


def test_the_page_shows_the_commands_numbers(admin_app):
    seed(admin_app)
    admin = create_user(admin_app, ADMIN)
    response = admin_app.test_client().get("/admin/funnel?since=30d", headers=admin.headers)
    assert response.status_code == 200
    html = response.text
    report = json.loads(admin_app.test_cli_runner().invoke(args=["analytics", "funnel", "--since", "30d", "--json"]).stdout)
    for step in report["steps"]:
        # The admin is a user too, created after the command ran: compare everything but sign-ups.
        if step["name"] == "signed_up":
            continue
        assert re.search(rf'<g class="bar" data-step="{step["name"]}" data-count="{step["count"]}">', html), step
    for week, count in report["weekly_active_workspaces"].items():
        assert f'data-week="{week}" data-value="{count}"' in html
    assert "<script src=\"http" not in html



def sign_in(page, app, site: str, user) -> None:
    with app.test_request_context():
        value = app.session_interface.get_signing_serializer(app).dumps({"user_id": user.id, "sid": uuid.uuid4().hex})
    page.context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": value, "url": site}])


@pytest.fixture
def admin_live(admin_app):
    from tests.conftest import LiveServer

    server = LiveServer(admin_app).start()
    yield server
    server.stop()


@pytest.mark.browser
def test_charts_in_chromium_have_bars_points_labels_and_tables(admin_app, admin_live, page):
    expected = seed(admin_app)
    admin = create_user(admin_app, ADMIN)
    sign_in(page, admin_app, admin_live.url, admin)
    external = []
    page.on("request", lambda request: external.append(request.url) if not request.url.startswith(admin_live.url) else None)
    page.goto(f"{admin_live.url}/admin/funnel")
    assert page.get_by_role("heading", name="Activation funnel").is_visible()

    funnel = page.locator("svg#funnel-chart")
    assert funnel.get_attribute("role") == "img"
    assert funnel.locator("title").text_content() == "Activation funnel"
    bars = funnel.locator("g.bar")
    assert bars.count() == 8
    counts = {bars.nth(i).get_attribute("data-step"): int(bars.nth(i).get_attribute("data-count")) for i in range(8)}
    expected_steps = dict(expected["steps"], signed_up=expected["steps"]["signed_up"] + 1)  # the admin signed up too
    assert counts == {name: expected_steps[name] for name in counts}
    assert bars.nth(0).locator("rect").get_attribute("width") == "420.0"  # the widest bar is the first step
    assert funnel.locator("g.bar[data-step=onboarded] .bar-value").text_content() == "4 (200.0%)"
    assert funnel.locator("g.bar[data-step=issue_executed] .bar-label").text_content() == "Issue executed"
    assert "Issue executed 2" in funnel.locator("desc").text_content()

    paths = page.locator("svg#paths-chart g.bar")
    assert {paths.nth(i).get_attribute("data-step"): int(paths.nth(i).get_attribute("data-count")) for i in range(paths.count())} == expected["completion_paths"]

    weekly = page.locator("svg#weekly-chart")
    points = weekly.locator("g.point")
    values = {points.nth(i).get_attribute("data-week"): int(points.nth(i).get_attribute("data-value")) for i in range(points.count())}
    assert {week: values[week] for week in expected["weekly"]} == expected["weekly"]
    assert weekly.locator("polyline").count() == 1

    table = page.locator("table[data-table=funnel-chart]")
    assert table.locator("tbody tr").count() == 8
    assert table.locator("tr[data-step=first_agent] td").first.text_content() == "2"
    assert page.locator("table[data-table=weekly-chart] tbody tr").count() == points.count()
    assert external == []
