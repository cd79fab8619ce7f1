"""Google sign-in against a real OpenID Connect provider (SPEC D4, D14 (3, 4), §8.4–§8.9).

The provider is `oidc-provider-mock` on a loopback port: it serves discovery, an HTML authorize
form, a token endpoint that signs ID tokens (nonce required) and a JWKS. The app side runs in the
Flask test client, so the session that holds Authlib's state and nonce is the one that comes back
to the callback; the provider side is driven with httpx, exactly as a browser would post its form.
Every assertion is on the wire: the HTTP answers and what the PostHog sink received.
"""

from __future__ import annotations

import json
import re
import uuid
import warnings
from contextlib import contextmanager
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import authlib.deprecate  # noqa: F401 - imported before the filter below: on import it forces its warnings on
import httpx
import pytest
import sqlalchemy as sa

from multica.auth.models import User
from multica.auth.service import Restrictions, find_or_create_user
from multica.extensions import db
from tests.conftest import flush

with warnings.catch_warnings():
    # The mock provider imports Authlib's deprecated `jose` module; that is its business, not ours.
    warnings.simplefilter("ignore", DeprecationWarning)
    import oidc_provider_mock

# ...and it signs ID tokens through an Authlib API that warns on every call.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib")

EMAIL = "ada@example.com"
PICTURE = "https://x/y.png"
CLIENT_ID = "multica-test-client"
CLIENT_SECRET = "multica-test-secret"
NOT_CONFIGURED = "Google login is not configured"
REGISTRATION_DISABLED = "user registration is disabled on this self-hosted instance"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
EMAIL_LIKE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


class Provider:
    """The running mock provider: users are registered by `sub`, the authorize form is posted."""

    def __init__(self, port: int) -> None:
        self.base = f"http://localhost:{port}"
        self.metadata_url = f"{self.base}/.well-known/openid-configuration"

    def add_user(self, claims: dict) -> str:
        """Register a user with these ID-token claims; returns its fresh `sub`."""
        sub = f"user-{uuid.uuid4().hex}"
        response = httpx.put(f"{self.base}/users/{sub}", json=claims)
        assert response.status_code == 204, response.text
        return sub

    def authorize(self, authorize_url: str, sub: str | None = None, *, deny: bool = False) -> str:
        """Submit the authorize form as the person would; returns the redirect back to the app."""
        assert authorize_url.startswith(f"{self.base}/oauth2/authorize?"), authorize_url
        form = {"action": "deny"} if deny else {"sub": sub}
        response = httpx.post(authorize_url, data=form)
        assert response.status_code == 302, response.text
        return response.headers["Location"]


@contextmanager
def running_provider():
    """A mock provider on a free loopback port, stopped on exit."""
    with oidc_provider_mock.run_server_in_thread(port=0, require_nonce=True) as server:
        yield Provider(server.server_port)


@pytest.fixture(scope="module")
def provider():
    """One provider for the module; each test registers its own `sub`."""
    with running_provider() as provider:
        yield provider


def google_config(provider: Provider) -> dict:
    return {
        "GOOGLE_CLIENT_ID": CLIENT_ID,
        "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        "GOOGLE_SERVER_METADATA_URL": provider.metadata_url,
    }


@pytest.fixture
def app(make_app, provider):
    """The app with Google configured against the mock provider."""
    return make_app(**google_config(provider))


# ---- driving the flow ---------------------------------------------------------------------------

def start(client, provider: Provider, next_value: str | None = None) -> str:
    """`GET /auth/google`: a redirect to the provider's authorize endpoint carrying state and nonce."""
    response = client.get("/auth/google", query_string={"next": next_value} if next_value is not None else None)
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(f"{provider.base}/oauth2/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["response_type"] == ["code"]
    assert set(query["scope"][0].split()) >= {"openid", "email"}
    assert query["state"][0] and query["nonce"][0]
    assert urlsplit(query["redirect_uri"][0]).path == "/auth/google/callback"
    return location


def callback_path(location: str) -> str:
    """The app-relative callback URL the provider redirected to."""
    parts = urlsplit(location)
    assert parts.path == "/auth/google/callback", location
    return f"{parts.path}?{parts.query}"


def with_query(path: str, **changes: str) -> str:
    """`path` with some query parameters replaced."""
    parts = urlsplit(path)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


def sign_in(client, provider: Provider, sub: str, next_value: str | None = None):
    """The whole round trip; returns the callback's answer."""
    return client.get(callback_path(provider.authorize(start(client, provider, next_value), sub)))


def landed_on(response) -> str:
    """The path a successful callback sends the browser to (and it never leaves the site)."""
    assert 300 <= response.status_code < 400, (response.status_code, response.get_data(as_text=True)[:500])
    target = urlsplit(response.headers["Location"])
    assert target.netloc in ("", "localhost"), response.headers["Location"]
    return target.path


# ---- reading results ----------------------------------------------------------------------------

def users(app) -> list[User]:
    with app.app_context():
        rows = db.session.scalars(sa.select(User)).all()
        db.session.expunge_all()
        return rows


def create_user(app, email: str = EMAIL, *, name: str | None = None, avatar_url: str | None = None) -> str:
    """An existing account (created as an email-code signup would), optionally renamed."""
    with app.app_context():
        user, is_new = find_or_create_user(email, Restrictions())
        assert is_new
        if name is not None:
            user.name = name
        if avatar_url is not None:
            user.avatar_url = avatar_url
        db.session.commit()
        return str(user.id)


def error_message(response) -> str:
    """The flash message of the login page the refusal rendered."""
    match = re.search(r'<p class="flash error" role="alert">(.*?)</p>', response.get_data(as_text=True), re.S)
    assert match, response.get_data(as_text=True)[:1000]
    return match.group(1).strip()


def assert_refused(app, client, sink, response, *, status: int | None = None) -> str:
    """A refusal: the login page with a message and a 4xx, nobody created, no session, nothing emitted."""
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:500])
    if status is not None:
        assert response.status_code == status
    assert response.mimetype == "text/html"
    assert 'data-login-step="email"' in response.get_data(as_text=True), "the refusal should be the login page"
    message = error_message(response)
    assert message
    assert users(app) == []
    assert_signed_out(client)
    flush(app)
    assert sink.events() == []
    return message


def assert_signed_out(client) -> None:
    """No session: `/api/me` refuses, and the session cookie names nobody."""
    me = client.get("/api/me")
    assert me.status_code == 401, me.get_json()
    with client.session_transaction() as session:
        assert "user_id" not in session, dict(session)


def assert_no_full_email(events: list[dict]) -> None:
    """PII rule (§5): a full email appears only in `signup.$set_once.email`."""
    for event in events:
        event = json.loads(json.dumps(event))
        if event["event"] == "signup":
            event["properties"].get("$set_once", {}).pop("email", None)
        assert not EMAIL_LIKE.search(json.dumps(event)), event


def assert_stamped(event: dict, user_id: str) -> None:
    """§2.7 stamping on a server event for a signed-in person."""
    props = event["properties"]
    assert event["distinct_id"] == user_id
    assert TIMESTAMP.match(event["timestamp"]), event["timestamp"]
    assert props["user_id"] == user_id
    assert props["environment"] == "dev"
    assert props["event_schema_version"] == 2
    assert props["is_demo"] is False
    assert "workspace_id" not in props


# ---- success ------------------------------------------------------------------------------------

def test_new_user_is_created_signed_up_and_signed_in(app, client, provider, sink):
    sub = provider.add_user({"email": EMAIL, "email_verified": True, "name": "Ada L", "picture": PICTURE})

    response = sign_in(client, provider, sub)

    assert landed_on(response) == "/onboarding"
    [user] = users(app)
    assert (user.email, user.name, user.avatar_url) == (EMAIL, "Ada L", PICTURE)
    me = client.get("/api/me")
    assert me.status_code == 200
    assert me.get_json()["id"] == str(user.id)
    assert me.get_json()["name"] == "Ada L"

    flush(app)
    [signup] = sink.events("signup")
    assert_stamped(signup, str(user.id))
    props = signup["properties"]
    assert props["auth_method"] == "google"
    assert props["email_domain"] == "example.com"
    assert props["signup_source"] == ""
    assert props["$set_once"] == {"email": EMAIL, "signup_source": ""}
    # No `multica_anon_id` in this browser: nothing to merge (D14 (3)).
    assert sink.events("$identify") == []
    assert [e["event"] for e in sink.events()] == ["signup"]
    assert_no_full_email(sink.events())


def test_email_from_google_is_normalised(app, client, provider, sink):
    sub = provider.add_user({"email": "  Ada@Example.COM ", "email_verified": True})

    assert landed_on(sign_in(client, provider, sub)) == "/onboarding"

    [user] = users(app)
    assert user.email == EMAIL
    assert user.name == "ada", "without a Google name the default (local part) stays"
    assert user.avatar_url is None
    flush(app)
    [signup] = sink.events("signup")
    assert signup["properties"]["$set_once"]["email"] == EMAIL


@pytest.mark.parametrize(
    ("stored_name", "stored_avatar", "expected_name", "expected_avatar"),
    [
        (None, None, "Ada L", PICTURE),  # default name (the local part) is replaced, empty avatar filled
        ("Ada Lovelace", None, "Ada Lovelace", PICTURE),  # a chosen name is kept
        (None, "https://old/avatar.png", "Ada L", "https://old/avatar.png"),  # an avatar is never replaced
    ],
)
def test_existing_user_signs_in_without_signup(
    app, client, provider, sink, stored_name, stored_avatar, expected_name, expected_avatar
):
    user_id = create_user(app, name=stored_name, avatar_url=stored_avatar)
    sub = provider.add_user({"email": EMAIL, "email_verified": True, "name": "Ada L", "picture": PICTURE})

    response = sign_in(client, provider, sub)

    assert landed_on(response) == "/onboarding"
    [user] = users(app)
    assert str(user.id) == user_id
    assert (user.name, user.avatar_url) == (expected_name, expected_avatar)
    assert client.get("/api/me").get_json()["id"] == user_id
    flush(app)
    assert sink.events("signup") == []
    assert sink.events() == []


@pytest.mark.parametrize(
    ("next_value", "expected"),
    [
        ("/invite/abc123", "/invite/abc123"),
        ("https://evil.example", "/onboarding"),
        ("//evil.example/path", "/onboarding"),
        ("/\\evil.example", "/onboarding"),
    ],
)
def test_next_is_honoured_only_for_same_site_paths(app, client, provider, sink, next_value, expected):
    sub = provider.add_user({"email": EMAIL, "email_verified": True})

    response = sign_in(client, provider, sub, next_value=next_value)

    assert landed_on(response) == expected
    assert "evil" not in response.headers["Location"]


def test_next_from_the_login_page_link_survives_the_round_trip(app, client, provider):
    sub = provider.add_user({"email": EMAIL, "email_verified": True})
    html = client.get("/login?next=/invite/abc123").get_data(as_text=True)
    [href] = re.findall(r'href="(/auth/google[^"]*)"', html)
    start_link = href.replace("&amp;", "&")

    response = client.get(start_link)
    assert response.status_code == 302
    callback = callback_path(provider.authorize(response.headers["Location"], sub))

    assert landed_on(client.get(callback)) == "/invite/abc123"


def test_identify_merges_the_anonymous_browser(app, client, provider, sink):
    client.set_cookie("multica_anon_id", "anon-7f3a")
    client.set_cookie("multica_signup_source", "%7B%22utm_source%22%3A%22hn%22%7D")
    sub = provider.add_user({"email": EMAIL, "email_verified": True, "name": "Ada L"})

    assert landed_on(sign_in(client, provider, sub)) == "/onboarding"

    [user] = users(app)
    flush(app)
    [signup] = sink.events("signup")
    assert signup["properties"]["signup_source"] == '{"utm_source":"hn"}'
    assert signup["properties"]["$set_once"] == {"email": EMAIL, "signup_source": '{"utm_source":"hn"}'}
    [identify] = sink.events("$identify")
    assert_stamped(identify, str(user.id))
    assert identify["properties"]["$anon_distinct_id"] == "anon-7f3a"
    assert_no_full_email(sink.events())


def test_identify_is_sent_for_a_returning_user_too(app, client, provider, sink):
    user_id = create_user(app)
    client.set_cookie("multica_anon_id", "anon%2Dreturning")  # URL-encoded: the id is the decoded value
    sub = provider.add_user({"email": EMAIL, "email_verified": True})

    assert landed_on(sign_in(client, provider, sub)) == "/onboarding"

    flush(app)
    assert sink.events("signup") == []
    [identify] = sink.events("$identify")
    assert identify["distinct_id"] == user_id
    assert identify["properties"]["$anon_distinct_id"] == "anon-returning"


# ---- refusals -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("claims", "expected_words"),
    [
        ({"email": EMAIL, "email_verified": False, "name": "Ada L"}, "verified"),
        ({"email": EMAIL, "name": "Ada L"}, "verified"),  # no `email_verified` claim is not a yes
        ({"email_verified": True, "name": "Ada L"}, "email"),
        ({"email": "   ", "email_verified": True}, "email"),
    ],
    ids=["unverified", "verified-claim-missing", "no-email", "blank-email"],
)
def test_unusable_google_identity_is_refused(app, client, provider, sink, claims, expected_words):
    client.set_cookie("multica_anon_id", "anon-refused")
    sub = provider.add_user(claims)

    response = sign_in(client, provider, sub)

    message = assert_refused(app, client, sink, response)
    assert expected_words in message.lower()


def test_unverified_email_cannot_sign_in_to_an_existing_account(app, client, provider, sink):
    """Otherwise anyone who types a victim's address into a Google-compatible account takes it over."""
    create_user(app)
    client.set_cookie("multica_anon_id", "anon-attacker")
    sub = provider.add_user({"email": EMAIL, "email_verified": False, "name": "Mallory"})

    response = sign_in(client, provider, sub)

    assert 400 <= response.status_code < 500
    assert "verified" in error_message(response).lower()
    assert_signed_out(client)
    [user] = users(app)
    assert user.name == "ada", "a refused identity must not touch the profile"
    flush(app)
    assert sink.events() == []


def test_provider_error_is_refused(app, client, provider, sink):
    location = provider.authorize(start(client, provider), deny=True)
    assert "error=access_denied" in location

    response = client.get(callback_path(location))

    assert_refused(app, client, sink, response)


def test_callback_without_code_is_refused(app, client, provider, sink):
    location = start(client, provider)
    state = parse_qs(urlsplit(location).query)["state"][0]

    response = client.get(f"/auth/google/callback?state={state}")

    assert_refused(app, client, sink, response)


@pytest.mark.parametrize("state", ["tampered-state", ""], ids=["tampered", "missing"])
def test_state_mismatch_is_refused(app, client, provider, sink, state):
    sub = provider.add_user({"email": EMAIL, "email_verified": True})
    callback = callback_path(provider.authorize(start(client, provider), sub))

    response = client.get(with_query(callback, state=state))

    assert_refused(app, client, sink, response)


def test_callback_in_another_browser_is_refused(app, client, provider, sink):
    """Login CSRF: a callback URL started in one browser cannot sign in another one."""
    sub = provider.add_user({"email": EMAIL, "email_verified": True})
    callback = callback_path(provider.authorize(start(client, provider), sub))

    response = app.test_client().get(callback)

    assert_refused(app, app.test_client(), sink, response)


def test_replayed_callback_is_refused(app, client, provider, sink):
    sub = provider.add_user({"email": EMAIL, "email_verified": True})
    callback = callback_path(provider.authorize(start(client, provider), sub))
    assert landed_on(client.get(callback)) == "/onboarding"
    flush(app)
    assert len(sink.events("signup")) == 1

    # The same browser replays it: state was consumed.
    replay = client.get(callback)
    assert 400 <= replay.status_code < 500
    assert error_message(replay)

    # Another browser replays it: no session there either.
    stranger = app.test_client()
    replay = stranger.get(callback)
    assert 400 <= replay.status_code < 500
    assert_signed_out(stranger)

    # Another browser with a state of its own: the code was already redeemed at the provider.
    state = parse_qs(urlsplit(start(stranger, provider)).query)["state"][0]
    replay = stranger.get(with_query(callback, state=state))
    assert 400 <= replay.status_code < 500
    assert error_message(replay)
    assert_signed_out(stranger)

    flush(app)
    assert len(users(app)) == 1
    assert len(sink.events("signup")) == 1
    assert [e["event"] for e in sink.events()] == ["signup"]


def test_id_token_with_a_foreign_nonce_is_refused(app, client, provider, sink):
    """The ID token must answer this browser's nonce (a token minted for another request is not accepted)."""
    sub = provider.add_user({"email": EMAIL, "email_verified": True})
    authorize_url = start(client, provider)
    parts = urlsplit(authorize_url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query["nonce"] = "someone-elses-nonce"
    forged = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))

    response = client.get(callback_path(provider.authorize(forged, sub)))

    assert_refused(app, client, sink, response)


def test_unreachable_token_endpoint_is_502_not_500(make_app, sink):
    """D14 (4): the provider vanishing between authorize and callback is a 502, never a 500."""
    with running_provider() as gone:
        app = make_app(**google_config(gone))
        client = app.test_client()
        sub = gone.add_user({"email": EMAIL, "email_verified": True})
        callback = callback_path(gone.authorize(start(client, gone), sub))

    response = client.get(callback)

    assert response.status_code == 502
    assert error_message(response)
    assert users(app) == []
    assert_signed_out(client)
    flush(app)
    assert sink.events() == []


def test_unreachable_discovery_is_502_not_500(make_app):
    with running_provider() as gone:
        pass
    app = make_app(**google_config(gone))

    response = app.test_client().get("/auth/google")

    assert response.status_code == 502
    assert response.get_json()["error"]


# ---- restrictions -------------------------------------------------------------------------------

def test_blocked_signup_is_403_with_the_restriction_message(make_app, provider, sink):
    app = make_app(ALLOW_SIGNUP="false", **google_config(provider))
    client = app.test_client()
    client.set_cookie("multica_anon_id", "anon-blocked")
    sub = provider.add_user({"email": EMAIL, "email_verified": True, "name": "Ada L"})

    response = sign_in(client, provider, sub)

    assert response.status_code == 403
    assert error_message(response) == REGISTRATION_DISABLED
    assert_refused(app, client, sink, response, status=403)


def test_blocked_signup_still_lets_existing_users_in(make_app, provider, sink):
    app = make_app(ALLOW_SIGNUP="false", **google_config(provider))
    user_id = create_user(app)
    client = app.test_client()
    sub = provider.add_user({"email": EMAIL, "email_verified": True})

    assert landed_on(sign_in(client, provider, sub)) == "/onboarding"

    assert client.get("/api/me").get_json()["id"] == user_id
    flush(app)
    assert sink.events("signup") == []


def test_allow_listed_domain_may_sign_up_when_signup_is_off(make_app, provider, sink):
    app = make_app(ALLOW_SIGNUP="false", ALLOWED_EMAIL_DOMAINS="example.com", **google_config(provider))
    client = app.test_client()
    sub = provider.add_user({"email": EMAIL, "email_verified": True})

    assert landed_on(sign_in(client, provider, sub)) == "/onboarding"

    flush(app)
    [signup] = sink.events("signup")
    assert signup["properties"]["auth_method"] == "google"


# ---- configuration ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "config",
    [{}, {"GOOGLE_CLIENT_ID": CLIENT_ID}, {"GOOGLE_CLIENT_SECRET": CLIENT_SECRET}],
    ids=["nothing", "id-only", "secret-only"],
)
def test_unconfigured_google_is_503_and_hidden(make_app, provider, sink, config):
    app = make_app(GOOGLE_SERVER_METADATA_URL=provider.metadata_url, **config)
    client = app.test_client()

    for path in ("/auth/google", "/auth/google?next=/invite/abc123", "/auth/google/callback?code=abc&state=xyz"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.mimetype == "application/json"
        assert response.get_json() == {"error": NOT_CONFIGURED}

    login = client.get("/login")
    assert login.status_code == 200
    assert "/auth/google" not in login.get_data(as_text=True)
    assert users(app) == []
    flush(app)
    assert sink.events() == []


def test_configured_google_is_linked_from_login(client):
    html = client.get("/login").get_data(as_text=True)

    assert re.search(r'<a [^>]*href="/auth/google"', html), html


def test_refusal_keeps_next_on_the_login_page(app, client, provider, sink):
    """After a refusal the person retries from the login page; the destination they came for survives."""
    sub = provider.add_user({"email": EMAIL, "email_verified": False})

    response = sign_in(client, provider, sub, next_value="/invite/abc123")

    assert_refused(app, client, sink, response)
    html = response.get_data(as_text=True)
    assert re.search(r'<input type="hidden" name="next" value="/invite/abc123">', html), "the email form lost `next`"
    [google_link] = re.findall(r'href="(/auth/google[^"]*)"', html)
    assert parse_qs(urlsplit(google_link.replace("&amp;", "&")).query).get("next") == ["/invite/abc123"], google_link
