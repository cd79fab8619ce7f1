"""The contact-sales per-IP budget shared through Redis by two app instances, and failing open (D9)."""

from __future__ import annotations

import uuid


from tests.sales.test_contact_sales_api import ADA, inquiries

def inquiry() -> dict:
    return {**ADA, "business_email": f"ada-{uuid.uuid4().hex[:8]}@analytical-engine.example"}


def test_two_workers_share_one_budget(make_app, redis_url):
    prefix = f"multica-test-{uuid.uuid4().hex}"
    config = dict(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_KEY_PREFIX=prefix, RATE_LIMIT_CONTACT_SALES=3)
    first, second = make_app(**config), make_app(**config)
    statuses = [
        app.test_client().post("/api/contact-sales", json=inquiry()).status_code
        for app in (first, second, first, second)
    ]
    assert statuses == [201, 201, 201, 429]
    assert len(inquiries(first)) == 3


def test_redis_down_fails_open(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0", RATE_LIMIT_CONTACT_SALES=1)
    client = app.test_client()
    assert [client.post("/api/contact-sales", json=inquiry()).status_code for _ in range(3)] == [201, 201, 201]
