"""The `/contact-sales` page as a plain HTML form (SPEC §12, D10): CSRF, inline errors, POST/redirect/GET."""

from __future__ import annotations

import re
from html import unescape

import pytest

from multica.analytics.catalog import COMPANY_SIZES, COUNTRY_REGIONS, SALES_USE_CASES
from tests.conftest import flush
from tests.sales.test_contact_sales_api import ADA, inquiries

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM = {**{k: v for k, v in ADA.items() if k != "consent_outreach"}, "consent_outreach": "on", "source": "page"}


def csrf_token(client) -> str:
    page = client.get("/contact-sales")
    assert page.status_code == 200
    return CSRF.search(page.text).group(1)


def field_errors(html: str) -> dict[str, str]:
    """The visible inline errors, by field."""
    return {
        field: text.strip()
        for field, hidden, text in re.findall(r'data-field-error="(\w+)" role="alert"( hidden)?>([^<]*)</p>', html)
        if not hidden
    }


def test_landing_page_links_to_contact_sales(client):
    assert 'href="/contact-sales"' in client.get("/").text


def test_the_form_and_its_dropdowns(client):
    page = client.get("/contact-sales")
    assert page.status_code == 200
    html = page.text
    assert '<form method="post" action="/contact-sales"' in html
    for name in ("first_name", "last_name", "business_email", "company_name", "goals", "consent_outreach", "consent_updates"):
        assert f'name="{name}"' in html
    for select, values in (("company_size", COMPANY_SIZES), ("use_case", SALES_USE_CASES), ("country_region", COUNTRY_REGIONS)):
        block = re.search(rf'<select id="{select}" name="{select}".*?</select>', html, re.S).group(0)
        assert [unescape(v) for v in re.findall(r'<option value="([^"]*)"', block)] == [""] + list(values)
    assert "United Kingdom" in COUNTRY_REGIONS and len(COUNTRY_REGIONS) > 190
    assert field_errors(html) == {}
    assert 'data-contact-sales-thanks tabindex="-1" hidden' in html


def test_a_post_without_the_csrf_token_is_refused(app, client, sink):
    response = client.post("/contact-sales", data=FORM)
    assert response.status_code == 403
    assert inquiries(app) == []
    flush(app)
    assert sink.events("contact_sales_submitted") == []


def test_success_redirects_to_the_thank_you_state(app, client, sink):
    token = csrf_token(client)
    response = client.post("/contact-sales", data={**FORM, "csrf_token": token}, headers={"X-Forwarded-For": "203.0.113.5"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/contact-sales?sent=1"
    thanks = client.get(response.headers["Location"])
    assert thanks.status_code == 200
    assert "Thank you" in thanks.text and "<form" not in thanks.text

    [row] = inquiries(app)
    assert row.business_email == "ada@analytical-engine.example"
    assert row.consent_outreach is True and row.consent_updates is False
    assert str(row.submitter_ip) == "127.0.0.1"
    flush(app)
    [event] = sink.events("contact_sales_submitted")
    assert event["distinct_id"] == str(row.id)
    assert event["properties"]["form_source"] == "page"


def test_errors_appear_next_to_each_field_and_the_values_stay(app, client, sink):
    token = csrf_token(client)
    body = {**FORM, "csrf_token": token, "first_name": " ", "business_email": "ada@gmail.com", "company_size": "", "goals": "keep me"}
    response = client.post("/contact-sales", data=body)
    assert response.status_code == 400
    assert field_errors(response.text) == {
        "first_name": "First_name is required.",
        "business_email": "Please use a business email address.",
        "company_size": "Company_size is invalid.",
    }
    html = response.text
    assert 'id="first_name" name="first_name"' in html
    assert re.search(r'id="business_email"[^>]*aria-invalid="true"', html, re.S)
    assert 'value="ada@gmail.com"' in html and ">keep me</textarea>" in html
    assert '<option value="United Kingdom" selected>' in html
    assert inquiries(app) == []
    flush(app)
    assert sink.events("contact_sales_submitted") == []


def test_the_form_has_the_per_email_limit(app, client):
    token = csrf_token(client)
    statuses = [client.post("/contact-sales", data={**FORM, "csrf_token": token}).status_code for _ in range(4)]
    assert statuses == [303, 303, 303, 429]
    last = client.post("/contact-sales", data={**FORM, "csrf_token": token})
    assert field_errors(last.text) == {"business_email": "Too many recent inquiries from this email."}
    assert len(inquiries(app)) == 3


@pytest.mark.parametrize("unchecked", [{}, {"consent_outreach": ""}])
def test_unchecked_consents_are_false(app, client, unchecked):
    token = csrf_token(client)
    body = {k: v for k, v in FORM.items() if k != "consent_outreach"}
    body.update(unchecked)
    assert client.post("/contact-sales", data={**body, "csrf_token": token, "consent_updates": "on"}).status_code == 303
    [row] = inquiries(app)
    assert (row.consent_outreach, row.consent_updates) == (False, True)


def test_the_source_of_an_embedded_form_is_kept(app, client, sink):
    page = client.get("/contact-sales?source=onboarding")
    assert 'name="source" value="onboarding"' in page.text
    token = CSRF.search(page.text).group(1)
    assert client.post("/contact-sales", data={**FORM, "source": "onboarding", "csrf_token": token}).status_code == 303
    flush(app)
    assert sink.events("contact_sales_submitted")[0]["properties"]["form_source"] == "onboarding"
