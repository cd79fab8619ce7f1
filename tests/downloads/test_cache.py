"""The per-process release cache (SPEC §15.1, D11): one fetch in flight, stale-while-revalidate.

No wall-clock thresholds: the feed holds its answer behind a gate, so "the page did not wait for the
feed" is an ordering fact (the page came back while the feed request was still unanswered).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx

from tests.conftest import LiveServer
from tests.downloads.feed import installers, release


def version_on(html: str) -> str | None:
    marker = 'data-version="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)] or None


def test_fifty_concurrent_page_loads_make_one_feed_request(make_app, published):
    # A timeout well past the time the feed is held, so the held fetch succeeds on a busy machine.
    server = LiveServer(make_app(RELEASES_API_URL=published.api_url, RELEASES_TIMEOUT=60)).start()
    published.gate.clear()  # hold the first answer until every page load is in
    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            futures = [pool.submit(httpx.get, server.url + "/download", timeout=60) for _ in range(50)]
            assert published.wait_for_requests(1)
            time.sleep(0.3)  # let the other 49 reach the cache while the fetch is held
            published.gate.set()
            responses = [f.result() for f in futures]
    finally:
        published.gate.set()
        server.stop()
    assert [r.status_code for r in responses] == [200] * 50
    assert {version_on(r.text) for r in responses} == {"v0.2.13"}
    assert len(published.requests) == 1


def test_a_slow_feed_after_expiry_does_not_slow_pages_served_from_the_stale_copy(make_app, feed):
    feed.publish(release("v0.2.13", age=timedelta(days=1), assets=installers("0.2.13"), base=feed.url))
    app = make_app(RELEASES_API_URL=feed.api_url, RELEASES_CACHE_SECONDS=0.2, RELEASES_TIMEOUT=60)
    server = LiveServer(app).start()
    try:
        assert version_on(httpx.get(server.url + "/download").text) == "v0.2.13"
        assert len(feed.requests) == 1
        # A new release, behind a feed that now holds its answers.
        feed.publish(
            release("v0.2.14", age=timedelta(hours=3), assets=installers("0.2.14"), base=feed.url),
            release("v0.2.13", age=timedelta(days=1), assets=installers("0.2.13"), base=feed.url),
        )
        feed.gate.clear()
        time.sleep(0.3)  # past the 0.2 s lifetime
        pages = [httpx.get(server.url + "/download", timeout=30) for _ in range(5)]
        assert feed.wait_for_requests(2)
        assert feed.answered == 1, "every page above was served while the refresh was still unanswered"
        assert [version_on(p.text) for p in pages] == ["v0.2.13"] * 5
        assert len(feed.requests) == 2, "one refresh in flight, however many pages ask"
        feed.gate.set()
        assert feed.wait_for_answers(2)
        deadline = time.monotonic() + 5
        while version_on(httpx.get(server.url + "/download").text) != "v0.2.14":
            assert time.monotonic() < deadline, "the refreshed release never replaced the stale copy"
            time.sleep(0.05)
    finally:
        feed.gate.set()
        server.stop()


def test_a_failed_refresh_keeps_the_good_copy(make_app, feed):
    feed.publish(release("v0.2.13", age=timedelta(days=1), assets=installers("0.2.13"), base=feed.url))
    app = make_app(RELEASES_API_URL=feed.api_url, RELEASES_CACHE_SECONDS=0.1)
    client = app.test_client()
    assert version_on(client.get("/download").get_data(as_text=True)) == "v0.2.13"
    feed.fail(502, b"bad gateway")
    time.sleep(0.15)
    client.get("/download")  # starts the refresh, which fails
    assert feed.wait_for_answers(2)
    time.sleep(0.1)
    assert version_on(client.get("/download").get_data(as_text=True)) == "v0.2.13"


def test_within_the_lifetime_nothing_is_refetched(client, published):
    for _ in range(5):
        assert client.get("/download").status_code == 200
    assert len(published.requests) == 1


def test_each_app_has_its_own_cache(make_app, published):
    for _ in range(2):
        make_app(RELEASES_API_URL=published.api_url).test_client().get("/download")
    assert len(published.requests) == 2
