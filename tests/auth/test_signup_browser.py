"""A visitor's whole sign-up journey in headless Chromium, checked at the PostHog sink (§8, §14.5, D7).

The visitor arrives from Hacker News on a campaign link; the tracker writes the first-touch
`multica_signup_source` cookie and an anonymous id, and ships the landing `$pageview`. They sign up
(by email code, or with Google through a real OpenID Connect provider's authorize page), and the
server must emit exactly one `signup` carrying that attribution and exactly one `$identify` that
merges the landing page's anonymous id into the new user.
"""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import unquote, urlsplit

import pytest
import sqlalchemy as sa

from multica.auth.models import User
from multica.extensions import db
from tests.auth.test_google import assert_no_full_email, google_config, running_provider
from tests.conftest import flush

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib")]

LANDING = "/?utm_source=newsletter&utm_campaign=x"
REFERRER = "https://news.ycombinator.com/item?id=1"
EXPECTED_SOURCE = '{"utm_source":"newsletter","utm_campaign":"x","referrer_origin":"https://news.ycombinator.com"}'
CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture(scope="module")
def provider():
    """A real OpenID Connect provider whose authorize endpoint is an HTML form."""
    with running_provider() as provider:
        yield provider


@pytest.fixture
def app(make_app, provider, monkeypatch):
    """Codes kept in memory, Google pointed at the provider, and a PostHog key in the page config."""
    # The tracker reads its key from the page, which re-reads the environment per request (§13).
    monkeypatch.setenv("POSTHOG_API_KEY", "phc_test")
    return make_app(MAIL_BACKEND="memory", **google_config(provider))


def path_is(expected: str):
    return lambda url: urlsplit(url).path == expected


def land_from_hacker_news(page, base: str) -> str:
    """Open the campaign link with an external referrer; returns the browser's anonymous id."""
    page.goto(base + LANDING, referer=REFERRER)
    page.wait_for_function("() => Boolean(window.multicaAnalytics)")
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    assert unquote(cookies.get("multica_signup_source", "")) == EXPECTED_SOURCE, cookies
    anon_id = unquote(cookies.get("multica_anon_id", ""))
    assert anon_id, cookies
    return anon_id


def go_to_login(page) -> None:
    page.get_by_role("link", name="Sign in or create an account").click()
    page.wait_for_url(path_is("/login"))


def landing_pageview(sink) -> dict:
    """The first `$pageview` of `/` the tracker shipped (before the visitor left the landing page)."""
    def landing(s):
        return [e for e in s.events("$pageview") if e["properties"].get("$current_url") == "/"]

    assert sink.wait_for(lambda s: bool(landing(s))), [e["properties"] for e in sink.events("$pageview")]
    return landing(sink)[0]


def user_row(app, email: str) -> User:
    with app.app_context():
        [user] = db.session.scalars(sa.select(User).where(User.email == email)).all()
        db.session.expunge(user)
        return user


def assert_attributed_signup(app, sink, email: str, anon_id: str, *, auth_method: str | None) -> None:
    """One `signup` with the cookie's attribution and one `$identify` merging the landing visitor."""
    user = user_row(app, email)
    user_id = str(user.id)
    pageview = landing_pageview(sink)
    assert pageview["distinct_id"] == anon_id
    flush(app)

    [signup] = sink.events("signup")
    assert signup["distinct_id"] == user_id
    props = signup["properties"]
    assert props["user_id"] == user_id
    assert props["email_domain"] == "example.com"
    assert props["signup_source"] == EXPECTED_SOURCE
    assert json.loads(props["signup_source"]) == {
        "utm_source": "newsletter",
        "utm_campaign": "x",
        "referrer_origin": "https://news.ycombinator.com",
    }
    assert props["$set_once"] == {"email": email, "signup_source": EXPECTED_SOURCE}
    if auth_method is None:
        assert "auth_method" not in props
    else:
        assert props["auth_method"] == auth_method

    [identify] = sink.events("$identify")
    assert identify["distinct_id"] == user_id
    assert identify["properties"]["user_id"] == user_id
    assert identify["properties"]["$anon_distinct_id"] == pageview["distinct_id"]

    assert_no_full_email(sink.events())


def test_email_code_signup_carries_first_touch_attribution(app, live_server, page, sink):
    email = "grace@example.com"
    anon_id = land_from_hacker_news(page, live_server.url)
    go_to_login(page)

    page.fill("#email", email)
    page.get_by_role("button", name="Email me a sign-in code").click()
    page.wait_for_selector('form[data-login-step="code"]')
    [message] = app.extensions["mailer"].outbox
    assert message["To"] == email
    code = CODE.search(message.get_content()).group(1)
    page.fill("#code", code)
    page.locator('form[data-login-step="code"] button[type="submit"]').click()
    page.wait_for_url(path_is("/onboarding"))

    assert_attributed_signup(app, sink, email, anon_id, auth_method=None)


def test_google_signup_carries_first_touch_attribution(app, live_server, page, provider, sink):
    email = "grace@example.com"
    sub = provider.add_user({"email": email, "email_verified": True, "name": "Grace H"})
    anon_id = land_from_hacker_news(page, live_server.url)
    go_to_login(page)

    page.get_by_role("link", name="Continue with Google").click()
    page.wait_for_url(lambda url: url.startswith(f"{provider.base}/oauth2/authorize"))
    page.fill('input[name="sub"]', sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(path_is("/onboarding"))

    assert user_row(app, email).name == "Grace H"
    assert_attributed_signup(app, sink, email, anon_id, auth_method="google")


def test_returning_visitor_keeps_the_first_touch(app, live_server, page, sink):
    """A later visit with other UTMs does not overwrite the first-touch cookie the signup reports."""
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    anon_id = land_from_hacker_news(page, live_server.url)
    page.goto(live_server.url + "/?utm_source=twitter", referer="https://t.co/abc")
    page.wait_for_function("() => Boolean(window.multicaAnalytics)")
    go_to_login(page)

    page.fill("#email", email)
    page.get_by_role("button", name="Email me a sign-in code").click()
    page.wait_for_selector('form[data-login-step="code"]')
    code = CODE.search(app.extensions["mailer"].outbox[-1].get_content()).group(1)
    page.fill("#code", code)
    page.locator('form[data-login-step="code"] button[type="submit"]').click()
    page.wait_for_url(path_is("/onboarding"))

    assert_attributed_signup(app, sink, email, anon_id, auth_method=None)
