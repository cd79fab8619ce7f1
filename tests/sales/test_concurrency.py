"""The per-email limit under real concurrency on PostgreSQL (SPEC §12 rule 11, D9).

Twenty threads, each on its own keep-alive connection (so its own server thread and database
session), are released together against a live server with the same business email. Whatever the
interleaving, at most three inquiries are stored in the hour, exactly those get 201 and an event,
and every other request is 429 — through the JSON API and through the page's form.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import flush
from tests.sales.test_contact_sales_api import ADA, inquiries

pytestmark = pytest.mark.postgres

THREADS = 20
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app(make_app):
    """A pool with a connection for every thread."""
    return make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_size": THREADS + 5, "max_overflow": 0})


def together(base_url: str, send) -> list[httpx.Response]:
    """Call `send(http, i)` from THREADS threads released at the same instant, each on its own open connection."""
    barrier = threading.Barrier(THREADS, timeout=30)

    def run(index: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            page = http.get("/contact-sales")  # connection (and server thread) up before the race
            assert page.status_code == 200
            barrier.wait()
            return send(http, index, CSRF.search(page.text).group(1))

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def check_at_most_three(app, sink, responses, created_status: int) -> None:
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [created_status] * 3 + [429] * (THREADS - 3), statuses
    rows = inquiries(app)
    assert len(rows) == 3
    assert {row.business_email for row in rows} == {"ada@analytical-engine.example"}
    flush(app)
    events = sink.events("contact_sales_submitted")
    assert sorted(e["distinct_id"] for e in events) == sorted(str(row.id) for row in rows)


def test_twenty_concurrent_api_inquiries_store_three(app, live_server, sink):
    # Different spellings of one address: the limit is on the canonical email.
    spellings = ["ada@analytical-engine.example", "Ada <ADA@analytical-engine.example>", " ada@Analytical-Engine.example "]
    responses = together(live_server.url, lambda http, i, _token: http.post(
        "/api/contact-sales", json={**ADA, "business_email": spellings[i % 3], "goals": f"attempt {i}"},
    ))
    check_at_most_three(app, sink, responses, 201)
    for response in responses:
        if response.status_code == 429:
            assert response.json() == {"error": "too many recent inquiries from this email"}


def test_twenty_concurrent_form_posts_store_three(app, live_server, sink):
    form = {**{k: v for k, v in ADA.items() if k != "consent_outreach"}, "consent_outreach": "on"}
    responses = together(live_server.url, lambda http, i, token: http.post(
        "/contact-sales", data={**form, "csrf_token": token},
    ))
    check_at_most_three(app, sink, responses, 303)
