"""The download page's events in headless Chromium, against the real app, tracker and sink (SPEC §15.4).

Detection inputs are the browser's own: `navigator.userAgentData` is replaced before any page script
runs (a Chromium with given high-entropy values, or a browser without Client Hints), and the
User-Agent is the context's.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.downloads.feed import installers, release
from tests.downloads.test_detect import CHROME_WINDOWS, FIREFOX_LINUX, SAFARI_MAC

pytestmark = pytest.mark.browser

VERSION = "0.2.13"
SENTINEL = "feedback_opened"
SET = "$set"
WAIT = 20.0  # seconds: the tracker's one-second batching, then the relay, on a busy machine


@pytest.fixture
def site(live_server, monkeypatch):
    """The live app with a PostHog key in the page config (read from the environment per request)."""
    monkeypatch.setenv("POSTHOG_API_KEY", "phc_test")
    return live_server.url


def client_hints(platform: str | None, architecture: str | None = None) -> str:
    """An init script: `userAgentData` answering these high-entropy values, or absent when platform is None."""
    if platform is None:
        getter = "undefined"
    else:
        getter = (
            "({brands: [], mobile: false, platform: %r, getHighEntropyValues: () => Promise.resolve({platform: %r, architecture: %r})})"
            % (platform, platform, architecture or "")
        )
    return f'Object.defineProperty(Navigator.prototype, "userAgentData", {{configurable: true, get: () => {getter}}});'


def open_page(browser, url: str, *, user_agent: str, hints: str):
    context = browser.new_context(user_agent=user_agent)
    context.add_init_script(hints)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("() => Boolean(window.multicaAnalytics)")
    return context, page


def settle(page, sink) -> None:
    """Everything the page captured so far has reached the sink (a flushed sentinel arrived after it)."""
    before = len(sink.events(SENTINEL))
    page.evaluate(
        """() => {
            window.multicaAnalytics.capture("feedback_opened", {source: "help_menu"});
            window.multicaAnalytics.flush();
        }"""
    )
    assert len(sink.wait_for_events(before + 1, SENTINEL, timeout=WAIT)) == before + 1


def shipped(sink, *names: str) -> list[dict]:
    return [e for e in sink.events() if e["event"] in names]


def viewed(sink) -> list[dict]:
    return [e["properties"] for e in sink.events("download_page_viewed")]


def detect_props(props: dict) -> tuple:
    return (props["detected_os"], props["detected_arch"], props["detect_confident"], props["version_available"])


def wait_viewed(page, sink, count: int) -> list[dict]:
    sink.wait_for_events(count, "download_page_viewed", timeout=WAIT)
    settle(page, sink)
    return viewed(sink)


def test_landing_hero_to_download_page(browser, site, published, sink):
    context, page = open_page(browser, site + "/", user_agent=SAFARI_MAC, hints=client_hints(None))
    try:
        page.locator("section.hero [data-track-source=landing_hero]").click()
        page.wait_for_url("**/download")
        (props,) = wait_viewed(page, sink, 1)
        intents = shipped(sink, "download_intent_expressed")
        assert [e["properties"]["source"] for e in intents] == ["landing_hero"]
        sets = [e["properties"]["$set"] for e in shipped(sink, SET) if "$set" in e["properties"]]
        assert sets == [{"platform_preference": "desktop"}]
        assert detect_props(props) == ("mac", "arm64", False, True)
        assert {e["distinct_id"] for e in shipped(sink, "download_intent_expressed", "download_page_viewed")} == {
            next(c["value"] for c in context.cookies() if c["name"] == "multica_anon_id")
        }
    finally:
        context.close()


@pytest.mark.parametrize(
    ("user_agent", "hints", "expected"),
    [
        (SAFARI_MAC, client_hints("macOS", "arm"), ("mac", "arm64", True, True)),
        (CHROME_WINDOWS, client_hints("Windows", "x86"), ("windows", "x64", True, True)),
        (FIREFOX_LINUX, client_hints("Linux", ""), ("linux", "unknown", False, True)),
        (SAFARI_MAC, client_hints(None), ("mac", "arm64", False, True)),
        (CHROME_WINDOWS, client_hints(None), ("windows", "x64", False, True)),
        ("Mozilla/5.0 (X11; Linux aarch64)", client_hints(None), ("linux", "arm64", False, True)),
    ],
)
def test_one_download_page_viewed_per_load_then_set_once(browser, site, published, sink, user_agent, hints, expected):
    context, page = open_page(browser, site + "/download", user_agent=user_agent, hints=hints)
    try:
        (props,) = wait_viewed(page, sink, 1)
        assert detect_props(props) == expected
        (set_once,) = [e["properties"]["$set_once"] for e in shipped(sink, SET)]
        assert set_once == {"first_detected_os": expected[0], "first_detected_arch": expected[1]}
        page.reload()
        page.wait_for_function("() => Boolean(window.multicaAnalytics)")
        assert [detect_props(p) for p in wait_viewed(page, sink, 2)] == [expected, expected]
    finally:
        context.close()


def test_refined_detection_updates_the_hero_in_place(browser, site, published, sink):
    # The User-Agent says Windows x64 (the server's guess); the high-entropy hints say ARM.
    context, page = open_page(browser, site + "/download", user_agent=CHROME_WINDOWS, hints=client_hints("Windows", "arm"))
    try:
        arm = published.asset_url(f"multica-desktop-{VERSION}-windows-arm64.exe")
        page.wait_for_function("(href) => document.querySelector('[data-hero] a[data-installer]')?.href === href", arg=arm)
        assert page.evaluate("() => document.querySelector('a[data-installer]').href") == arm
        assert page.locator("[data-download-page]").get_attribute("data-hero-key") == "windows-arm64"
        page.locator("[data-hero] a[data-installer]").click()
        sink.wait_for_events(1, "download_initiated", timeout=WAIT)
        settle(page, sink)
        (event,) = sink.events("download_initiated")
        assert {k: event["properties"][k] for k in ("platform", "arch", "format", "version", "primary_cta", "matched_detect")} == {
            "platform": "windows", "arch": "arm64", "format": "exe", "version": "v0.2.13", "primary_cta": True, "matched_detect": True,
        }
    finally:
        context.close()


@pytest.mark.parametrize(
    ("user_agent", "hints", "matched"),
    [
        (FIREFOX_LINUX, client_hints("Linux", "x86_64"), True),
        (SAFARI_MAC, client_hints("macOS", "arm"), False),
    ],
)
def test_a_matrix_click(browser, site, published, sink, user_agent, hints, matched):
    context, page = open_page(browser, site + "/download", user_agent=user_agent, hints=hints)
    try:
        wait_viewed(page, sink, 1)  # detection resolved
        page.locator("[data-slot=linux-amd64-deb] a[data-installer]").click()
        sink.wait_for_events(1, "download_initiated", timeout=WAIT)
        settle(page, sink)
        (event,) = sink.events("download_initiated")
        props = event["properties"]
        assert (props["platform"], props["arch"], props["format"], props["version"]) == ("linux", "x64", "deb", "v0.2.13")
        assert props["primary_cta"] is False and props["matched_detect"] is matched
    finally:
        context.close()


def test_the_mac_zip_is_a_primary_cta(browser, site, published, sink):
    context, page = open_page(browser, site + "/download", user_agent=SAFARI_MAC, hints=client_hints(None))
    try:
        wait_viewed(page, sink, 1)
        page.locator("[data-hero] a[data-format=zip]").click()
        sink.wait_for_events(1, "download_initiated", timeout=WAIT)
        (event,) = sink.events("download_initiated")
        assert (event["properties"]["format"], event["properties"]["primary_cta"], event["properties"]["matched_detect"]) == ("zip", True, True)
    finally:
        context.close()


def test_the_degraded_page_sends_no_download_initiated(browser, site, feed, sink):
    feed.fail(403)
    context, page = open_page(browser, site + "/download", user_agent=SAFARI_MAC, hints=client_hints("macOS", "arm"))
    try:
        (props,) = wait_viewed(page, sink, 1)
        assert detect_props(props) == ("mac", "arm64", True, False)
        assert page.locator("a[data-installer]").count() == 0
        page.locator("[data-hero] button").first.click(force=True)
        page.locator("#all-platforms [aria-disabled=true]").first.click()
        settle(page, sink)
        assert sink.events("download_initiated") == []
    finally:
        context.close()


def test_login_header_link_expresses_intent_and_navigates(browser, site, published, sink):
    context, page = open_page(browser, site + "/login", user_agent=SAFARI_MAC, hints=client_hints(None))
    try:
        page.locator("header a[href='/download']").click()
        page.wait_for_url("**/download")
        wait_viewed(page, sink, 1)
        assert [e["properties"]["source"] for e in shipped(sink, "download_intent_expressed")] == ["login"]
        assert [e["properties"]["$set"] for e in shipped(sink, SET) if "$set" in e["properties"]] == [{"platform_preference": "desktop"}]
    finally:
        context.close()


def test_landing_header_link_reports_landing_hero(browser, site, published, sink):
    context, page = open_page(browser, site + "/", user_agent=SAFARI_MAC, hints=client_hints(None))
    try:
        page.locator("header a[href='/download']").click()
        page.wait_for_url("**/download")
        wait_viewed(page, sink, 1)
        assert [e["properties"]["source"] for e in shipped(sink, "download_intent_expressed")] == ["landing_hero"]
    finally:
        context.close()


def test_a_fresh_release_is_held_back_on_the_page(browser, site, feed, sink):
    feed.publish(
        release("v0.2.14", age=timedelta(minutes=10), assets=installers("0.2.14"), base=feed.url),
        release("v0.2.13", age=timedelta(days=1), assets=installers("0.2.13"), base=feed.url),
    )
    context, page = open_page(browser, site + "/download", user_agent=SAFARI_MAC, hints=client_hints(None))
    try:
        assert page.locator("a[data-installer]").first.get_attribute("href") == feed.asset_url("multica-desktop-0.2.13-mac-arm64.dmg")
    finally:
        context.close()


def test_an_intel_mac_found_by_the_script_is_pointed_at_the_cli(browser, site, published, sink):
    # The server guesses Apple silicon from the User-Agent; the high-entropy hints say Intel.
    context, page = open_page(browser, site + "/download", user_agent=SAFARI_MAC, hints=client_hints("macOS", "x86"))
    try:
        (props,) = wait_viewed(page, sink, 1)
        assert detect_props(props) == ("mac", "x64", True, True)
        assert page.get_by_role("button", name="Not available for Intel Macs").is_disabled()
        assert page.locator("[data-hero] a[data-installer]").count() == 0
        page.locator("[data-hero] a[href='#cli']").click()
        settle(page, sink)
        assert sink.events("download_initiated") == []
    finally:
        context.close()
