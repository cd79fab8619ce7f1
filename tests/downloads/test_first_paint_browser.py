"""First paint with JavaScript disabled, in headless Chromium (D11, D14.13): the hero link is the
right `browser_download_url`, first in document order, for the User-Agents and Client Hints of §15.5.

Chromium derives its own `Sec-CH-UA-*` hints from an overridden User-Agent; the User-Agent cases
strip the high-entropy `Sec-CH-UA-Arch` (as a browser without Client Hints would not send it), and
the Client Hints cases set both hints explicitly.
"""

from __future__ import annotations

import pytest

from tests.downloads.test_detect import CHROME_WINDOWS, FIREFOX_LINUX, SAFARI_MAC

pytestmark = pytest.mark.browser

VERSION = "0.2.13"
CHROME_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def _without_arch_hint(route):
    headers = {k: v for k, v in route.request.headers.items() if k.lower() != "sec-ch-ua-arch"}
    route.continue_(headers=headers)


def first_paint(browser, url: str, user_agent: str, hints: dict | None = None):
    """The hero of `url` as Chromium renders it without JavaScript; returns (page, context)."""
    context = browser.new_context(java_script_enabled=False, user_agent=user_agent, extra_http_headers=hints or {})
    if hints is None:
        context.route("**/download", _without_arch_hint)
    page = context.new_page()
    page.goto(url + "/download")
    return page, context


def first_installer_href(page) -> str | None:
    """The first `<a href>` to an installer in document order (template content is not in the document)."""
    return page.evaluate("() => document.querySelector('a[data-installer]')?.href ?? null")


@pytest.mark.parametrize(
    ("user_agent", "hints", "installer"),
    [
        (SAFARI_MAC, None, "mac-arm64.dmg"),
        (CHROME_WINDOWS, None, "windows-x64.exe"),
        ("Mozilla/5.0 (X11; Linux aarch64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36", None, "linux-arm64.AppImage"),
        (FIREFOX_LINUX, None, "linux-x86_64.AppImage"),
        (CHROME_MAC, {"Sec-CH-UA-Platform": '"macOS"', "Sec-CH-UA-Arch": '"arm"'}, "mac-arm64.dmg"),
        (CHROME_WINDOWS, {"Sec-CH-UA-Platform": '"Windows"', "Sec-CH-UA-Arch": '"x86"'}, "windows-x64.exe"),
        (CHROME_WINDOWS, {"Sec-CH-UA-Platform": '"Windows"', "Sec-CH-UA-Arch": '"arm"'}, "windows-arm64.exe"),
        (FIREFOX_LINUX, {"Sec-CH-UA-Platform": '"Linux"', "Sec-CH-UA-Arch": '""'}, "linux-x86_64.AppImage"),
        (FIREFOX_LINUX, {"Sec-CH-UA-Platform": '"Linux"', "Sec-CH-UA-Arch": '"arm"'}, "linux-arm64.AppImage"),
    ],
)
def test_first_paint_offers_the_right_installer(browser, live_server, published, user_agent, hints, installer):
    page, context = first_paint(browser, live_server.url, user_agent, hints)
    try:
        assert first_installer_href(page) == published.asset_url(f"multica-desktop-{VERSION}-{installer}")
        hero = page.locator("[data-hero] a[data-installer]").first
        assert hero.is_visible() and hero.get_attribute("data-primary") == "true"
    finally:
        context.close()


def test_first_paint_mac_offers_the_zip_and_the_safari_hint(browser, live_server, published):
    page, context = first_paint(browser, live_server.url, SAFARI_MAC)
    try:
        hrefs = page.eval_on_selector_all("[data-hero] a[data-installer]", "els => els.map((e) => e.href)")
        assert hrefs == [
            published.asset_url(f"multica-desktop-{VERSION}-mac-arm64.dmg"),
            published.asset_url(f"multica-desktop-{VERSION}-mac-arm64.zip"),
        ]
        assert page.locator("[data-hero] [data-safari-hint]").is_visible()
    finally:
        context.close()


def test_first_paint_intel_mac_with_client_hints_is_pointed_at_the_cli(browser, live_server, published):
    page, context = first_paint(browser, live_server.url, CHROME_MAC, {"Sec-CH-UA-Platform": '"macOS"', "Sec-CH-UA-Arch": '"x86"'})
    try:
        assert page.locator("[data-hero] a[data-installer]").count() == 0
        assert page.get_by_role("button", name="Not available for Intel Macs").is_disabled()
        page.locator("[data-hero] a[href='#cli']").click()
        assert page.locator("#cli").is_visible()
    finally:
        context.close()


def test_first_paint_degraded(browser, live_server, feed):
    feed.fail(403)
    page, context = first_paint(browser, live_server.url, SAFARI_MAC)
    try:
        assert page.locator("a[data-installer]").count() == 0
        assert page.get_by_role("button", name="Download for macOS (Apple silicon) .dmg").is_disabled()
        assert page.locator("[data-hero]").get_by_text("Version unavailable").is_visible()
        assert page.locator("footer").get_by_text("Version unavailable").is_visible()
        assert page.get_by_role("link", name="All releases").first.get_attribute("href") == "https://github.com/multica-ai/multica/releases"
    finally:
        context.close()
