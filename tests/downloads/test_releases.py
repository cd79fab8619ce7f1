"""Release lookup (SPEC §15.1, §15.5): the pure helpers, then the feed from the wire."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from multica.downloads.pages import release_feed
from multica.downloads.releases import (
    EMPTY_RELEASE,
    SLOTS,
    FeedError,
    choose_release,
    parse_release_assets,
    release_from_feed,
    releases_page_url,
)
from tests.downloads.feed import installers, release

NOW = datetime.now(timezone.utc)
EMPTY = {"version": None, "published_at": None, "html_url": None, "assets": {}}


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# ---- choose_release (pure) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("releases", "expected"),
    [
        # The fresh-release guard: the newest is under an hour old and a previous stable exists.
        ([release("v0.2.14", age=minutes(10)), release("v0.2.13", age=timedelta(days=1))], "v0.2.13"),
        ([release("v0.2.14", age=minutes(120)), release("v0.2.13", age=timedelta(days=1))], "v0.2.14"),
        ([release("v0.2.14", age=minutes(59)), release("v0.2.13", age=timedelta(days=1))], "v0.2.13"),
        ([release("v0.2.14", age=minutes(5))], "v0.2.14"),
        ([release("v0.3.0-rc1", age=minutes(5), prerelease=True), release("v0.2.14", age=minutes(120))], "v0.2.14"),
        ([release("v0.3.0", age=minutes(1), draft=True), release("v0.2.14", age=minutes(120))], "v0.2.14"),
        # Listed out of order: the newest by publication date counts.
        ([release("v0.2.13", age=timedelta(days=1)), release("v0.2.14", age=minutes(10))], "v0.2.13"),
        ([release("v0.3.0-rc1", age=minutes(5), prerelease=True), release("v0.3.0", age=minutes(1), draft=True)], None),
        ([], None),
    ],
)
def test_choose_release(releases, expected):
    chosen = choose_release(releases, NOW)
    assert (chosen["tag_name"] if chosen else None) == expected


@pytest.mark.parametrize("payload", [{"message": "Not Found"}, "releases", None, [1, 2], [["v1"]]])
def test_choose_release_refuses_a_feed_of_the_wrong_shape(payload):
    with pytest.raises(FeedError):
        choose_release(payload, NOW)


def test_a_stable_release_without_a_publication_date_is_the_wrong_shape():
    broken = release("v0.2.14", age=minutes(120))
    broken["published_at"] = "yesterday"
    with pytest.raises(FeedError):
        choose_release([broken], NOW)


# ---- parse_release_assets (pure) -----------------------------------------------------------------


def assets(*names: str) -> list[dict]:
    return [{"name": n, "browser_download_url": f"https://example.test/{n}"} for n in names]


@pytest.mark.parametrize(
    ("name", "slot"),
    [
        ("multica-desktop-0.2.14-mac-arm64.dmg", "mac-arm64-dmg"),
        ("multica-desktop-0.2.14-mac-arm64.zip", "mac-arm64-zip"),
        ("multica-desktop-0.2.14-mac-x64.dmg", None),  # Apple silicon only
        ("multica-desktop-0.2.14-mac-universal.dmg", None),
        ("multica-desktop-0.2.14-windows-x64.exe", "win-x64-exe"),
        ("multica-desktop-0.2.14-windows-arm64.exe", "win-arm64-exe"),
        ("multica-desktop-0.2.14-windows-x64.zip", None),  # Windows: exe only
        ("multica-desktop-0.2.14-windows-ia32.exe", None),
        ("multica-desktop-0.2.14-linux-x86_64.rpm", "linux-amd64-rpm"),
        ("multica-desktop-0.2.14-linux-amd64.deb", "linux-amd64-deb"),
        ("multica-desktop-0.2.14-linux-x86_64.AppImage", "linux-amd64-appimage"),
        ("multica-desktop-0.2.14-linux-aarch64.AppImage", "linux-arm64-appimage"),
        ("multica-desktop-0.2.14-linux-arm64.deb", "linux-arm64-deb"),
        ("multica-desktop-0.2.14-linux-armv7l.deb", None),
        ("MULTICA-DESKTOP-0.2.14-LINUX-X86_64.APPIMAGE", "linux-amd64-appimage"),  # case-insensitive
        ("multica-desktop-0.2.14-windows-x64.exe.blockmap", None),
        ("multica-desktop-0.2.14-mac-arm64.dmg.blockmap", None),
        ("latest-mac.yml", None),
        ("checksums.txt", None),
        ("checksums-multica-desktop-0.2.14-mac-arm64.dmg", None),
        ("multica-desktop-0.2.14-beta-mac-arm64.dmg", None),  # the version has no hyphens
        ("multica-desktop-0.2.14-mac-arm64.pkg", None),
        ("multica-0.2.14-mac-arm64.dmg", None),
    ],
)
def test_asset_grammar(name, slot):
    assert parse_release_assets(assets(name)) == ({slot: f"https://example.test/{name}"} if slot else {})


def test_a_full_release_fills_the_ten_slots():
    parsed = parse_release_assets(assets(*installers("0.2.14")))
    assert sorted(parsed) == sorted(SLOTS) and len(SLOTS) == 10


def test_an_asset_url_that_is_not_http_is_ignored():
    parsed = parse_release_assets([{"name": "multica-desktop-0.2.14-mac-arm64.dmg", "browser_download_url": "javascript:alert(1)"}])
    assert parsed == {}


def test_release_from_feed_result_shape():
    feed = [release("v0.2.14", age=minutes(120), assets=["multica-desktop-0.2.14-mac-arm64.dmg"], base="https://dl.test")]
    result = release_from_feed(feed, NOW).as_dict()
    assert result["version"] == "v0.2.14"
    assert result["html_url"] == "https://github.com/multica-ai/multica/releases/tag/v0.2.14"
    assert result["assets"] == {"mac-arm64-dmg": "https://dl.test/assets/multica-desktop-0.2.14-mac-arm64.dmg"}
    assert datetime.fromisoformat(result["published_at"].replace("Z", "+00:00")) <= NOW
    assert release_from_feed([], NOW).as_dict() == EMPTY


def test_releases_page_url_follows_the_api_url():
    assert releases_page_url("https://api.github.com/repos/acme/desk/releases") == "https://github.com/acme/desk/releases"
    assert releases_page_url("http://127.0.0.1:8000/feed.json") == "https://github.com/multica-ai/multica/releases"


# ---- from the wire -------------------------------------------------------------------------------


def lookup(app) -> dict:
    """One lookup through the app's feed (the first of the process, so it goes to the wire)."""
    return release_feed(app).current().as_dict()


def test_the_guard_picks_the_previous_release_from_the_feed(app, feed):
    feed.publish(
        release("v0.2.14", age=minutes(10), assets=installers("0.2.14"), base=feed.url),
        release("v0.2.13", age=timedelta(days=1), assets=installers("0.2.13"), base=feed.url),
    )
    result = lookup(app)
    assert result["version"] == "v0.2.13"
    assert result["assets"]["mac-arm64-dmg"] == feed.asset_url("multica-desktop-0.2.13-mac-arm64.dmg")


def test_a_two_hour_old_release_is_offered(app, feed):
    feed.publish(
        release("v0.2.14", age=minutes(120), assets=installers("0.2.14"), base=feed.url),
        release("v0.2.13", age=timedelta(days=1), assets=installers("0.2.13"), base=feed.url),
    )
    assert lookup(app)["version"] == "v0.2.14"


def test_a_lone_five_minute_old_release_is_offered(app, feed):
    feed.publish(release("v0.2.14", age=minutes(5), assets=installers("0.2.14"), base=feed.url))
    assert lookup(app)["version"] == "v0.2.14"


def test_a_prerelease_yields_to_the_stable_release(app, feed):
    feed.publish(
        release("v0.3.0-rc1", age=minutes(5), prerelease=True, assets=installers("0.3.0"), base=feed.url),
        release("v0.2.14", age=minutes(120), assets=installers("0.2.14"), base=feed.url),
    )
    result = lookup(app)
    assert result["version"] == "v0.2.14"
    assert result["assets"]["win-x64-exe"] == feed.asset_url("multica-desktop-0.2.14-windows-x64.exe")


def test_only_prereleases_and_drafts_give_the_empty_release(app, feed, caplog):
    feed.publish(
        release("v0.3.0", age=minutes(1), draft=True, assets=installers("0.3.0"), base=feed.url),
        release("v0.3.0-rc1", age=minutes(5), prerelease=True, assets=installers("0.3.0"), base=feed.url),
    )
    assert lookup(app) == EMPTY


def test_the_request_asks_github_for_the_list(app, feed):
    feed.publish(release("v0.2.14", age=minutes(120)))
    lookup(app)
    (seen,) = feed.requests
    assert urlsplit(seen["path"]).path == "/repos/multica-ai/multica/releases"
    assert parse_qs(urlsplit(seen["path"]).query) == {"per_page": ["2"]}
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert "authorization" not in headers


def test_github_token_is_sent_as_a_bearer(make_app, feed):
    feed.publish(release("v0.2.14", age=minutes(120)))
    app = make_app(RELEASES_API_URL=feed.api_url, GITHUB_TOKEN="ghp_secret")
    lookup(app)
    (seen,) = feed.requests
    assert {k.lower(): v for k, v in seen["headers"].items()}["authorization"] == "Bearer ghp_secret"


def test_an_existing_page_size_is_kept(make_app, feed):
    feed.publish(release("v0.2.14", age=minutes(120)))
    lookup(make_app(RELEASES_API_URL=feed.api_url + "?per_page=5"))
    assert parse_qs(urlsplit(feed.requests[0]["path"]).query) == {"per_page": ["5"]}


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, b'{"message": "API rate limit exceeded"}'),
        (404, b'{"message": "Not Found"}'),
        (500, b"oops"),
        (302, b""),
    ],
)
def test_a_non_2xx_answer_gives_the_empty_release_and_a_warning(app, feed, caplog, status, body):
    feed.fail(status, body)
    with caplog.at_level(logging.WARNING, logger="multica.downloads"):
        assert lookup(app) == EMPTY
    (record,) = [r for r in caplog.records if r.name == "multica.downloads"]
    assert record.levelno == logging.WARNING and "release lookup failed" in record.getMessage()
    assert str(status) in record.getMessage()


@pytest.mark.parametrize(
    "body",
    [b"<html>rate limited</html>", b"", b'{"message": "Not Found"}', b'"v0.2.14"', b"[1, 2]",
     b'[{"tag_name": "v1", "draft": false, "prerelease": false, "published_at": "2020-01-01T00:00:00Z", "assets": "none"}]',
     b'[{"tag_name": null, "draft": false, "prerelease": false, "published_at": "2020-01-01T00:00:00Z", "assets": []}]'],
)
def test_bad_json_or_a_wrong_shape_gives_the_empty_release_and_a_warning(app, feed, caplog, body):
    feed.answer_raw(body)
    with caplog.at_level(logging.WARNING, logger="multica.downloads"):
        assert lookup(app) == EMPTY
    assert any(r.levelno == logging.WARNING and "release lookup failed" in r.getMessage() for r in caplog.records)


def test_a_feed_slower_than_the_timeout_gives_the_empty_release(make_app, feed, caplog):
    feed.publish(release("v0.2.14", age=minutes(120)))
    feed.delay = 30
    app = make_app(RELEASES_API_URL=feed.api_url, RELEASES_TIMEOUT=0.3)
    with caplog.at_level(logging.WARNING, logger="multica.downloads"):
        assert lookup(app) == EMPTY
    assert feed.answered == 0, "the lookup gave up before the feed answered"
    assert any("timed out" in r.getMessage() for r in caplog.records)


def test_an_unreachable_feed_gives_the_empty_release(make_app, caplog):
    app = make_app(RELEASES_API_URL="http://127.0.0.1:9/releases")
    with caplog.at_level(logging.WARNING, logger="multica.downloads"):
        assert lookup(app) == EMPTY
    assert any("release lookup failed" in r.getMessage() for r in caplog.records)


def test_the_token_never_reaches_the_log(make_app, feed, caplog):
    feed.fail(401, b'{"message": "Bad credentials"}')
    app = make_app(RELEASES_API_URL=feed.api_url, GITHUB_TOKEN="ghp_secret")
    with caplog.at_level(logging.DEBUG, logger="multica"):
        assert lookup(app) == EMPTY
    assert "ghp_secret" not in caplog.text


def test_the_empty_release_constant_is_the_degraded_shape():
    assert EMPTY_RELEASE.as_dict() == EMPTY and not EMPTY_RELEASE.available


def test_every_slot_reports_what_download_initiated_accepts():
    from multica.analytics.catalog import CATALOG
    from multica.analytics.schema import violations_for
    from multica.downloads.pages import SLOT_INFO

    assert list(SLOT_INFO) == list(SLOTS)
    for slot in SLOT_INFO.values():
        props = {"platform": slot.platform, "arch": slot.arch, "format": slot.format, "version": "v0.2.13",
                 "primary_cta": False, "matched_detect": False}
        assert violations_for(CATALOG["download_initiated"], props, closed=True) == [], slot
