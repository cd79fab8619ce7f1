"""`/download` from the wire (SPEC §15.1, §15.3, D11, D14.13–14): hero, matrix, releases, degraded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.downloads.feed import release
from tests.downloads.html import buttons, installer_links, links
from tests.downloads.test_detect import CHROME_WINDOWS, FIREFOX_LINUX, SAFARI_MAC

VERSION = "0.2.13"


def asset(feed, name: str) -> str:
    return feed.asset_url(f"multica-desktop-{VERSION}-{name}")


@pytest.mark.parametrize(
    ("headers", "hero", "alternative"),
    [
        ({"User-Agent": SAFARI_MAC}, "mac-arm64.dmg", "mac-arm64.zip"),
        ({"User-Agent": SAFARI_MAC, "Sec-CH-UA-Platform": '"macOS"', "Sec-CH-UA-Arch": '"arm"'}, "mac-arm64.dmg", "mac-arm64.zip"),
        ({"User-Agent": CHROME_WINDOWS}, "windows-x64.exe", None),
        ({"User-Agent": CHROME_WINDOWS, "Sec-CH-UA-Platform": '"Windows"', "Sec-CH-UA-Arch": '"arm"'}, "windows-arm64.exe", None),
        ({"User-Agent": FIREFOX_LINUX}, "linux-x86_64.AppImage", None),
        ({"User-Agent": "Mozilla/5.0 (X11; Linux aarch64)"}, "linux-arm64.AppImage", None),
    ],
)
def test_the_hero_offers_the_installer_for_the_machine(client, published, headers, hero, alternative):
    response = client.get("/download", headers=headers)
    assert response.status_code == 200
    found = installer_links(response.get_data(as_text=True))
    assert found[0]["href"] == asset(published, hero), "the hero's installer is first in document order"
    assert found[0]["data-primary"] == "true"
    heroes = [link for link in found if link["data-primary"] == "true"]
    assert [link["href"] for link in heroes] == [asset(published, hero)] + ([asset(published, alternative)] if alternative else [])


def test_the_safari_hint_shows_only_when_the_guess_is_not_confident(client, published):
    unsure = client.get("/download", headers={"User-Agent": SAFARI_MAC}).get_data(as_text=True)
    sure = client.get(
        "/download", headers={"User-Agent": SAFARI_MAC, "Sec-CH-UA-Platform": '"macOS"', "Sec-CH-UA-Arch": '"arm"'}
    ).get_data(as_text=True)
    hint = "Safari reports every Mac as Intel"
    assert hint in unsure.split("<template")[0]
    assert hint not in sure.split("<template")[0]


def test_an_intel_mac_gets_a_disabled_cta_pointing_at_the_cli(client, published):
    html = client.get("/download", headers={"User-Agent": SAFARI_MAC, "Sec-CH-UA-Platform": '"macOS"', "Sec-CH-UA-Arch": '"x86"'}).get_data(as_text=True)
    assert [link for link in installer_links(html) if link["data-primary"] == "true"] == []
    (button,) = [b for b in buttons(html) if "Intel" in b["text"]]
    assert "disabled" in button
    assert any(link["href"] == "#cli" for link in links(html))
    assert 'id="cli"' in html and "python -m multica.daemon" in html and "pip install multica" in html


def test_linux_links_to_the_matrix_for_the_other_packages(client, published):
    html = client.get("/download", headers={"User-Agent": FIREFOX_LINUX}).get_data(as_text=True)
    hero_html = html.split('id="all-platforms"')[0].split("<template")[0]
    assert 'href="#all-platforms"' in hero_html
    assert 'id="all-platforms"' in html


def test_an_unknown_machine_is_asked_to_choose(client, published):
    html = client.get("/download", headers={"User-Agent": "curl/8.5.0"}).get_data(as_text=True)
    assert "Choose your platform" in html.split("<template")[0]
    assert all(link["data-primary"] == "false" for link in installer_links(html))


def test_the_matrix_lists_the_ten_slots_and_unavailable_cells_are_not_links(client, feed):
    feed.publish(
        release("v0.2.13", age=timedelta(days=1), base=feed.url, assets=[
            f"multica-desktop-{VERSION}-mac-arm64.dmg", f"multica-desktop-{VERSION}-linux-amd64.deb",
        ])
    )
    html = client.get("/download", headers={"User-Agent": CHROME_WINDOWS}).get_data(as_text=True)
    assert html.count("<tr data-slot=") == 10
    matrix = [link for link in installer_links(html) if link["data-primary"] == "false"]
    assert [(m["data-platform"], m["data-arch"], m["data-format"]) for m in matrix] == [("mac", "arm64", "dmg"), ("linux", "x64", "deb")]
    assert html.count('aria-disabled="true">Not available') == 8
    # Windows was guessed but this release has no exe: no hero CTA at all (the page is not degraded).
    assert [link for link in installer_links(html) if link["data-primary"] == "true"] == []
    assert not [b for b in buttons(html) if "disabled" in b]


def test_releases_link_and_version(client, published):
    html = client.get("/download").get_data(as_text=True)
    hrefs = [link["href"] for link in links(html)]
    assert "https://github.com/multica-ai/multica/releases" in hrefs
    assert "https://github.com/multica-ai/multica/releases/tag/v0.2.13" in hrefs
    assert "v0.2.13" in html and "Version unavailable" not in html
    assert "/contact-sales" in hrefs


def test_first_paint_headers(client, published):
    response = client.get("/download")
    assert response.headers["Accept-CH"] == "Sec-CH-UA-Platform, Sec-CH-UA-Arch"
    vary = {v.strip().lower() for v in response.headers["Vary"].split(",")}
    assert {"sec-ch-ua-platform", "sec-ch-ua-arch", "user-agent"} <= vary


@pytest.mark.parametrize(
    "break_feed",
    [
        lambda feed: feed.fail(403),
        lambda feed: feed.fail(500, b"boom"),
        lambda feed: feed.answer_raw(b"not json"),
        lambda feed: feed.answer_raw(b'{"message": "Not Found"}'),
        lambda feed: feed.publish(release("v0.3.0-rc1", age=timedelta(days=1), prerelease=True)),
    ],
)
def test_the_degraded_page(client, feed, break_feed):
    break_feed(feed)
    response = client.get("/download", headers={"User-Agent": SAFARI_MAC})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    document = html.split("<template")[0] + html.split("</template>")[-1]
    assert document.count("Version unavailable") >= 2, "in the hero and in the footer"
    assert "Version unavailable" in html.split("<footer")[1]
    assert installer_links(html) == []
    (cta,) = [b for b in buttons(html) if "Download for" in b["text"]]
    assert "disabled" in cta
    assert "https://github.com/multica-ai/multica/releases" in [link["href"] for link in links(html)]
    assert 'data-version-available="false"' in html


def test_a_timed_out_feed_degrades_without_a_5xx(make_app, feed):
    feed.delay = 30
    app = make_app(RELEASES_API_URL=feed.api_url, RELEASES_TIMEOUT=0.3)
    response = app.test_client().get("/download")
    assert response.status_code == 200 and "Version unavailable" in response.get_data(as_text=True)


def test_header_download_link_counts_on_landing_and_login_only(client):
    def header_link(path):
        html = client.get(path).get_data(as_text=True)
        return next(link for link in links(html) if link["href"] == "/download")

    assert header_link("/")["data-track-source"] == "landing_hero"
    assert header_link("/login")["data-track-source"] == "login"
    assert header_link("/")["data-track"] == header_link("/login")["data-track"] == "download_intent_expressed"
    assert "data-track" not in header_link("/download")


def test_every_download_link_on_landing_and_login_is_tracked(client):
    for path, sources in (("/", {"landing_hero", "landing_footer"}), ("/login", {"login"})):
        found = [link for link in links(client.get(path).get_data(as_text=True)) if link["href"] == "/download"]
        assert found and all(link.get("data-track") == "download_intent_expressed" for link in found)
        assert {link["data-track-source"] for link in found} == sources
