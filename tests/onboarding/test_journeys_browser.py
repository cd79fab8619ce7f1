"""Onboarding in headless Chromium: one journey per completion path, the §9.7 UI cases, and the desktop scan.

Every journey checks the EXACT ordered sequence of event names the PostHog sink received for the
user. `onboarding_started` (§9.6, once per shell mount) fires once per visit to the flow: on the page
entered from outside it, never on a page reached from another onboarding page (step links, form
posts and their redirects, the token page, reloads of those pages). To make that order a fact rather than a race, the test ships the page's tracker buffer
(`multicaAnalytics.flush()`, which resolves once the server has taken the batch) before every
navigation, and waits for the sink to hold exactly the expected sequence before the next action.
Events sent by the browser while a page unloads (the questionnaire's `$set`) are waited for the
same way. Each event is then checked against its contract: its distinct id, its exact custom
properties, and no email address or typed free text anywhere.

The `full` journey runs the real daemon (`python -m multica.daemon`, the command the page shows)
against the live server while the CLI panel is open, and the page's poll must pick the runtime up.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

# The page modules attach their routes to the blueprints on import (before any app is built).


from multica.auth.models import User
from multica.extensions import db
from multica.runtimes.models import Runtime
from tests.conftest import create_user, create_workspace, flush

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 15.0
# Stamped on every ingested event (§2.7, D7) or registered by the tracker as super-properties.
STAMPS = {"event_schema_version", "environment", "is_demo", "user_id", "client_type", "app_version", "$geoip_disable", "$lib", "$lib_version"}
PAGEVIEW = "$pageview"
SET = "$set"
DESKTOP_SHELL = "window.desktopAPI = { platform: 'test' };"


# ---- fixtures and helpers ------------------------------------------------------------------------------

@pytest.fixture
def app(make_app, monkeypatch):
    """A PostHog key in the environment, so pages hand the tracker a key (§13 re-reads it per request)."""
    monkeypatch.setenv("POSTHOG_API_KEY", "phc_test")
    return make_app()


@pytest.fixture
def site(live_server):
    return live_server.url


@pytest.fixture
def quiet_download(page):
    """Serve /download as an empty page, so the new tab it opens sends no pageview of its own."""
    page.context.route("**/download", lambda route: route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>Download</title>"))


def sign_in(page, app, site: str, user) -> None:
    """Give the browser `user`'s signed session cookie (what a completed login leaves behind)."""
    with app.test_request_context():
        value = app.session_interface.get_signing_serializer(app).dumps({"user_id": user.id, "sid": uuid.uuid4().hex})
    page.context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": value, "url": site}])


def step_of(url: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get("step")
    return values[0] if values else None


def at_step(step: str | None):
    return lambda url: urlsplit(url).path == "/onboarding" and step_of(url) == step


def user_events(sink, user) -> list[dict]:
    return [event for event in sink.events() if event.get("distinct_id") == user.id]


def custom(event: dict) -> dict:
    """The event's own properties, without stamps and person operations."""
    return {k: v for k, v in event["properties"].items() if k not in STAMPS and k not in ("$set", "$set_once")}


class Journey:
    """Drives one signed-in browser and keeps the exact event sequence it expects at the sink."""

    def __init__(self, page, app, sink, user) -> None:
        self.page, self.app, self.sink, self.user = page, app, sink, user
        self.expected: list[str] = []

    def ship(self) -> None:
        """Send what the tracker buffered (awaiting the ingestion POST), then flush the server client."""
        self.page.wait_for_function("() => Boolean(window.multicaAnalytics)")
        self.page.evaluate("() => window.multicaAnalytics.flush()")
        flush(self.app)

    def expect(self, *names: str) -> list[dict]:
        """Wait until the sink holds exactly the expected sequence for this user; return the events."""
        self.expected.extend(names)
        self.sink.wait_for(lambda s: [e["event"] for e in user_events(s, self.user)] == self.expected, TIMEOUT)
        events = user_events(self.sink, self.user)
        assert [e["event"] for e in events] == self.expected
        return events

    def shipped(self, *names: str) -> list[dict]:
        """Ship the page's buffer and expect `names` next."""
        self.ship()
        return self.expect(*names)

    def nothing_new(self) -> None:
        """The loaded page sent nothing: its mount-time events would be in the buffer this ships.

        (An event that escaped the buffer early still breaks the next `expect`, which needs the exact sequence.)
        """
        self.page.wait_for_load_state("load")
        self.ship()
        assert [e["event"] for e in user_events(self.sink, self.user)] == self.expected


def referrer(page) -> str:
    return page.evaluate("() => document.referrer")


def assert_contracts(events, user, *free_text: str) -> None:
    """Every event is the user's, stamped, and carries no email address or typed free text."""
    for event in events:
        assert event["distinct_id"] == user.id, event
        props = event["properties"]
        assert props["event_schema_version"] == 2
        if event["event"] not in ("$identify",):
            assert props.get("user_id") == user.id, event
    blob = repr(events)
    assert "@" not in blob, blob
    for text in free_text:
        assert text not in blob, (text, blob)


def is_mac(page) -> bool:
    return page.evaluate("() => /Mac|iPhone|iPad|iPod/i.test(navigator.platform) || /Mac OS X/.test(navigator.userAgent)")


def answer(page, team_size="Just me", role="Developer", use_case="Coding") -> None:
    page.get_by_role("group", name="Who will be using Multica?").get_by_label(team_size, exact=True).check()
    page.get_by_role("group", name="What best describes your role?").get_by_label(role, exact=True).check()
    page.get_by_role("group", name="What would you like agents to help with first?").get_by_label(use_case, exact=True).check()


def through_questionnaire(journey: Journey) -> None:
    """Welcome ⇒ Continue ⇒ answer ⇒ Continue, checking the events on the way (the user has no workspace yet)."""
    page = journey.page
    events = journey.shipped(PAGEVIEW, "onboarding_started")  # entering the flow: the one shell mount
    assert events[-2]["properties"]["$current_url"] == "/onboarding"
    assert custom(events[-1]) == {"source": "onboarding"}
    page.get_by_role("link", name="Continue").click()
    page.wait_for_url(at_step("questionnaire"))
    journey.nothing_new()  # the next step is the same visit
    answer(page)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(at_step("workspace"))
    # The server event comes from the POST; the `$set` leaves with the old page as it unloads.
    events = journey.expect("onboarding_questionnaire_submitted", SET)
    assert events[-1]["properties"]["$set"] == {"team_size": "solo", "role": "developer", "use_case": "coding"}
    journey.nothing_new()  # nor is the page the form post redirected to


def create_workspace_step(journey: Journey, slug: str) -> str:
    """Create the workspace on step 2; returns its id (from the runtime step URL)."""
    page = journey.page
    page.get_by_label("Workspace name").fill("Journey Co")
    page.get_by_label("URL").fill(slug)
    page.get_by_role("button", name="Create workspace").click()
    page.wait_for_url(at_step("runtime"))
    workspace_id = parse_qs(urlsplit(page.url).query)["workspace"][0]
    journey.expect("workspace_created")
    journey.nothing_new()
    return workspace_id


def path_selected(events, path: str, workspace_id: str, mac: bool) -> None:
    [event] = [e for e in events if e["event"] == "onboarding_runtime_path_selected"][-1:]
    assert custom(event) == {"path": path, "source": "onboarding", "surface": "step3", "workspace_id": workspace_id, "is_mac": mac}


def stored_user(app, user) -> User:
    with app.app_context():
        return db.session.get(User, uuid.UUID(user.id))


def add_runtime(app, workspace_id: str, provider: str, status: str = "online", daemon_id: str = "desk") -> None:
    with app.app_context():
        db.session.add(Runtime(workspace_id=uuid.UUID(workspace_id), daemon_id=daemon_id, provider=provider, status=status, name=f"{daemon_id}-{provider}"))
        db.session.commit()


@pytest.fixture
def daemons():
    """Daemon subprocesses started by a test; each is stopped (SIGTERM, so it deregisters) afterwards."""
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


# ---- the four completion paths ---------------------------------------------------------------------------

def test_full_journey_with_a_real_daemon(app, site, page, sink, daemons):
    user = create_user(app)
    sign_in(page, app, site, user)
    journey = Journey(page, app, sink, user)
    page.goto(f"{site}/onboarding")
    through_questionnaire(journey)
    workspace_id = create_workspace_step(journey, "full-journey")
    mac = is_mac(page)

    page.get_by_role("link", name="Set up the CLI").click()
    events = journey.shipped("onboarding_runtime_path_selected", SET)
    path_selected(events, "cli", workspace_id, mac)
    assert events[-1]["properties"]["$set"] == {"platform_preference": "web"}
    assert step_of(page.url) == "runtime"  # the panel opened in place
    connect = page.get_by_role("button", name="Connect & continue")
    assert connect.is_disabled()

    page.get_by_role("button", name="Create a connection token").click()
    page.wait_for_selector("[data-daemon-token]")
    journey.nothing_new()  # the token page answers the POST in the flow
    command = page.locator("[data-daemon-command]").inner_text()
    token = page.locator("[data-daemon-token]").inner_text()
    assert command == f"python -m multica.daemon --server {site} --token {token} --provider claude"
    argv = shlex.split(command)
    assert argv[:3] == ["python", "-m", "multica.daemon"]
    daemons.append(subprocess.Popen(
        [sys.executable, *argv[1:], "--daemon-id", "journey-laptop"], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)},
    ))
    # The page polls the runtimes API; the daemon's runtime shows up without a reload.
    radio = page.get_by_role("radio", name=re.compile(r"\bclaude\b"))
    radio.wait_for(timeout=30_000)
    assert connect.is_disabled()
    radio.check()
    assert connect.is_enabled()
    journey.ship()
    connect.click()
    page.wait_for_url(at_step("agent"))
    with app.app_context():
        [runtime] = db.session.scalars(sa.select(Runtime).where(Runtime.workspace_id == uuid.UUID(workspace_id))).all()
        assert runtime.provider == "claude" and runtime.status == "online"
    assert parse_qs(urlsplit(page.url).query)["runtime"] == [str(runtime.id)]
    journey.nothing_new()

    # Developer + coding ⇒ the coding template is pre-selected.
    assert page.get_by_role("radio", name=re.compile("^Coding")).is_checked()
    page.get_by_role("button", name="Create agent").click()
    page.wait_for_url(at_step("first_issue"))
    events = journey.expect("agent_created", "onboarding_completed")
    assert events[-2]["properties"]["template"] == "coding"
    assert events[-2]["properties"]["is_first_agent_in_workspace"] is True
    assert events[-1]["properties"]["completion_path"] == "full"
    assert events[-1]["properties"]["workspace_id"] == workspace_id
    journey.nothing_new()
    page.reload()  # reloading the last step never completes again, nor starts the flow again
    journey.nothing_new()

    page.get_by_label("Issue title").fill("Ship the onboarding flow")
    page.get_by_role("button", name="Create issue").click()
    page.wait_for_url(f"{site}/full-journey/issues")
    assert page.get_by_role("cell", name="Ship the onboarding flow").is_visible()
    assert page.get_by_role("cell", name="Coding agent").is_visible()
    events = journey.expect("issue_created")
    events = journey.shipped(PAGEVIEW)
    assert events[-1]["properties"]["$current_url"] == "/full-journey/issues"
    assert journey.expected == [
        PAGEVIEW, "onboarding_started", "onboarding_questionnaire_submitted", SET, "workspace_created",
        "onboarding_runtime_path_selected", SET, "agent_created", "onboarding_completed", "issue_created", PAGEVIEW,
    ]
    assert_contracts(events, user, "Journey Co", "Ship the onboarding")


def test_runtime_skipped_journey(app, site, page, sink):
    user = create_user(app)
    sign_in(page, app, site, user)
    journey = Journey(page, app, sink, user)
    page.goto(f"{site}/onboarding")
    through_questionnaire(journey)
    workspace_id = create_workspace_step(journey, "skip-journey")
    footer = page.locator("footer.step-footer")
    assert footer.get_by_role("button").all_inner_texts() == ["Skip for now"]
    journey.ship()
    footer.get_by_role("button", name="Skip for now").click()
    page.wait_for_url(at_step("first_issue"))
    events = journey.expect("onboarding_completed")
    assert custom(events[-1]) == {"completion_path": "runtime_skipped", "joined_cloud_waitlist": False, "workspace_id": workspace_id, "source": "onboarding"}
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", events[-1]["properties"]["$set_once"]["onboarded_at"])
    journey.nothing_new()
    page.get_by_role("link", name="Skip").click()
    page.wait_for_url(f"{site}/skip-journey/issues")
    events = journey.shipped(PAGEVIEW)
    assert journey.expected == [
        PAGEVIEW, "onboarding_started", "onboarding_questionnaire_submitted", SET, "workspace_created", "onboarding_completed", PAGEVIEW,
    ]
    assert_contracts(events, user, "Journey Co")


def test_cloud_waitlist_journey(app, site, page, sink):
    user = create_user(app)
    sign_in(page, app, site, user)
    journey = Journey(page, app, sink, user)
    page.goto(f"{site}/onboarding")
    through_questionnaire(journey)
    workspace_id = create_workspace_step(journey, "wait-journey")
    page.get_by_role("link", name="Join the waitlist").click()
    events = journey.shipped("onboarding_runtime_path_selected")  # no platform preference for this card
    path_selected(events, "cloud_waitlist", workspace_id, is_mac(page))
    join = page.get_by_role("button", name="Join the waitlist")
    page.get_by_label("Email").fill("Waiting.Person@Example.COM")
    page.get_by_label(re.compile("What would you use cloud runtimes for")).fill("Overnight evals on big GPUs")
    assert join.is_enabled()
    join.click()
    page.wait_for_url(at_step("runtime"))  # it does not advance
    assert parse_qs(urlsplit(page.url).query)["waitlist"] == ["1"]
    assert page.get_by_text("You're on the cloud waitlist").is_visible()
    events = journey.expect("cloud_waitlist_joined")
    assert custom(events[-1]) == {"has_reason": True, "source": "onboarding"}
    journey.nothing_new()
    stored = stored_user(app, user)
    assert (stored.cloud_waitlist_email, stored.onboarded_at) == ("waiting.person@example.com", None)
    page.get_by_role("button", name="Skip for now").click()
    page.wait_for_url(at_step("first_issue"))
    events = journey.expect("onboarding_completed")
    assert custom(events[-1]) == {"completion_path": "cloud_waitlist", "joined_cloud_waitlist": True, "workspace_id": workspace_id, "source": "onboarding"}
    journey.nothing_new()
    page.get_by_role("link", name="Skip").click()
    page.wait_for_url(f"{site}/wait-journey/issues")
    events = journey.shipped(PAGEVIEW)
    assert journey.expected == [
        PAGEVIEW, "onboarding_started", "onboarding_questionnaire_submitted", SET, "workspace_created",
        "onboarding_runtime_path_selected", "cloud_waitlist_joined", "onboarding_completed", PAGEVIEW,
    ]
    assert_contracts(events, user, "Journey Co", "Overnight evals", "aiting.person")


def test_skip_existing_journey(app, site, page, sink):
    user = create_user(app)
    first = create_workspace(app, user, name="Old Hands", slug="old-hands")
    create_workspace(app, user, name="Second", slug="second-hands")
    sign_in(page, app, site, user)
    journey = Journey(page, app, sink, user)
    flush(app)
    journey.expect("workspace_created", "workspace_created")
    page.goto(f"{site}/onboarding")
    events = journey.shipped(PAGEVIEW, "onboarding_started")
    assert custom(events[-1]) == {"source": "onboarding", "workspace_id": first["id"]}
    assert page.locator("[aria-label='Setup progress']").count() == 0  # Welcome is outside the indicator
    page.get_by_role("button", name="I've done this before").click()
    page.wait_for_url(f"{site}/old-hands/issues")
    events = journey.expect("onboarding_completed")
    assert custom(events[-1]) == {"completion_path": "skip_existing", "joined_cloud_waitlist": False, "workspace_id": first["id"], "source": "onboarding"}
    events = journey.shipped(PAGEVIEW)
    assert journey.expected == ["workspace_created", "workspace_created", PAGEVIEW, "onboarding_started", "onboarding_completed", PAGEVIEW]
    assert_contracts(events, user, "Old Hands")


def test_onboarding_started_fires_again_only_after_leaving_the_flow(app, site, page, sink):
    user = create_user(app)
    sign_in(page, app, site, user)
    journey = Journey(page, app, sink, user)
    page.goto(f"{site}/onboarding")
    events = journey.shipped(PAGEVIEW, "onboarding_started")
    assert custom(events[-1]) == {"source": "onboarding"}
    page.get_by_role("link", name="Continue").click()
    page.wait_for_url(at_step("questionnaire"))
    journey.nothing_new()
    page.reload()  # a step page reached from another step, reloaded: still the same visit
    assert step_of(page.url) == "questionnaire" and referrer(page) == f"{site}/onboarding"
    journey.nothing_new()

    page.get_by_role("link", name="Multica").click()  # leave the flow for the landing page
    page.wait_for_url(f"{site}/")
    events = journey.shipped(PAGEVIEW)
    assert events[-1]["properties"]["$current_url"] == "/"
    page.evaluate("() => { location.href = '/onboarding'; }")  # come back from it (a same-origin referrer)
    page.wait_for_url(at_step(None))
    assert referrer(page) == f"{site}/"
    events = journey.shipped(PAGEVIEW, "onboarding_started")
    assert events[-2]["properties"]["$current_url"] == "/onboarding"
    assert custom(events[-1]) == {"source": "onboarding"}
    page.get_by_role("link", name="Continue").click()
    page.wait_for_url(at_step("questionnaire"))
    journey.nothing_new()
    assert journey.expected == [PAGEVIEW, "onboarding_started", PAGEVIEW, PAGEVIEW, "onboarding_started"]
    assert_contracts(user_events(sink, user), user)


# ---- §9.7 UI cases: Welcome and questionnaire -----------------------------------------------------------

def test_welcome_download_link_expresses_intent_in_a_new_tab(app, site, page, sink, quiet_download):
    user = create_user(app)
    sign_in(page, app, site, user)
    journey = Journey(page, app, sink, user)
    page.goto(f"{site}/onboarding")
    journey.shipped(PAGEVIEW, "onboarding_started")
    link = page.get_by_role("link", name="Download desktop")
    assert (link.get_attribute("href"), link.get_attribute("target"), link.get_attribute("rel")) == ("/download", "_blank", "noopener noreferrer")
    with page.expect_popup() as popup:
        link.click()
    assert popup.value.evaluate("() => window.opener") is None
    assert urlsplit(page.url).path == "/onboarding"
    events = journey.shipped("download_intent_expressed", SET)
    assert custom(events[-2]) == {"source": "welcome"}
    assert events[-1]["properties"]["$set"] == {"platform_preference": "desktop"}


def test_welcome_is_web_only_about_the_download_link_and_skip_needs_a_workspace(app, site, browser):
    user = create_user(app)
    context = browser.new_context()
    context.add_init_script(DESKTOP_SHELL)
    page = context.new_page()
    try:
        sign_in(page, app, site, user)
        page.goto(f"{site}/onboarding")
        assert page.get_by_role("link", name="Continue").is_visible()
        assert page.get_by_role("link", name="Download desktop").count() == 0  # hidden in the desktop shell
        assert page.get_by_role("button", name="I've done this before").count() == 0
    finally:
        context.close()


def test_questionnaire_continue_rules_and_exact_submission(app, site, page, sink):
    user = create_user(app)
    sign_in(page, app, site, user)
    page.goto(f"{site}/onboarding?step=questionnaire")
    continue_ = page.get_by_role("button", name="Continue")
    q1 = page.get_by_role("group", name="Who will be using Multica?")
    q2 = page.get_by_role("group", name="What best describes your role?")
    q3 = page.get_by_role("group", name="What would you like agents to help with first?")
    assert continue_.is_disabled()  # 0 answered
    q1.get_by_label("Other", exact=True).check()
    assert continue_.is_disabled()  # 1 answered (and its "Other" is empty)
    q2.get_by_label("Developer", exact=True).check()
    assert continue_.is_disabled()  # 2 answered
    other_text = q1.get_by_label("If you picked “Other”, tell us more")
    assert other_text.is_visible()
    assert not q2.get_by_label("If you picked “Other”, tell us more").is_visible()  # revealed only for Other
    q3.get_by_label("Coding", exact=True).check()
    assert continue_.is_disabled()  # 3 answered, but "Other" has no text
    other_text.fill("   ")
    assert continue_.is_disabled()  # blank text does not count
    other_text.fill("A robotics lab")
    assert continue_.is_enabled()
    # A disabled Continue never submits, even when clicked anyway.
    other_text.fill("")
    requests: list = []
    page.on("request", lambda request: requests.append(request) if request.method == "POST" and urlsplit(request.url).path == "/onboarding" else None)
    continue_.click(force=True)
    other_text.press("Enter")
    assert urlsplit(page.url).query == "step=questionnaire"
    assert requests == []
    # Switching Q1 from Other (with text) to a concrete answer submits no stale text.
    other_text.fill("A robotics lab")
    q1.get_by_label("Just me", exact=True).check()
    assert not other_text.is_visible()
    with page.expect_request(lambda request: request.method == "POST" and urlsplit(request.url).path == "/onboarding") as posted:
        continue_.click()
    form = parse_qs(posted.value.post_data)
    assert "team_size_other" not in form and form["team_size"] == ["solo"]
    page.wait_for_url(at_step("workspace"))
    assert stored_user(app, user).onboarding_questionnaire == {
        "team_size": "solo", "team_size_other": None, "role": "developer", "role_other": None, "use_case": "coding", "use_case_other": None,
    }
    flush(app)
    assert "A robotics lab" not in repr(sink.events())


def test_questionnaire_prefills_the_stored_answers(app, site, page):
    user = create_user(app)
    response = app.test_client().patch("/api/me/onboarding", headers=user.headers, json={"questionnaire": {
        "team_size": "team", "team_size_other": None, "role": "other", "role_other": "Astronaut", "use_case": "explore", "use_case_other": None,
    }})
    assert response.status_code == 200
    sign_in(page, app, site, user)
    page.goto(f"{site}/onboarding?step=questionnaire")
    assert page.get_by_role("group", name="Who will be using Multica?").get_by_label("My team").is_checked()
    role = page.get_by_role("group", name="What best describes your role?")
    assert role.get_by_label("Other", exact=True).is_checked()
    assert role.get_by_label("If you picked “Other”, tell us more").input_value() == "Astronaut"
    assert page.get_by_role("group", name="What would you like agents to help with first?").get_by_label("Just exploring").is_checked()
    assert page.get_by_role("button", name="Continue").is_enabled()


# ---- §9.7 UI cases: the web platform fork ------------------------------------------------------------------

@pytest.fixture
def runtime_step(app, site, page, sink):
    """A signed-in user on the runtime step of a fresh workspace, with the mount's events shipped."""
    user = create_user(app)
    workspace = create_workspace(app, user, slug=f"fork-{uuid.uuid4().hex[:6]}")
    sign_in(page, app, site, user)
    journey = Journey(page, app, sink, user)
    flush(app)
    journey.expect("workspace_created")
    page.goto(f"{site}/onboarding?step=runtime&workspace={workspace['id']}")
    journey.shipped(PAGEVIEW, "onboarding_started")
    return journey, workspace


def test_fork_renders_three_cards_and_a_footer_with_skip_only(runtime_step):
    journey, _ = runtime_step
    page = journey.page
    assert page.locator(".runtime-card").count() == 3
    for name in ("Download the desktop app", "Install the CLI", "Cloud runtimes"):
        assert page.get_by_role("heading", name=name).is_visible()
    assert page.locator("footer.step-footer").get_by_role("button").all_inner_texts() == ["Skip for now"]
    assert page.locator("footer.step-footer").get_by_role("link").count() == 0
    assert not page.locator("#cli").is_visible() and not page.locator("#waitlist").is_visible()


def test_download_card_opens_download_in_a_new_tab_and_flips(runtime_step, quiet_download):
    journey, workspace = runtime_step
    page = journey.page
    card = page.get_by_role("link", name="Download desktop")
    assert (card.get_attribute("href"), card.get_attribute("target"), card.get_attribute("rel")) == ("/download", "_blank", "noopener noreferrer")
    with page.expect_popup() as popup:
        card.click()
    assert urlsplit(popup.value.url).path == "/download"
    assert popup.value.evaluate("() => window.opener") is None
    assert page.get_by_text("The download page opened in a new tab").is_visible()
    events = journey.shipped("onboarding_runtime_path_selected", "download_intent_expressed", SET)
    path_selected(events, "download_desktop", workspace["id"], is_mac(page))
    assert custom(events[-2]) == {"source": "step3"}
    assert events[-1]["properties"]["$set"] == {"platform_preference": "desktop"}
    assert step_of(page.url) == "runtime"


def test_cli_connect_is_enabled_only_with_a_runtime_selected(app, runtime_step):
    journey, workspace = runtime_step
    page = journey.page
    page.get_by_role("link", name="Set up the CLI").click()
    connect = page.get_by_role("button", name="Connect & continue")
    assert connect.is_visible() and connect.is_disabled()
    assert page.get_by_role("link", name="Refresh the list").count() == 0  # JS polls instead
    add_runtime(app, workspace["id"], "codex")
    radio = page.get_by_role("radio", name=re.compile("desk-codex"))
    radio.wait_for(timeout=10_000)
    assert connect.is_disabled()
    radio.check()
    assert connect.is_enabled()
    journey.ship()
    connect.click()
    page.wait_for_url(at_step("agent"))
    with app.app_context():
        runtime_id = str(db.session.scalar(sa.select(Runtime.id).where(Runtime.workspace_id == uuid.UUID(workspace["id"]))))
    assert parse_qs(urlsplit(page.url).query)["runtime"] == [runtime_id]


def test_waitlist_submit_needs_a_plausible_email_and_does_not_advance(app, runtime_step):
    journey, workspace = runtime_step
    page = journey.page
    page.get_by_role("link", name="Join the waitlist").click()
    path_selected(journey.shipped("onboarding_runtime_path_selected"), "cloud_waitlist", workspace["id"], is_mac(page))
    join = page.get_by_role("button", name="Join the waitlist")
    email = page.get_by_label("Email")
    assert join.is_disabled()
    for value in ("not-an-email", "someone@example", "some one@example.com", "@example.com"):
        email.fill(value)
        assert join.is_disabled(), value
    email.fill("someone@example.com")
    assert join.is_enabled()
    journey.ship()
    with page.expect_request(lambda request: request.method == "POST" and urlsplit(request.url).path == "/onboarding") as posted:
        join.click()
    assert parse_qs(posted.value.post_data, keep_blank_values=True)["reason"] == [""]  # empty reason is sent as ""
    page.wait_for_url(at_step("runtime"))
    assert page.locator("#waitlist").is_visible()
    events = journey.expect("cloud_waitlist_joined")
    assert events[-1]["properties"]["has_reason"] is False
    stored = stored_user(app, journey.user)
    assert (stored.cloud_waitlist_email, stored.cloud_waitlist_reason, stored.onboarded_at) == ("someone@example.com", None, None)


# ---- §9.7 runtime detected (desktop shell) ---------------------------------------------------------------

@pytest.fixture
def desktop(app, site, browser, sink):
    """A desktop-shell page (window.desktopAPI) for a user with a workspace; runtimes are added by the test."""
    user = create_user(app)
    workspace = create_workspace(app, user, slug=f"desk-{uuid.uuid4().hex[:6]}")
    context = browser.new_context()
    context.add_init_script(DESKTOP_SHELL)
    page = context.new_page()
    sign_in(page, app, site, user)
    journey = Journey(page, app, sink, user)
    flush(app)
    journey.expect("workspace_created")
    journey.url = f"{site}/onboarding?step=runtime&workspace={workspace['id']}"
    journey.workspace_id = workspace["id"]
    yield journey
    context.close()


def detected(journey: Journey) -> list[dict]:
    return [e for e in user_events(journey.sink, journey.user) if e["event"] == "onboarding_runtime_detected"]


def resolve_scan(journey: Journey, *before: str) -> dict:
    """Wait for the scan to resolve, ship, and return the single detected event (its `$set` follows it)."""
    journey.page.wait_for_selector("[data-runtime-step]:not([data-scan=scanning])", timeout=10_000)
    events = journey.shipped(*before, "onboarding_runtime_detected", SET)
    event, person = events[-2], events[-1]
    assert person["properties"]["$set"] == {"has_any_cli": event["properties"]["runtime_count"] > 0,
                                            "detected_cli_count": event["properties"]["runtime_count"]}
    assert event["properties"]["client_type"] == "desktop"
    return event


@pytest.mark.parametrize(
    ("runtimes", "expected"),
    [
        ([("claude", "online")], {"runtime_count": 1, "online_count": 1, "providers": ["claude"], "has_claude": True, "has_codex": False, "has_cursor": False}),
        ([("claude", "online"), ("codex", "offline"), ("cursor", "online")],
         {"runtime_count": 3, "online_count": 2, "providers": ["claude", "codex", "cursor"], "has_claude": True, "has_codex": True, "has_cursor": True}),
        ([("claude", "online"), ("claude", "offline")],
         {"runtime_count": 2, "online_count": 1, "providers": ["claude"], "has_claude": True, "has_codex": False, "has_cursor": False}),
    ],
    ids=["one-claude", "three-providers", "two-claudes"],
)
def test_runtimes_found_at_mount(desktop, runtimes, expected):
    for index, (provider, status) in enumerate(runtimes):
        add_runtime(desktop.app, desktop.workspace_id, provider, status, daemon_id=f"daemon-{index}")
    desktop.page.goto(desktop.url)
    assert not desktop.page.get_by_role("link", name="Set up the CLI").is_visible()  # no web fork in the shell
    event = resolve_scan(desktop, PAGEVIEW, "onboarding_started")
    props = custom(event)
    assert isinstance(props.pop("detect_ms"), int)
    assert props == {"source": "onboarding", "surface": "step3_desktop", "workspace_id": desktop.workspace_id, "outcome": "found", **expected}
    assert "onboarding_runtime_path_selected" not in [e["event"] for e in user_events(desktop.sink, desktop.user)]


def test_no_runtimes_resolves_empty_after_the_grace_window(desktop):
    page = desktop.page
    page.clock.install()
    page.goto(desktop.url)
    desktop.shipped(PAGEVIEW, "onboarding_started")
    page.wait_for_selector("[data-runtime-step][data-runtime-count='0']")  # the first scan answered: nothing
    page.clock.fast_forward(4000)
    desktop.ship()
    assert detected(desktop) == []  # still scanning before 5 s
    assert page.locator("[data-runtime-step]").get_attribute("data-scan") == "scanning"
    page.clock.fast_forward(1001)
    event = resolve_scan(desktop)
    props = custom(event)
    assert props.pop("detect_ms") >= 5000
    assert props == {
        "source": "onboarding", "surface": "step3_desktop", "workspace_id": desktop.workspace_id, "outcome": "empty",
        "runtime_count": 0, "online_count": 0, "providers": [], "has_claude": False, "has_codex": False, "has_cursor": False,
    }
    assert page.locator("#waitlist").is_visible()  # the empty state offers the waitlist


def test_a_runtime_appearing_after_resolution_does_not_emit_again(desktop):
    page = desktop.page
    add_runtime(desktop.app, desktop.workspace_id, "claude")
    page.goto(desktop.url)
    resolve_scan(desktop, PAGEVIEW, "onboarding_started")
    add_runtime(desktop.app, desktop.workspace_id, "codex", daemon_id="later")
    page.get_by_role("radio", name=re.compile("later-codex")).wait_for(timeout=10_000)  # the scan keeps polling
    desktop.ship()
    assert len(detected(desktop)) == 1
    assert [e["event"] for e in user_events(desktop.sink, desktop.user)] == desktop.expected
