"""Per-IP throttles shared through Redis across app instances, and failing open when Redis is down (D9)."""

from __future__ import annotations

import uuid


def test_two_workers_share_one_budget(make_app, redis_url):
    # A key prefix per test keeps runs independent without flushing the database.
    prefix = f"multica-test-{uuid.uuid4().hex}"
    config = dict(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_KEY_PREFIX=prefix, RATE_LIMIT_AUTH=3, MAIL_BACKEND="memory")
    first, second = make_app(**config).test_client(), make_app(**config).test_client()
    statuses = [
        client.post("/auth/send-code", json={"email": f"u{i}@x.com"}).status_code
        for i, client in enumerate([first, second, first, second])
    ]
    assert statuses == [200, 200, 200, 429]


def test_redis_down_fails_open(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0", RATE_LIMIT_AUTH=1, MAIL_BACKEND="memory")
    client = app.test_client()
    statuses = [client.post("/auth/send-code", json={"email": f"u{i}@x.com"}).status_code for i in range(3)]
    assert statuses == [200, 200, 200]


def test_disabled_limits(make_app):
    app = make_app(RATELIMIT_ENABLED=False, RATE_LIMIT_AUTH=1, MAIL_BACKEND="memory")
    client = app.test_client()
    assert [client.post("/auth/send-code", json={"email": f"u{i}@x.com"}).status_code for i in range(3)] == [200, 200, 200]
