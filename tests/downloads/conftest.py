"""Fixtures for the download page: a local releases feed and an app that reads it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.downloads.feed import FeedServer, installers, release


@pytest.fixture
def feed():
    """A running releases feed with no releases yet."""
    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def app(make_app, feed):
    """The app with `RELEASES_API_URL` on the local feed (a timeout that a busy test machine never hits)."""
    return make_app(RELEASES_API_URL=feed.api_url, RELEASES_TIMEOUT=10.0)


@pytest.fixture
def published(feed):
    """The feed with a full stable v0.2.13 (a day old); returns the feed."""
    feed.publish(release("v0.2.13", age=timedelta(days=1), assets=installers("0.2.13"), base=feed.url))
    return feed
