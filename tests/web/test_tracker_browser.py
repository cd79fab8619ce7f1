"""The browser tracker (`static/js/analytics.js`) in headless Chromium against the real app and sink.

SPEC D7 and §14: every assertion is on what the PostHog sink received through
`POST /api/analytics/events`, or on what the tracker posted there (the server overwrites
`environment` and strips `user_id`, so those two are checked on the posted batch), or on the
cookies the page wrote.
"""

from __future__ import annotations

import json
import time
from urllib.parse import quote, unquote

import pytest
from flask import request

from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

ENDPOINT = "/api/analytics/events"
APP_VERSION = "1.2.3"
UUID_A = "8d5c1a2b-0035-4c62-9f14-1ad4215736a5"
UUID_B = "0b6f3d7e-93c1-4a55-8e0e-2f1d6c7a9b10"
# Captured after the actions under test: once it reaches the sink, everything before it has too.
SENTINEL = "feedback_opened"
SUPER_PROPERTIES = {
    "client_type": "web",
    "app_version": APP_VERSION,
    "environment": "dev",
    "event_schema_version": 2,
    "is_demo": False,
}


@pytest.fixture
def app(make_app):
    """The app with a pinned version, so the tracker's `app_version` is known."""
    return make_app(APP_VERSION=APP_VERSION)


def record_posts(app) -> list[dict]:
    """Every batch that reaches the ingestion endpoint, as the server read it (beacons included)."""
    received: list[dict] = []

    def remember():
        if request.method == "POST" and request.path == ENDPOINT:
            try:
                events = json.loads(request.get_data(cache=True))["events"]
            except (ValueError, KeyError, TypeError):
                events = None
            received.append(
                {
                    "platform": request.headers.get("X-Client-Platform"),
                    "version": request.headers.get("X-Client-Version"),
                    "content_type": request.mimetype,
                    "events": events,
                }
            )

    app.before_request(remember)
    return received


@pytest.fixture
def posts(app):
    """Batches posted by the tracker to `app`."""
    return record_posts(app)


@pytest.fixture
def site(live_server, posts, monkeypatch):
    """The live app, with a PostHog key in the page config (§13 re-reads the environment per request)."""
    monkeypatch.setenv("POSTHOG_API_KEY", "phc_test")
    return live_server.url


def open_tracked(page, url: str) -> None:
    """Load a page and wait for the tracker to boot."""
    page.goto(url)
    page.wait_for_function("() => Boolean(window.multicaAnalytics)")


def open_blank_tracker(page, base: str) -> None:
    """The tracker on a same-origin page with no config: it boots inert, so init is the test's call."""
    page.goto(base + "/api/config")
    page.add_script_tag(url=base + "/static/js/analytics.js")
    page.wait_for_function("() => Boolean(window.multicaAnalytics)")


@pytest.fixture
def settle(sink, posts):
    """`settle(page)`: everything the page captured so far has reached the sink.

    A sentinel event is captured and flushed; once it is in the sink, so is everything posted
    before it (the server relays in order and the sink then holds every posted event).
    """

    def wait(page) -> None:
        before = len(sink.events(SENTINEL))
        page.evaluate(
            """() => {
                window.multicaAnalytics.capture("feedback_opened", {source: "help_menu"});
                window.multicaAnalytics.flush();
            }"""
        )
        assert len(sink.wait_for_events(before + 1, SENTINEL)) == before + 1, "the tracker's batch never reached the sink"
        posted_count = sum(len(batch["events"] or []) for batch in posts)
        assert sink.wait_for(lambda s: len(s.events()) >= posted_count), "posted events are missing from the sink"

    return wait


def barrier(page) -> None:
    """A same-origin round trip, so requests the page started before it have reached the server."""
    page.evaluate("() => fetch('/api/config').then((r) => r.status)")


def tracked(sink, name: str | None = None) -> list[dict]:
    """Events the sink received, without the sentinels."""
    return [e for e in sink.events(name) if e["event"] != SENTINEL]


def posted(posts) -> list[dict]:
    """Events the tracker posted, in order, without the sentinels."""
    return [e for batch in posts for e in (batch["events"] or []) if e["event"] != SENTINEL]


def pageview_paths(sink) -> list[str | None]:
    """`$current_url` of every `$pageview` the sink received, in arrival order."""
    return [e["properties"].get("$current_url") for e in sink.events("$pageview")]


def cookie(page, name: str) -> dict | None:
    """The browser's cookie `name` (Playwright's dict), or None."""
    return next((c for c in page.context.cookies() if c["name"] == name), None)


def anon_id(page) -> str:
    """The URL-decoded `multica_anon_id` the server uses as the distinct id."""
    found = cookie(page, "multica_anon_id")
    assert found is not None, "the tracker set no multica_anon_id cookie"
    return unquote(found["value"])


# ---- super-properties (§14.1) ------------------------------------------------------------------


def test_landing_pageview_carries_the_super_properties(site, page, sink, posts, settle):
    """The first pageview reaches the sink under the anon id, with the registered super-properties."""
    open_tracked(page, site + "/")
    settle(page)

    (pageview,) = sink.events("$pageview")
    assert pageview["distinct_id"] == anon_id(page)
    assert pageview["properties"]["$current_url"] == "/"
    for key, value in SUPER_PROPERTIES.items():
        assert pageview["properties"][key] == value, key
    assert "user_id" not in pageview["properties"]
    # What the tracker itself sent: exactly the super-properties plus the path.
    assert posted(posts)[0] == {"event": "$pageview", "properties": {**SUPER_PROPERTIES, "$current_url": "/"}}
    fetched = posts[0]
    assert (fetched["platform"], fetched["version"], fetched["content_type"]) == ("web", APP_VERSION, "application/json")


@pytest.mark.parametrize("app_version", [APP_VERSION, None])
def test_init_registers_exactly_the_super_properties(site, page, sink, posts, app_version, settle):
    """`init({key, host: "", appVersion})`: app_version only when given (SPEC §14.6)."""
    open_blank_tracker(page, site)
    config = {"key": "k", "host": ""}
    if app_version:
        config["appVersion"] = app_version
    assert page.evaluate("(config) => window.multicaAnalytics.init(config)", config) is True
    settle(page)

    expected = dict(SUPER_PROPERTIES)
    if not app_version:
        del expected["app_version"]
    (pageview,) = posted(posts)
    assert {k: v for k, v in pageview["properties"].items() if k != "$current_url"} == expected
    (received,) = tracked(sink, "$pageview")
    assert received["properties"].get("app_version") == app_version


@pytest.mark.parametrize(
    "script, user_agent",
    [
        ("window.electron = {ipcRenderer: {}}", None),
        ("window.desktopAPI = {}", None),
        (None, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) multica/1.2.3 Chrome/124.0 Electron/30.0.0 Safari/537.36"),
    ],
    ids=["window.electron", "window.desktopAPI", "electron-user-agent"],
)
def test_desktop_shell_is_client_type_desktop(browser, site, sink, script, user_agent, settle):
    """`window.electron`, `window.desktopAPI` or an Electron UA ⇒ `client_type: "desktop"`."""
    context = browser.new_context(user_agent=user_agent) if user_agent else browser.new_context()
    try:
        page = context.new_page()
        if script:
            page.add_init_script(script)
        open_tracked(page, site + "/")
        settle(page)
        (pageview,) = sink.events("$pageview")
        assert pageview["properties"]["client_type"] == "desktop"
        assert sink.events(SENTINEL)[0]["properties"]["client_type"] == "desktop"
    finally:
        context.close()


@pytest.mark.parametrize(
    "raw, expected",
    [("prod", "production"), (" Production ", "production"), ("STAGE", "staging"), ("local", "dev"), ("qa", "dev"), ("", "dev")],
)
def test_environment_is_normalized_unknown_is_dev(site, page, sink, posts, raw, expected, settle):
    """Frontend normalization: the §2.2 table, with unknown or empty ⇒ `dev`."""
    open_blank_tracker(page, site)
    assert page.evaluate("(env) => window.multicaAnalytics.init({posthog_key: 'k', analytics_environment: env})", raw)
    settle(page)
    assert {e["properties"]["environment"] for e in posts[0]["events"]} == {expected}


def test_init_is_inert_without_a_key_and_idempotent(site, page, sink, posts, settle):
    """An empty key returns false; a second init returns true and changes nothing."""
    open_blank_tracker(page, site)
    results = page.evaluate(
        """() => [
            window.multicaAnalytics.init({posthog_key: ""}),
            window.multicaAnalytics.init(null),
            window.multicaAnalytics.init({posthog_key: "k", analytics_environment: "prod", app_version: "9.9.9"}),
            window.multicaAnalytics.init({posthog_key: "k", analytics_environment: "staging", app_version: "1.0.0"}),
        ]"""
    )
    assert results == [False, False, True, True]
    settle(page)
    envs = {(e["properties"]["environment"], e["properties"]["app_version"]) for e in posts[0]["events"]}
    assert envs == {("production", "9.9.9")}


# ---- identity and reset (§14.2, §14.3) -----------------------------------------------------------


def test_reset_clears_user_and_dedupe_and_starts_a_new_anonymous_id(site, page, sink, posts, settle):
    """After reset: no user_id, the same super-properties, pageview dedupe forgotten, a new anon id."""
    open_tracked(page, site + "/")
    page.evaluate(
        """() => {
            const a = window.multicaAnalytics;
            a.identify("user-1");
            a.capturePageview("/acme/inbox");
            a.capturePageview("/acme/inbox");
            a.capture("download_intent_expressed", {source: "login"});
        }"""
    )
    settle(page)
    first_id = anon_id(page)
    page.evaluate("() => window.multicaAnalytics.reset()")
    # The new anonymous id is written once the old identity's requests have left.
    page.wait_for_function("(old) => !document.cookie.includes('multica_anon_id=' + old)", arg=first_id)
    page.evaluate(
        """() => {
            const a = window.multicaAnalytics;
            a.capturePageview("/acme/inbox");
            a.capture("download_intent_expressed", {source: "welcome"});
        }"""
    )
    settle(page)

    assert pageview_paths(sink) == ["/", "/acme/inbox", "/acme/inbox"]
    before, after = [e for e in posted(posts) if e["event"] == "download_intent_expressed"]
    assert before["properties"]["user_id"] == "user-1"
    assert "user_id" not in after["properties"]
    assert {k: after["properties"][k] for k in SUPER_PROPERTIES} == SUPER_PROPERTIES
    second_id = anon_id(page)
    assert second_id != first_id
    by_source = {e["properties"]["source"]: e["distinct_id"] for e in sink.events("download_intent_expressed")}
    assert by_source == {"login": first_id, "welcome": second_id}


def test_reset_before_init_touches_nothing_and_drops_the_buffer(site, page, sink, posts, settle):
    """Reset before init sends nothing; the buffered work it cleared never ships."""
    open_blank_tracker(page, site)
    page.evaluate(
        """() => {
            const a = window.multicaAnalytics;
            a.identify("user-1");
            a.capturePageview("/acme/inbox");
            a.capture("download_intent_expressed", {source: "login"});
            a.reset();
            a.flush();
        }"""
    )
    barrier(page)
    assert posts == []
    assert cookie(page, "multica_anon_id") is None
    assert page.evaluate("() => window.multicaAnalytics.init({posthog_key: 'k'})") is True
    settle(page)
    assert tracked(sink) == []
    assert posted(posts) == []
    assert set(SUPER_PROPERTIES) - {"app_version"} <= set(sink.events(SENTINEL)[0]["properties"])


def test_pre_init_work_is_flushed_in_order_after_init(site, page, sink, posts, settle):
    """identify + pageview + event + set before init ⇒ one `$pageview`, then the event and `$set`s."""
    open_blank_tracker(page, site)
    page.evaluate(
        """(uuid) => {
            const a = window.multicaAnalytics;
            a.identify("user-1");
            a.capturePageview("/acme/issues/" + uuid);
            a.capture("download_intent_expressed", {source: "login"});
            a.setPersonProperties({role: "developer"});
            a.setPersonPropertiesOnce({first_detected_os: "mac"});
            a.flush();
        }""",
        UUID_A,
    )
    barrier(page)
    assert posts == [], "the tracker sent before init"
    assert page.evaluate("() => window.multicaAnalytics.init({posthog_key: 'phc_test'})") is True
    settle(page)

    events = tracked(sink)
    assert [e["event"] for e in events] == ["$pageview", "download_intent_expressed", "$set", "$set"]
    assert {e["distinct_id"] for e in events} == {anon_id(page)}
    pageview, intent, set_event, set_once_event = events
    assert pageview["properties"]["$current_url"] == "/acme/issues"
    assert intent["properties"]["source"] == "login"
    assert set_event["properties"]["$set"] == {"role": "developer"}
    assert set_once_event["properties"]["$set_once"] == {"first_detected_os": "mac"}
    # user_id rides on captured events only (the server re-stamps it for signed-in callers).
    sent_pageview, sent_intent, sent_set, sent_set_once = posted(posts)
    assert sent_intent["properties"]["user_id"] == "user-1"
    assert not any("user_id" in e["properties"] for e in (sent_pageview, sent_set, sent_set_once))


# ---- pageviews (§14.4) ----------------------------------------------------------------------------


def test_normalize_pageview_path_vectors(live_server, page):
    """Every normalization vector of SPEC §14.6."""
    vectors = {
        f"/acme/issues/{UUID_A}": "/acme/issues",
        f"/acme/issues/{UUID_A.upper()}": "/acme/issues",
        "/acme/issues/MUL-123": "/acme/issues",
        f"/invite/{UUID_B}": "/invite",
        "/acme/issues?status=open&view=board": "/acme/issues",
        "/acme/issues#section": "/acme/issues",
        "/acme/settings/members": "/acme/settings/members",
        "/team-1/issues/MUL-9": "/team-1/issues",
        "/login": "/login",
        "/": "/",
        "/a/MUL-1/b/mul-2": "/a/b/mul-2",
        "/a//b/": "/a/b",
        "/MUL-1/x": "/MUL-1/x",
        f"/{UUID_A}/issues": f"/{UUID_A}/issues",
        "": "",
    }
    open_blank_tracker(page, live_server.url)
    got = page.evaluate(
        "(paths) => Object.fromEntries(paths.map((p) => [p, window.multicaAnalytics.normalizePageviewPath(p)]))",
        list(vectors),
    )
    assert got == vectors
    assert page.evaluate("() => window.multicaAnalytics.normalizePageviewPath(null)") is None


def test_issue_paths_dedupe_to_one_pageview(site, page, sink, settle):
    """Two issue UUIDs under one list ⇒ one `/acme/issues`; then `/acme/projects` ⇒ a second."""
    open_tracked(page, site + "/")
    settle(page)  # the landing pageview first, so the order below is the tracker's
    page.evaluate(
        """([a, b]) => {
            history.pushState(null, "", "/acme/issues/" + a);
            history.pushState(null, "", "/acme/issues/" + b);
            history.pushState(null, "", "/acme/projects");
        }""",
        [UUID_A, UUID_B],
    )
    settle(page)
    assert pageview_paths(sink) == ["/", "/acme/issues", "/acme/projects"]
    assert {e["distinct_id"] for e in sink.events("$pageview")} == {anon_id(page)}


def test_dedupe_is_consecutive_only(site, page, sink, settle):
    """A, B, A ⇒ three pageviews."""
    open_tracked(page, site + "/")
    settle(page)  # the landing pageview first, so the order below is the tracker's
    page.evaluate(
        """() => ["/a", "/b", "/a"].forEach((p) => window.multicaAnalytics.capturePageview(p))"""
    )
    settle(page)
    assert pageview_paths(sink) == ["/", "/a", "/b", "/a"]


def test_query_only_navigation_makes_no_pageview_but_popstate_does(site, page, sink, settle):
    """pushState/replaceState that change only the query or hash are silent; back to `/` is a pageview."""
    open_tracked(page, site + "/")
    settle(page)  # the landing pageview first, so the order below is the tracker's
    page.evaluate(
        """() => {
            history.pushState(null, "", "/?status=open");
            history.replaceState(null, "", "/?view=board");
            history.pushState(null, "", "/#pricing");
        }"""
    )
    page.go_back()
    page.wait_for_function("() => location.search === '?view=board'")
    page.evaluate("""() => history.pushState(null, "", "/acme/issues")""")
    page.go_back()
    page.wait_for_function("() => location.pathname === '/'")
    settle(page)
    assert pageview_paths(sink) == ["/", "/acme/issues", "/"]


def test_dedupe_survives_full_page_loads_within_a_tab(site, page, sink, settle):
    """Reload and a query-only page load in the same tab add no pageview; a new tab starts afresh."""
    open_tracked(page, site + "/")
    page.reload()
    page.wait_for_function("() => Boolean(window.multicaAnalytics)")
    open_tracked(page, site + "/?utm_source=newsletter")
    settle(page)
    assert pageview_paths(sink) == ["/"]

    other_tab = page.context.new_page()
    open_tracked(other_tab, site + "/")
    settle(other_tab)
    assert pageview_paths(sink) == ["/", "/"]


# ---- signup-source cookie (§14.5) -----------------------------------------------------------------


def signup_source(page) -> str | None:
    """The decoded `multica_signup_source` cookie, or None."""
    found = cookie(page, "multica_signup_source")
    return unquote(found["value"]) if found else None


def test_signup_source_records_utm_and_external_referrer_origin(site, page):
    """`?utm_source=hn&utm_medium=social` from news.ycombinator.com ⇒ the exact JSON, origin only."""
    page.goto(site + "/?utm_source=hn&utm_medium=social", referer="https://news.ycombinator.com/item?id=1")
    page.wait_for_function("() => Boolean(window.multicaAnalytics)")
    expected = '{"utm_source":"hn","utm_medium":"social","referrer_origin":"https://news.ycombinator.com"}'
    found = cookie(page, "multica_signup_source")
    assert found is not None and unquote(found["value"]) == expected
    assert found["value"] == quote(expected, safe="-_.!~*'()")  # encodeURIComponent
    assert found["path"] == "/" and found["sameSite"] == "Lax"
    assert abs(found["expires"] - (time.time() + 2592000)) < 120


def test_signup_source_same_origin_referrer_only_sets_nothing(site, page):
    """A same-origin referrer and no UTM parameters ⇒ no cookie."""
    page.goto(site + "/", referer=site + "/login")
    page.wait_for_function("() => Boolean(window.multicaAnalytics)")
    assert page.evaluate("() => document.referrer").startswith(site)
    assert signup_source(page) is None


def test_signup_source_keeps_an_existing_cookie(site, page):
    """First touch wins: an existing cookie is left untouched."""
    existing = "%7B%22utm_source%22%3A%22first%22%7D"
    page.context.add_cookies([{"name": "multica_signup_source", "value": existing, "url": site}])
    page.goto(site + "/?utm_source=second", referer="https://example.org/post")
    page.wait_for_function("() => Boolean(window.multicaAnalytics)")
    assert cookie(page, "multica_signup_source")["value"] == existing


def test_signup_source_truncates_values_to_96(site, page):
    """A 200-character utm_content is stored cut to 96 characters."""
    page.goto(site + "/?utm_content=" + "c" * 200)
    page.wait_for_function("() => Boolean(window.multicaAnalytics)")
    assert json.loads(signup_source(page)) == {"utm_content": "c" * 96}


def test_signup_source_drops_a_payload_over_512(site, page):
    """Five 96-character UTM values make a payload over 512 ⇒ no cookie at all."""
    keys = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"]
    assert len(json.dumps({k: "x" * 96 for k in keys}, separators=(",", ":"))) > 512
    page.goto(site + "/?" + "&".join(f"{k}={'x' * 200}" for k in keys))
    page.wait_for_function("() => Boolean(window.multicaAnalytics)")
    assert signup_source(page) is None


def test_anonymous_id_cookie_attributes(site, page):
    """`multica_anon_id`: a UUID, path=/, about one year, SameSite=Lax."""
    open_tracked(page, site + "/")
    found = cookie(page, "multica_anon_id")
    assert found is not None
    assert len(anon_id(page)) == 36 and anon_id(page).count("-") == 4
    assert found["path"] == "/" and found["sameSite"] == "Lax"
    assert abs(found["expires"] - (time.time() + 31536000)) < 120


# ---- landing CTAs and transport ---------------------------------------------------------------


def test_landing_ctas_express_download_intent(site, page, sink):
    """Both landing CTAs ⇒ `download_intent_expressed` with their source, then `$set` platform_preference."""
    open_tracked(page, site + "/")
    page.click("[data-track-source=landing_hero]")
    page.wait_for_url("**/download")
    page.go_back()
    page.wait_for_url(site + "/")
    page.click("[data-track-source=landing_footer]")
    page.wait_for_url("**/download")

    def intent_and_preference(s):
        return [
            e
            for e in s.events()
            if e["event"] == "download_intent_expressed"
            or (e["event"] == "$set" and "platform_preference" in e["properties"].get("$set", {}))
        ]

    sink.wait_for(lambda s: len(intent_and_preference(s)) >= 4)
    events = intent_and_preference(sink)
    assert [(e["event"], e["properties"].get("source")) for e in events] == [
        ("download_intent_expressed", "landing_hero"),
        ("$set", None),
        ("download_intent_expressed", "landing_footer"),
        ("$set", None),
    ]
    assert all(e["properties"]["$set"] == {"platform_preference": "desktop"} for e in events if e["event"] == "$set")
    assert {e["distinct_id"] for e in events} == {anon_id(page)}
    assert all(e["properties"]["client_type"] == "web" for e in events)


def test_pagehide_flushes_with_send_beacon(site, page, sink, posts):
    """A capture right before navigating away still arrives, sent by sendBeacon (no custom headers)."""
    open_tracked(page, site + "/")
    # Navigating away also hides the page; keep that from the tracker so only pagehide can flush.
    page.evaluate(
        """() => {
            window.addEventListener("visibilitychange", (e) => e.stopImmediatePropagation(), true);
            window.multicaAnalytics.capture("download_intent_expressed", {source: "login"});
        }"""
    )
    page.goto(site + "/api/config")
    (event,) = sink.wait_for_events(1, "download_intent_expressed")
    assert event["properties"]["source"] == "login"
    (batch,) = [b for b in posts if any(e["event"] == "download_intent_expressed" for e in b["events"])]
    assert batch["platform"] is None, "sent by fetch, not by the pagehide beacon"
    assert batch["content_type"] == "application/json"


def test_hidden_page_flushes_with_send_beacon(site, page, sink, posts):
    """`visibilitychange` to hidden ships the queue at once, by beacon."""
    open_tracked(page, site + "/")
    page.evaluate(
        """() => {
            window.multicaAnalytics.capture("download_intent_expressed", {source: "login"});
            Object.defineProperty(document, "visibilityState", {configurable: true, get: () => "hidden"});
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    (event,) = sink.wait_for_events(1, "download_intent_expressed")
    assert event["distinct_id"] == anon_id(page)
    (batch,) = [b for b in posts if any(e["event"] == "download_intent_expressed" for e in b["events"])]
    assert batch["platform"] is None, "sent by the debounce timer, not on visibilitychange"


def test_public_api_never_throws(site, page, sink, settle):
    """Odd arguments are absorbed: no page error, and well-formed work still ships."""
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_tracked(page, site + "/")
    page.evaluate(
        """() => {
            const a = window.multicaAnalytics;
            const loop = {}; loop.self = loop;
            a.capture("download_intent_expressed", loop);
            a.flush();
            a.capture();
            a.setPersonProperties(null);
            a.setPersonPropertiesOnce(undefined);
            a.capturePageview(42);
            a.identify({});
            a.init(undefined);
            a.captureSignupSource();
            a.reset();
        }"""
    )
    settle(page)
    assert errors == []
    # The bad calls were dropped alone; the well-formed pageviews around them shipped (in two
    # requests that may arrive in either order).
    assert sorted(pageview_paths(sink)) == ["/", "/42"]


# ---- the inert rule (§13, §14.1) ----------------------------------------------------------------


def test_empty_key_sends_nothing(make_app, page, sink):
    """POSTHOG_API_KEY="": page loads, CTA clicks, navigation and explicit calls never reach the endpoint."""
    app = make_app(POSTHOG_API_KEY="", APP_VERSION=APP_VERSION)
    posts = record_posts(app)
    server = LiveServer(app).start()
    try:
        seen = []
        page.on("request", lambda r: seen.append(r.url) if ENDPOINT in r.url else None)
        open_tracked(page, server.url + "/")
        config = page.evaluate("() => JSON.parse(document.getElementById('multica-analytics-config').textContent)")
        assert config["posthog_key"] == ""
        assert page.evaluate("(config) => window.multicaAnalytics.init(config)", config) is False
        page.click("[data-track-source=landing_hero]")
        page.wait_for_url("**/download")
        page.go_back()
        page.wait_for_url(server.url + "/")
        page.evaluate(
            """() => {
                history.pushState(null, "", "/acme/issues");
                window.multicaAnalytics.capture("download_intent_expressed", {source: "login"});
                window.multicaAnalytics.setPersonProperties({platform_preference: "desktop"});
                window.multicaAnalytics.flush();
            }"""
        )
        page.goto(server.url + "/api/config")
        barrier(page)
        assert seen == []
        assert posts == []
        assert cookie(page, "multica_anon_id") is None
        assert sink.requests == []
    finally:
        server.stop()
