"""The rough edges of onboarding without JavaScript (D20.4, issue 13), each as it was met and as it is now."""

from __future__ import annotations

import html
import re
import threading
import uuid

import pytest
import sqlalchemy as sa

from multica.agents.models import Agent
from multica.extensions import db
from multica.issues.models import Issue
from multica.workspaces.models import Workspace
from tests.conftest import create_user, create_workspace, flush
from tests.onboarding.test_pages import (
    Browser,
    answer_questionnaire,
    create_token,
    query,
    register_runtime,
    user_events,
)


def count(app, model, **where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**where))


def mark_offline(app, runtime_id: str) -> None:
    from multica.runtimes.models import Runtime

    with app.app_context():
        db.session.get(Runtime, uuid.UUID(runtime_id)).status = "offline"
        db.session.commit()


@pytest.fixture
def flow(app):
    """A user past the questionnaire with a workspace: (browser, workspace id)."""
    user = create_user(app)
    browser = Browser(app, user)
    answer_questionnaire(browser)
    response = browser.post("/onboarding", {"intent": "workspace", "name": "Acme Robotics", "slug": "acme-robotics"})
    return browser, query(response.location)["workspace"]


def test_refresh_the_list_reloads_the_page_rather_than_scrolling(app, flow):
    """It was a link to the URL already shown (`…&panel=cli#cli`), which a browser only scrolls to."""
    browser, workspace_id = flow
    page = browser.get(f"/onboarding?step=runtime&workspace={workspace_id}&panel=cli").text
    assert not re.search(r"<a [^>]*>Refresh the list</a>", page)
    form = re.search(r'<form method="get" action="/onboarding#cli" data-refresh>(.*?)</form>', page, re.S).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    assert fields == {"workspace": workspace_id, "step": "runtime", "panel": "cli"}
    assert re.search(r'<button class="button" type="submit">Refresh the list</button>', form)
    # Submitting it is a navigation that shows a runtime registered since the page was drawn.
    token, _ = create_token(browser, workspace_id)
    runtime = register_runtime(app, token, daemon_id="new-laptop")
    refreshed = browser.get("/onboarding?" + "&".join(f"{key}={value}" for key, value in fields.items())).text
    assert f'value="{runtime["id"]}"' in refreshed and "new-laptop" in refreshed


def test_an_offline_runtime_cannot_be_chosen_to_continue(app, sink, flow):
    browser, workspace_id = flow
    token, _ = create_token(browser, workspace_id)
    runtime = register_runtime(app, token, daemon_id="sleepy")
    mark_offline(app, runtime["id"])
    page = browser.get(f"/onboarding?step=runtime&workspace={workspace_id}&panel=cli").text
    assert re.search(rf'<input type="radio" name="runtime" value="{runtime["id"]}" required\s+disabled>', page)
    # Chosen anyway (a stale page): the step stays, and says why.
    response = browser.get(f"/onboarding?step=agent&workspace={workspace_id}&runtime={runtime['id']}", status=409)
    text = html.unescape(response.text)
    assert 'aria-current="step">Runtime' in text
    assert "The runtime “sleepy” is offline, so an agent could not run on it." in text
    response = browser.post("/onboarding", {"intent": "agent", "workspace": workspace_id, "runtime": runtime["id"], "template": "coding"}, status=409)
    assert "is offline" in response.text
    assert count(app, Agent) == 0
    flush(app)
    assert "agent_created" not in [event["event"] for event in sink.events()]


def test_back_then_resubmitting_the_first_issue_creates_it_once(app, sink, flow):
    browser, workspace_id = flow
    browser.post("/onboarding", {"intent": "finish", "workspace": workspace_id})  # Skip
    form = {"intent": "first_issue", "workspace": workspace_id, "title": "Write the README"}
    first = browser.post("/onboarding", form)
    assert first.location == "/acme-robotics/issues"
    browser.get(f"/onboarding?step=first_issue&workspace={workspace_id}")  # Back
    again = browser.post("/onboarding", {**form, "title": "Write the README, properly"})
    assert again.location == "/acme-robotics/issues"
    browser.post("/onboarding", form)  # a replayed POST
    assert count(app, Issue) == 1
    flush(app)
    assert [event["event"] for event in user_events(sink, browser.user)].count("issue_created") == 1


@pytest.mark.postgres
def test_concurrent_first_issue_submissions_create_one_issue(app, sink, flow):
    browser, workspace_id = flow
    browser.post("/onboarding", {"intent": "finish", "workspace": workspace_id})
    clients = []
    for _ in range(8):
        other = Browser(app, browser.user)
        other.get(f"/onboarding?step=first_issue&workspace={workspace_id}")
        clients.append(other)
    barrier = threading.Barrier(len(clients))
    statuses = []

    def submit(other):
        barrier.wait()
        response = other.client.post("/onboarding", data={
            "intent": "first_issue", "workspace": workspace_id, "title": "Race",
        })
        statuses.append(response.status_code)

    threads = [threading.Thread(target=submit, args=(other,)) for other in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302] * len(clients)
    assert count(app, Issue) == 1
    flush(app)
    assert [event["event"] for event in user_events(sink, browser.user)].count("issue_created") == 1


def test_a_name_over_the_limit_is_refused_with_a_message_and_never_cut(app):
    user = create_user(app)
    browser = Browser(app, user)
    answer_questionnaire(browser)
    page = browser.get("/onboarding?step=workspace").text
    assert not re.search(r'<input[^>]*name="name"[^>]*maxlength', page)  # the browser would cut it silently
    name = "Research and Development Department of the Very Long Named Company Limited of Greater Somewhere East and West"
    assert len(name) > 100
    response = browser.post("/onboarding", {"intent": "workspace", "name": name, "slug": ""}, status=400)
    assert "That name is too long: keep it to 100 characters" in html.unescape(response.text)
    assert f'value="{name}"' in response.text
    assert count(app, Workspace) == 0


def test_an_empty_url_whose_name_is_taken_gets_a_free_one(app, sink):
    create_workspace(app, create_user(app), name="Acme", slug="acme")
    user = create_user(app)
    browser = Browser(app, user)
    answer_questionnaire(browser)
    response = browser.post("/onboarding", {"intent": "workspace", "name": "Acme", "slug": ""})
    workspace_id = query(response.location)["workspace"]
    with app.app_context():
        assert db.session.get(Workspace, uuid.UUID(workspace_id)).slug == "acme-2"


def test_the_progress_bar_does_not_mark_skipped_steps_done(app, flow):
    browser, workspace_id = flow
    browser.post("/onboarding", {"intent": "finish", "workspace": workspace_id})
    page = browser.get(f"/onboarding?step=first_issue&workspace={workspace_id}").text
    progress = [(state, label.strip()) for state, label in re.findall(r'<li class="(\w*)"[^>]*>([^<]+)', page[page.index('aria-label="Setup progress"'):])]
    assert progress[:5] == [
        ("done", "About you"), ("done", "Workspace"), ("skipped", "Runtime"), ("skipped", "Agent"), ("current", "First issue"),
    ]


@pytest.mark.parametrize(("team_size", "copy"), [("solo", "What's the first thing you'd like done?"), ("team", "Give your team something")])
def test_the_first_issue_copy_fits_who_uses_it(app, team_size, copy):
    user = create_user(app)
    browser = Browser(app, user)
    answer_questionnaire(browser, team_size=team_size)
    response = browser.post("/onboarding", {"intent": "workspace", "name": "Solo", "slug": ""})
    workspace_id = query(response.location)["workspace"]
    browser.post("/onboarding", {"intent": "finish", "workspace": workspace_id})
    page = html.unescape(browser.get(f"/onboarding?step=first_issue&workspace={workspace_id}").text)
    assert copy in page
    assert ("your team" in page) is (team_size == "team")


def test_coming_back_after_creating_an_agent_resumes_at_its_first_issue(app, flow):
    browser, workspace_id = flow
    token, _ = create_token(browser, workspace_id)
    runtime = register_runtime(app, token)
    response = browser.post("/onboarding", {"intent": "agent", "workspace": workspace_id, "runtime": runtime["id"], "template": "coding"})
    agent_id = query(response.location)["agent"]
    resumed = browser.client.get("/onboarding")
    assert query(resumed.location) == {"step": "first_issue", "workspace": workspace_id, "agent": agent_id}
    page = browser.follow(resumed).text
    assert "It will be assigned to Coding agent." in page
    assert 'class="skipped"' not in page
