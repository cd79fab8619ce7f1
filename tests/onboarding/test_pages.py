"""The onboarding pages without JavaScript: every completion path end to end with the test client (§9.5, D10).

Each journey drives the server-rendered steps the way a browser with scripts off would (GET pages,
POST forms with the CSRF token, follow redirects) and then checks two things: the HTML the person
saw, and the server events that reached the PostHog sink, in order, for that user.
"""

from __future__ import annotations

import html
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

# The page modules attach their routes to the blueprints on import; importing them before any app
# is built keeps these tests independent of the wiring in `register_blueprints`.


from multica.auth.models import User
from multica.extensions import db
from multica.issues.models import Issue
from multica.runtimes.models import Runtime
from tests.conftest import create_user, create_workspace, csrf_client, flush

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


# ---- helpers ---------------------------------------------------------------------------------------

class Browser:
    """A signed-in test client that posts forms with the session's CSRF token, like a browser without JS."""

    def __init__(self, app, user) -> None:
        self.app = app
        self.user = user
        self.client = csrf_client(app, user)

    def get(self, url: str, status: int = 200):
        response = self.client.get(url)
        assert response.status_code == status, (url, response.status_code, response.text[:500])
        return response

    def post(self, url: str, data: dict, status: int = 302):
        response = self.client.post(url, data=data)
        assert response.status_code == status, (url, response.status_code, response.text[:800])
        return response

    def follow(self, response, status: int = 200):
        """GET the redirect target of `response`."""
        assert response.status_code in (301, 302, 303), response.status_code
        return self.get(response.location, status)


def query(url: str) -> dict:
    """The query parameters of a URL, one value each."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def user_events(sink, user) -> list[dict]:
    """Every event the sink accepted whose distinct id is this user, in arrival order."""
    return [event for event in sink.events() if event.get("distinct_id") == user.id]


def names(events) -> list[str]:
    return [event["event"] for event in events]


def stored_user(app, user) -> User:
    with app.app_context():
        return db.session.get(User, uuid.UUID(user.id))


def assert_no_pii(events, *texts: str) -> None:
    """No event carries an email address or any of the free-text strings typed during the journey."""
    blob = repr(events)
    assert "@" not in blob, blob
    for text in texts:
        assert text not in blob, (text, blob)


def answer_questionnaire(browser, **answers):
    """Submit the questionnaire form; answers default to solo / developer / coding."""
    data = {"team_size": "solo", "role": "developer", "use_case": "coding", **answers}
    return browser.post("/onboarding", {"intent": "questionnaire", **data})


def create_flow_workspace(browser, slug: str):
    """Create a workspace on the workspace step; returns (workspace id, runtime step response)."""
    response = browser.post("/onboarding", {"intent": "workspace", "name": "Acme Robotics", "slug": slug})
    params = query(response.location)
    assert params["step"] == "runtime"
    return params["workspace"], browser.follow(response).text


def register_runtime(app, token: str, provider: str = "claude", daemon_id: str = "laptop") -> dict:
    """What the daemon does: register a provider with the daemon token."""
    response = app.test_client().post(
        "/api/daemon/register", json={"daemon_id": daemon_id, "providers": [provider]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.json
    return response.json["runtimes"][0]


def create_token(browser, workspace_id: str, **extra) -> tuple[str, str]:
    """Press "Create a connection token": POST, a 303 to the runtime step, and the token shown there once."""
    response = browser.post("/onboarding", {"intent": "daemon_token", "workspace": workspace_id, **extra}, status=303)
    assert query(response.location) == {"step": "runtime", "workspace": workspace_id, "panel": "cli"}
    assert response.location.endswith("#cli")
    page = browser.follow(response).text
    return re.search(r"<code class=\"token\" data-daemon-token>(mdt_[^<]+)</code>", page).group(1), page


# ---- access and Welcome ------------------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_login_with_next(client):
    response = client.get("/onboarding")
    assert response.status_code == 302
    assert response.location == "/login?next=/onboarding"
    response = client.get("/onboarding?step=runtime")
    assert response.status_code == 302 and response.location.startswith("/login?next=")


def test_welcome_starts_a_new_run(app):
    user = create_user(app)
    page = Browser(app, user).get("/onboarding").text
    assert "Welcome to Multica" in page
    assert 'aria-label="Setup progress"' not in page  # the indicator leaves Welcome out
    assert 'href="/onboarding?step=questionnaire"' in page
    # Web-only download link: /download in a new tab, no opener, tracked as a welcome intent.
    assert re.search(
        r'<a href="/download" target="_blank" rel="noopener noreferrer"\s+'
        r'data-track="download_intent_expressed" data-track-source="welcome">Download desktop</a>', page,
    )
    # "I've done this before" needs a workspace to land in.
    assert "I've done this before" not in html.unescape(page)


def test_coming_back_resumes_at_the_first_unfinished_step(app, sink):
    """D20.4: once the questionnaire is answered, `/onboarding` never shows Welcome again."""
    user = create_user(app)
    browser = Browser(app, user)
    answer_questionnaire(browser)
    response = browser.client.get("/onboarding")
    assert query(response.location) == {"step": "workspace"}
    workspace_id, _ = create_flow_workspace(browser, "resumed")
    assert query(browser.client.get("/onboarding").location) == {"step": "runtime", "workspace": workspace_id}
    browser.post("/onboarding", {"intent": "finish", "workspace": workspace_id})  # Skip
    assert query(browser.client.get("/onboarding").location) == {"step": "first_issue", "workspace": workspace_id}
    browser.post("/onboarding", {"intent": "first_issue", "workspace": workspace_id, "title": "First"})
    assert browser.client.get("/onboarding").location == "/resumed/issues"
    # An unknown step is not a way back to Welcome either.
    assert browser.client.get("/onboarding?step=nope").location == "/onboarding"


def test_progress_indicator_marks_the_current_step(app):
    user = create_user(app)
    workspace = create_workspace(app, user)
    browser = Browser(app, user)
    for index, step in enumerate(("questionnaire", "workspace", "runtime")):
        page = browser.get(f"/onboarding?step={step}&workspace={workspace['id']}").text
        items = re.findall(r'<li class="(done|current|)"\s*(aria-current="step")?>([^<]+)</li>', page)
        assert [label for _, _, label in items] == ["About you", "Workspace", "Runtime", "Agent", "First issue"]
        assert [state for state, _, _ in items] == ["done"] * index + ["current"] + [""] * (4 - index)
        assert [bool(current) for _, current, _ in items].index(True) == index


@pytest.mark.parametrize("has_workspace", [False, True])
def test_started_workspace_is_the_flow_workspace_else_the_first_listed(app, has_workspace):
    """The shell hands onboarding.js the workspace for `onboarding_started` only when there is one."""
    user = create_user(app)
    browser = Browser(app, user)
    page = browser.get("/onboarding").text
    if not has_workspace:
        assert "data-started-workspace-id" not in page
        return
    first = create_workspace(app, user, slug="first-ws")
    second = create_workspace(app, user, slug="second-ws")
    assert f'data-started-workspace-id="{first["id"]}"' in browser.get("/onboarding").text
    page = browser.get(f"/onboarding?step=runtime&workspace={second['id']}").text
    assert f'data-started-workspace-id="{second["id"]}"' in page


def test_skip_existing_completes_and_lands_in_the_first_workspace(app, sink):
    user = create_user(app)
    first = create_workspace(app, user, name="First", slug="first-ws")
    create_workspace(app, user, name="Second", slug="second-ws")
    browser = Browser(app, user)
    page = browser.get("/onboarding").text
    assert "I've done this before" in html.unescape(page)
    response = browser.post("/onboarding", {"intent": "skip_existing"})
    assert response.location == "/first-ws/issues"
    assert "Issues" in browser.follow(response).text
    flush(app)
    events = user_events(sink, user)
    assert names(events) == ["workspace_created", "workspace_created", "onboarding_completed"]
    completed = events[-1]
    assert completed["properties"]["completion_path"] == "skip_existing"
    assert completed["properties"]["workspace_id"] == first["id"]
    assert completed["properties"]["joined_cloud_waitlist"] is False
    assert TIMESTAMP.match(completed["properties"]["$set_once"]["onboarded_at"])
    assert stored_user(app, user).onboarded_at is not None
    # Doing it again changes nothing and emits nothing.
    browser.post("/onboarding", {"intent": "skip_existing"})
    flush(app)
    assert names(user_events(sink, user)).count("onboarding_completed") == 1


def test_skip_existing_without_a_workspace_goes_back_to_welcome(app, sink):
    user = create_user(app)
    browser = Browser(app, user)
    response = browser.post("/onboarding", {"intent": "skip_existing"})
    assert response.location == "/onboarding"
    flush(app)
    assert user_events(sink, user) == []
    assert stored_user(app, user).onboarded_at is None


# ---- questionnaire ---------------------------------------------------------------------------------

def test_questionnaire_stores_exactly_the_six_keys_and_prefills(app, sink):
    user = create_user(app)
    browser = Browser(app, user)
    page = browser.get("/onboarding?step=questionnaire").text
    assert not re.search(r"required\s+checked>", page)  # a fresh user has nothing pre-selected
    # A concrete choice with stale "Other" text still stores `*_other: null`.
    response = answer_questionnaire(browser, team_size_other="left over from before")
    assert query(response.location) == {"step": "workspace"}
    assert stored_user(app, user).onboarding_questionnaire == {
        "team_size": "solo", "team_size_other": None, "role": "developer", "role_other": None,
        "use_case": "coding", "use_case_other": None,
    }
    page = browser.get("/onboarding?step=questionnaire").text
    for slot, value in (("team_size", "solo"), ("role", "developer"), ("use_case", "coding")):
        assert re.search(rf'name="{slot}" value="{value}" required\s+checked>', page), slot
    assert len(re.findall(r"required\s+checked>", page)) == 3
    flush(app)
    [event] = user_events(sink, user)
    assert event["event"] == "onboarding_questionnaire_submitted"
    assert event["properties"]["$set"] == {"team_size": "solo", "role": "developer", "use_case": "coding"}


def test_other_answers_keep_their_text_which_never_travels(app, sink):
    user = create_user(app)
    browser = Browser(app, user)
    answer_questionnaire(browser, role="other", role_other="  Head of robots  ", use_case="explore")
    stored = stored_user(app, user).onboarding_questionnaire
    assert stored["role"] == "other" and stored["role_other"] == "Head of robots"
    page = browser.get("/onboarding?step=questionnaire").text
    assert 'value="Head of robots"' in page
    flush(app)
    [event] = user_events(sink, user)
    assert event["properties"]["role_has_other"] is True
    assert event["properties"]["team_size_has_other"] is False
    assert_no_pii([event], "Head of robots")


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ({"team_size": ""}, "Please pick one."),
        ({"role": "ceo"}, "Please pick one."),
        ({"use_case": "other", "use_case_other": "   "}, "Tell us a little more in the box."),
        ({"team_size": "other", "team_size_other": "x" * 201}, "Please keep it under 200 characters."),
    ],
)
def test_incomplete_questionnaire_is_refused_inline(app, sink, answers, problem):
    user = create_user(app)
    browser = Browser(app, user)
    data = {"team_size": "solo", "role": "developer", "use_case": "coding", **answers}
    response = browser.post("/onboarding", {"intent": "questionnaire", **data}, status=400)
    assert problem in response.text
    assert 'role="alert"' in response.text
    assert stored_user(app, user).onboarding_questionnaire == {}
    flush(app)
    assert user_events(sink, user) == []


@pytest.mark.parametrize("intent", ["", "delete_everything"])
def test_unknown_intent_is_a_friendly_400(app, intent):
    browser = Browser(app, create_user(app))
    response = browser.post("/onboarding", {"intent": intent}, status=400)
    assert "Unknown onboarding action." in response.text


def test_forms_without_the_csrf_token_are_refused(app):
    user = create_user(app)
    browser = Browser(app, user)
    response = browser.client.post("/onboarding", data={"intent": "questionnaire", "team_size": "solo", "role": "developer", "use_case": "coding"}, csrf=False)
    assert response.status_code == 403
    assert stored_user(app, user).onboarding_questionnaire == {}


# ---- workspace step -----------------------------------------------------------------------------------

def test_workspace_step_offers_the_first_listed_workspace(app):
    user = create_user(app)
    first = create_workspace(app, user, name="First", slug="first-ws")
    create_workspace(app, user, name="Second", slug="second-ws")
    page = Browser(app, user).get("/onboarding?step=workspace").text
    assert "Continue with First" in page
    link = html.unescape(re.search(r'data-continue-workspace\s+href="([^"]+)"', page).group(1))
    assert query(link) == {"step": "runtime", "workspace": first["id"]}


@pytest.mark.parametrize(
    ("name", "slug", "status", "message", "kept"),
    [
        ("", "acme", 400, "Give the workspace a name.", "acme"),
        ("Acme", "Not a slug!", 400, "The URL can use lowercase letters, digits and dashes", "Not a slug!"),
        ("Acme", "api", 400, "The URL can use lowercase letters, digits and dashes", "api"),
        # A taken URL comes back with a free one filled in, said in plain words (D20.4).
        ("Acme", "taken-slug", 409, "The URL “taken-slug” is already taken. “taken-slug-2” is free", "taken-slug-2"),
    ],
)
def test_workspace_errors_are_shown_inline(app, sink, name, slug, status, message, kept):
    other = create_user(app)
    create_workspace(app, other, slug="taken-slug")
    user = create_user(app)
    browser = Browser(app, user)
    browser.get("/onboarding?step=workspace")
    response = browser.post("/onboarding", {"intent": "workspace", "name": name, "slug": slug}, status=status)
    assert message in html.unescape(response.text)
    assert 'aria-current="step">Workspace' in response.text
    assert f'value="{html.escape(kept)}"' in response.text  # what they typed is kept, or the free URL offered
    flush(app)
    assert user_events(sink, user) == []


def test_later_steps_without_a_workspace_go_to_the_workspace_step(app):
    user = create_user(app)
    stranger = create_user(app)
    theirs = create_workspace(app, stranger)
    browser = Browser(app, user)
    for step in ("runtime", "agent", "first_issue"):
        assert query(browser.client.get(f"/onboarding?step={step}").location)["step"] == "workspace"
        # Someone else's workspace id counts as no workspace at all.
        response = browser.client.get(f"/onboarding?step={step}&workspace={theirs['id']}")
        assert query(response.location) == {"step": "workspace"}


def test_posting_with_someone_elses_workspace_is_forbidden(app, sink):
    user = create_user(app)
    stranger = create_user(app)
    theirs = create_workspace(app, stranger)
    browser = Browser(app, user)
    browser.get("/onboarding")
    for intent in ("finish", "daemon_token", "waitlist", "first_issue", "agent"):
        response = browser.post("/onboarding", {"intent": intent, "workspace": theirs["id"], "email": "me@example.com", "title": "x"}, status=403)
        assert "You can" in response.text  # the friendly error page, not JSON
    assert browser.post("/onboarding", {"intent": "finish", "workspace": "nope"}, status=400)
    assert stored_user(app, user).onboarded_at is None
    flush(app)
    assert user_events(sink, user) == []


# ---- runtime step ---------------------------------------------------------------------------------------

def test_runtime_step_renders_the_platform_fork(app):
    user = create_user(app)
    workspace = create_workspace(app, user)
    page = Browser(app, user).get(f"/onboarding?step=runtime&workspace={workspace['id']}").text
    assert page.count('class="runtime-card"') == 3
    assert re.search(r'<a class="button primary" href="/download" target="_blank" rel="noopener noreferrer"\s+data-runtime-path="download_desktop">', page)
    assert 'data-runtime-path="cli"' in page and 'data-runtime-path="cloud_waitlist"' in page
    # Without JS the panels open through the URL; the footer has Skip only.
    assert re.search(r'<section id="cli" class="panel" data-panel="cli" hidden', page)
    footer = page[page.index('<footer class="step-footer">'):]
    assert re.findall(r"<button[^>]*>([^<]+)</button>", footer) == ["Skip for now"]
    page = Browser(app, user).get(f"/onboarding?step=runtime&workspace={workspace['id']}&panel=cli").text
    assert re.search(r'<section id="cli" class="panel" data-panel="cli"\s+aria-labelledby', page)
    assert "Refresh the list" in page


def test_connection_token_is_shown_once_with_the_exact_command(app):
    user = create_user(app)
    workspace = create_workspace(app, user)
    browser = Browser(app, user)
    browser.get(f"/onboarding?step=runtime&workspace={workspace['id']}&panel=cli")
    token, page = create_token(browser, workspace["id"], panel="cli")
    assert f"python -m multica.daemon --server http://localhost --token {token} --provider claude" in page
    assert browser.client.get(f"/onboarding?step=runtime&workspace={workspace['id']}").headers["Cache-Control"] == "no-store"
    # The token works for the daemon, and it is never shown again.
    register_runtime(app, token)
    page = browser.get(f"/onboarding?step=runtime&workspace={workspace['id']}&panel=cli").text
    assert token not in page
    assert "--token &lt;token&gt; --provider claude" in page
    assert re.search(r'<input type="radio" name="runtime" value="' + UUID + r'" required\s*>', page)


def test_daemon_command_names_the_public_server_url_when_configured(app, monkeypatch):
    monkeypatch.setenv("MULTICA_APP_URL", "https://multica.example.org")
    user = create_user(app)
    workspace = create_workspace(app, user)
    browser = Browser(app, user)
    browser.get("/onboarding")
    _, page = create_token(browser, workspace["id"])
    assert "python -m multica.daemon --server https://multica.example.org --token mdt_" in page


def test_waitlist_errors_are_inline_and_do_not_latch(app, sink):
    user = create_user(app)
    workspace = create_workspace(app, user)
    browser = Browser(app, user)
    browser.get("/onboarding")
    response = browser.post("/onboarding", {"intent": "waitlist", "workspace": workspace["id"], "email": "not-an-email"}, status=400)
    assert "Email is invalid." in response.text
    assert 'value="not-an-email"' in response.text
    assert "data-waitlist-joined" not in response.text
    response = browser.post("/onboarding", {"intent": "waitlist", "workspace": workspace["id"], "email": "me@example.com", "reason": "x" * 501}, status=400)
    assert "Reason is too long." in response.text
    assert stored_user(app, user).cloud_waitlist_email is None
    flush(app)
    assert names(user_events(sink, user)) == ["workspace_created"]


def test_agent_step_needs_a_runtime_of_this_workspace(app):
    user = create_user(app)
    workspace = create_workspace(app, user)
    browser = Browser(app, user)
    # "Connect & continue" without a runtime of this workspace stays on the runtime step and says why (D20.4).
    for query_string in (f"&runtime={uuid.uuid4()}", "&runtime=", ""):
        response = browser.get(f"/onboarding?step=agent&workspace={workspace['id']}{query_string}", status=400)
        assert 'aria-current="step">Runtime' in response.text
        assert "Choose a runtime to continue." in response.text
        assert re.search(r'<section id="cli" class="panel" data-panel="cli"\s+aria-labelledby', response.text)


@pytest.mark.parametrize(
    ("role", "use_case", "template"),
    [("developer", "coding", "coding"), ("developer", "planning", "planning"), ("product_lead", "explore", "planning"),
     ("writer", "coding", "writing"), ("founder", "coding", "assistant"),
     # D20: "Other" as the role is decided by the use case.
     ("other", "coding", "coding"), ("other", "writing_research", "writing"), ("other", "explore", "assistant")],
)
def test_agent_template_is_preselected_from_the_answers(app, role, use_case, template):
    user = create_user(app)
    workspace = create_workspace(app, user)
    browser = Browser(app, user)
    answer_questionnaire(browser, role=role, use_case=use_case, role_other="Researcher" if role == "other" else "")
    token, _ = create_token(browser, workspace["id"])
    runtime = register_runtime(app, token)
    page = browser.get(f"/onboarding?step=agent&workspace={workspace['id']}&runtime={runtime['id']}").text
    assert re.findall(r'name="template" value="(\w+)" required checked', page) == [template]


# ---- the completion paths, end to end -------------------------------------------------------------------------

def test_full_path_without_javascript(app, sink):
    user = create_user(app)
    browser = Browser(app, user)
    assert "Welcome to Multica" in browser.get("/onboarding").text
    response = answer_questionnaire(browser)
    response = browser.post("/onboarding", {"intent": "workspace", "name": "Acme Robotics", "slug": "acme-robotics"})
    workspace_id = query(response.location)["workspace"]
    browser.follow(response)
    # CLI card without JS: open the panel, create a token, run the daemon, refresh, pick the runtime.
    browser.get(f"/onboarding?step=runtime&workspace={workspace_id}&panel=cli")
    token, _ = create_token(browser, workspace_id, panel="cli")
    runtime = register_runtime(app, token)
    page = browser.get(f"/onboarding?step=runtime&workspace={workspace_id}&panel=cli").text
    assert f'value="{runtime["id"]}"' in page and "laptop" in page and "online" in page
    page = browser.get(f"/onboarding?workspace={workspace_id}&step=agent&runtime={runtime['id']}").text
    assert 'aria-current="step">Agent' in page
    response = browser.post("/onboarding", {"intent": "agent", "workspace": workspace_id, "runtime": runtime["id"], "template": "coding"})
    params = query(response.location)
    assert params["step"] == "first_issue" and params["runtime"] == runtime["id"]
    agent_id = params["agent"]
    assert stored_user(app, user).onboarded_at is not None  # completed by the POST leading here
    page = browser.follow(response).text
    assert "You're all set" in html.unescape(page) and "It will be assigned to Coding agent." in page
    browser.get(response.location)  # a reload does not complete again
    response = browser.post("/onboarding", {"intent": "first_issue", **params, "title": "Add a dark mode toggle"})
    assert response.location == "/acme-robotics/issues"
    page = browser.follow(response).text
    assert "ACMEROBO-1" in page and "Add a dark mode toggle" in page and "Coding agent" in page

    flush(app)
    events = user_events(sink, user)
    assert names(events) == [
        "onboarding_questionnaire_submitted", "workspace_created", "agent_created", "onboarding_completed", "issue_created",
    ]
    agent_created, completed, issue_created = events[2], events[3], events[4]
    assert agent_created["properties"]["template"] == "coding"
    assert agent_created["properties"]["is_first_agent_in_workspace"] is True
    assert agent_created["properties"]["provider"] == "claude"
    assert completed["properties"]["completion_path"] == "full"
    assert completed["properties"]["workspace_id"] == workspace_id
    assert completed["properties"]["joined_cloud_waitlist"] is False
    assert issue_created["properties"]["agent_id"] == agent_id
    assert "onboarding_started" not in names(sink.events())  # frontend-only (§5.2)
    assert_no_pii(events, "Acme Robotics", "dark mode")
    with app.app_context():
        [issue] = db.session.scalars(sa.select(Issue)).all()
        assert str(issue.assignee_agent_id) == agent_id


def test_runtime_skipped_path_without_javascript(app, sink):
    user = create_user(app)
    browser = Browser(app, user)
    answer_questionnaire(browser, team_size="team")
    workspace_id, page = create_flow_workspace(browser, "skippers")
    assert 'aria-current="step">Runtime' in page
    response = browser.post("/onboarding", {"intent": "finish", "workspace": workspace_id})
    assert query(response.location) == {"step": "first_issue", "workspace": workspace_id}
    page = browser.follow(response).text
    assert "You're all set" in html.unescape(page) and "assigned to" not in page
    assert 'href="/skippers/issues">Skip</a>' in page
    # Reloading step 5 and repeating the Skip never complete twice.
    browser.get(response.location)
    browser.post("/onboarding", {"intent": "finish", "workspace": workspace_id})
    assert "No issues yet" in browser.get("/skippers/issues").text
    flush(app)
    events = user_events(sink, user)
    assert names(events) == ["onboarding_questionnaire_submitted", "workspace_created", "onboarding_completed"]
    props = events[-1]["properties"]
    assert props["completion_path"] == "runtime_skipped"
    assert props["joined_cloud_waitlist"] is False
    assert props["workspace_id"] == workspace_id


def test_cloud_waitlist_path_without_javascript(app, sink):
    user = create_user(app)
    browser = Browser(app, user)
    answer_questionnaire(browser)
    workspace_id, _ = create_flow_workspace(browser, "waiters")
    browser.get(f"/onboarding?step=runtime&workspace={workspace_id}&panel=waitlist")
    response = browser.post("/onboarding", {"intent": "waitlist", "workspace": workspace_id, "email": " Someone@Example.COM ", "reason": "GPU heavy evals"})
    # It does not advance: back on the runtime step, latched, with the waitlist panel open.
    params = query(response.location)
    assert params == {"step": "runtime", "workspace": workspace_id, "waitlist": "1", "panel": "waitlist"}
    page = browser.follow(response).text
    assert "data-waitlist-joined" in page
    assert re.search(r'name="waitlist" value="1"', page[page.index("data-skip-form"):])
    stored = stored_user(app, user)
    assert (stored.cloud_waitlist_email, stored.cloud_waitlist_reason, stored.onboarded_at) == ("someone@example.com", "GPU heavy evals", None)
    response = browser.post("/onboarding", {"intent": "finish", "workspace": workspace_id, "waitlist": "1"})
    assert query(response.location) == {"step": "first_issue", "workspace": workspace_id, "waitlist": "1"}
    browser.follow(response)
    flush(app)
    events = user_events(sink, user)
    assert names(events) == ["onboarding_questionnaire_submitted", "workspace_created", "cloud_waitlist_joined", "onboarding_completed"]
    assert events[2]["properties"]["has_reason"] is True
    assert events[3]["properties"]["completion_path"] == "cloud_waitlist"
    assert events[3]["properties"]["joined_cloud_waitlist"] is True
    assert_no_pii(events, "GPU heavy", "omeone")


def test_first_issue_title_is_required(app, sink):
    user = create_user(app)
    workspace = create_workspace(app, user, slug="titled")
    browser = Browser(app, user)
    browser.get("/onboarding")
    browser.post("/onboarding", {"intent": "finish", "workspace": workspace["id"]})
    response = browser.post("/onboarding", {"intent": "first_issue", "workspace": workspace["id"], "title": "   "}, status=400)
    assert "Title is required." in response.text
    flush(app)
    assert "issue_created" not in names(user_events(sink, user))


def test_last_step_offers_retry_when_onboarding_is_not_complete(app, sink):
    """Reaching step 5 by URL without the completing POST shows Retry, which completes once."""
    user = create_user(app)
    workspace = create_workspace(app, user)
    browser = Browser(app, user)
    page = browser.get(f"/onboarding?step=first_issue&workspace={workspace['id']}&waitlist=1").text
    assert "Retry" in page and "Create issue" not in page
    assert stored_user(app, user).onboarded_at is None
    form = page[page.index('name="intent" value="finish"'):]
    assert 'name="waitlist" value="1"' in form
    browser.post("/onboarding", {"intent": "finish", "workspace": workspace["id"], "waitlist": "1"})
    flush(app)
    [completed] = [e for e in user_events(sink, user) if e["event"] == "onboarding_completed"]
    assert completed["properties"]["completion_path"] == "cloud_waitlist"


def test_forged_runtime_from_another_workspace_does_not_count_as_full(app, sink):
    user = create_user(app)
    mine = create_workspace(app, user)
    stranger = create_user(app)
    theirs = create_workspace(app, stranger)
    with app.app_context():
        runtime = Runtime(workspace_id=uuid.UUID(theirs["id"]), daemon_id="x", provider="claude")
        db.session.add(runtime)
        db.session.commit()
        runtime_id = str(runtime.id)
    browser = Browser(app, user)
    browser.get("/onboarding")
    browser.post("/onboarding", {"intent": "finish", "workspace": mine["id"], "runtime": runtime_id})
    flush(app)
    [completed] = [e for e in user_events(sink, user) if e["event"] == "onboarding_completed"]
    assert completed["properties"]["completion_path"] == "runtime_skipped"


def test_a_failed_completion_lands_on_retry(app, sink, monkeypatch):
    """§9.5 "Failure shows Retry": the Skip still reaches step 5, which offers Retry until completion works."""
    from sqlalchemy.exc import OperationalError

    from multica.onboarding import pages

    real = pages.complete_onboarding

    def broken(*args, **kwargs):
        # Standing in for a database outage; there is no configuration switch for one.
        raise OperationalError("UPDATE user", {}, Exception("database is down"))

    user = create_user(app)
    workspace = create_workspace(app, user)
    browser = Browser(app, user)
    browser.get("/onboarding")
    monkeypatch.setattr(pages, "complete_onboarding", broken)
    response = browser.post("/onboarding", {"intent": "finish", "workspace": workspace["id"]})
    page = browser.follow(response).text
    assert "couldn't finish setting up" in html.unescape(page) and "Retry" in page
    assert stored_user(app, user).onboarded_at is None
    monkeypatch.setattr(pages, "complete_onboarding", real)
    response = browser.post("/onboarding", {"intent": "finish", "workspace": workspace["id"]})
    assert "You're all set" in html.unescape(browser.follow(response).text)
    flush(app)
    assert [e["event"] for e in user_events(sink, user)].count("onboarding_completed") == 1
