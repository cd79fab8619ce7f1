"""The workspace shell in headless Chromium, with JavaScript on and off (D20, issue 13).

A new user who chooses Skip reaches a connected runtime and an agent from the workspace without typing
a URL: the issues page's empty state leads to the runtimes page, whose token and command start the
real daemon (`python -m multica.daemon`, as the page shows it), then the agents page creates an agent
on that runtime, and the issue is assigned to it from the list. The switcher moves between two
workspaces.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
import uuid

import pytest
import sqlalchemy as sa

from multica.agents.models import Agent
from multica.extensions import db
from multica.issues.models import Issue
from multica.runtimes.models import Runtime
from tests.conftest import ROOT, create_user, create_workspace

pytestmark = pytest.mark.browser

QUESTIONNAIRE = {"team_size": "team", "role": "developer", "use_case": "coding"}


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def tab(request, browser):
    """A fresh page, with JavaScript enabled or disabled."""
    context = browser.new_context(java_script_enabled=request.param)
    page = context.new_page()
    page.javascript = request.param
    yield page
    context.close()


@pytest.fixture
def daemons():
    """Daemon processes a test started; each is stopped with SIGTERM (so it deregisters) afterwards."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def sign_in(page, app, site: str, user) -> None:
    """Give the browser `user`'s signed session cookie (what a completed login leaves behind)."""
    with app.test_request_context():
        value = app.session_interface.get_signing_serializer(app).dumps({"user_id": user.id, "sid": uuid.uuid4().hex})
    page.context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": value, "url": site}])


def rows(app, model, **where) -> list:
    with app.app_context():
        found = list(db.session.scalars(sa.select(model).filter_by(**where)))
        db.session.expunge_all()
        return found


def test_skip_then_runtime_agent_and_assignment_from_the_workspace(app, live_server, tab, daemons):
    site, page = live_server.url, tab
    user = create_user(app)
    assert app.test_client().patch("/api/me/onboarding", json={"questionnaire": QUESTIONNAIRE}, headers=user.headers).status_code == 200
    sign_in(page, app, site, user)

    # Onboarding resumes after the questionnaire; create a workspace, Skip, and write a first issue.
    page.goto(f"{site}/onboarding")
    assert "step=workspace" in page.url
    page.get_by_label("Workspace name").fill("Skip Street")
    page.get_by_role("button", name="Create workspace").click()
    page.wait_for_url(re.compile(r"step=runtime"))
    page.get_by_role("button", name="Skip for now").click()
    page.wait_for_url(re.compile(r"step=first_issue"))
    page.get_by_label("Issue title").fill("Tidy the README")
    page.get_by_role("button", name="Create issue").click()
    page.wait_for_url(f"{site}/skip-street/issues")

    # The empty state leads to the runtimes page: no URL typed from here on.
    page.locator("main").get_by_role("link", name="connect a runtime").click()
    page.wait_for_url(f"{site}/skip-street/runtimes")
    page.get_by_role("button", name="Create a connection token").click()
    page.wait_for_url(f"{site}/skip-street/runtimes#install")
    token = page.locator("[data-daemon-token]").inner_text()
    command = page.locator("[data-daemon-command]").inner_text()
    assert command == f"python -m multica.daemon --server {site} --token {token} --provider claude"
    if page.javascript:
        page.get_by_role("button", name="Copy").click()
        page.get_by_role("button", name="Copied").wait_for()
    page.reload()  # POST/redirect/GET: a reload mints nothing and no longer shows the token
    assert page.locator("[data-daemon-token]").count() == 0
    argv = shlex.split(command)
    assert argv[:3] == ["python", "-m", "multica.daemon"]
    daemons.append(subprocess.Popen(
        [sys.executable, *argv[1:], "--daemon-id", "street-laptop"], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)},
    ))
    row = page.locator("tr[data-runtime]", has_text="street-laptop")
    deadline = time.monotonic() + 30
    while row.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
        page.get_by_role("button", name="Refresh the list").click()
        page.wait_for_load_state()
    assert row.count() == 1
    assert "online" in row.inner_text() and re.search(r"last seen (just now|\d+ seconds? ago)", row.inner_text())

    # The agents page creates an agent on that runtime, chosen by name.
    page.get_by_role("link", name="Create an agent on a runtime").click()
    page.wait_for_url(f"{site}/skip-street/agents")
    page.get_by_role("radio", name=re.compile("^Coding")).check()
    page.get_by_label("Runtime").select_option(label="street-laptop (claude)")
    page.get_by_label("Name").fill("Street coder")
    page.get_by_role("button", name="Create agent").click()
    page.wait_for_url(f"{site}/skip-street/agents")
    assert page.get_by_role("cell", name="Street coder").is_visible()

    # Back on Issues, the issue is assigned to the new agent from the list.
    page.get_by_role("navigation", name="Skip Street").get_by_role("link", name="Issues").click()
    page.wait_for_url(f"{site}/skip-street/issues")
    issue = page.locator("tr[data-issue]", has_text="Tidy the README")
    issue.get_by_label(re.compile("Assignee of")).select_option(label="Street coder")
    issue.get_by_role("button", name="Assign").click()
    page.wait_for_url(f"{site}/skip-street/issues")
    [agent] = rows(app, Agent, name="Street coder")
    [stored] = rows(app, Issue, title="Tidy the README")
    assert stored.assignee_agent_id == agent.id
    [runtime] = rows(app, Runtime, daemon_id="street-laptop")
    assert agent.runtime_id == runtime.id and runtime.name == "street-laptop"
    assert page.locator("tr[data-issue]", has_text="Tidy the README").get_by_label(re.compile("Assignee of")).input_value() == str(agent.id)


def test_the_switcher_moves_between_my_workspaces(app, live_server, tab):
    site, page = live_server.url, tab
    user = create_user(app)
    create_workspace(app, user, name="Alpha", slug="alpha-ws")
    create_workspace(app, user, name="Beta", slug="beta-ws")
    stranger = create_user(app)
    create_workspace(app, stranger, name="Gamma", slug="gamma-ws")
    sign_in(page, app, site, user)
    page.goto(f"{site}/alpha-ws/runtimes")

    switcher = page.locator("[data-workspace-switcher]")
    switcher.locator("summary").click()
    links = switcher.get_by_role("link")
    assert links.all_inner_texts() == ["Beta", "New workspace"]  # mine only, never a stranger's
    switcher.get_by_role("link", name="Beta").click()
    page.wait_for_url(f"{site}/beta-ws/issues")
    assert page.locator("[data-workspace-switcher] summary").inner_text() == "Beta"
    assert page.get_by_role("link", name="Multica").first.get_attribute("href") == "/beta-ws/issues"

    page.locator("[data-workspace-switcher] summary").click()
    page.locator("[data-workspace-switcher]").get_by_role("link", name="Alpha").click()
    page.wait_for_url(f"{site}/alpha-ws/issues")
    page.locator("[data-workspace-switcher] summary").click()
    page.locator("[data-workspace-switcher]").get_by_role("link", name="New workspace").click()
    page.wait_for_url(f"{site}/workspaces/new")
    response = page.goto(f"{site}/gamma-ws/issues")
    assert response.status == 404 and "Gamma" not in page.content()
