"""A person fills in the contact-sales form in headless Chromium, with and without JavaScript (SPEC §12, D10).

Each journey makes the same mistake (a free-mail address), reads the error next to the email field,
corrects it and reaches the thank-you state. With JavaScript the page posts JSON to the API and
never navigates; without it the browser posts the form and follows the redirect. Either way the
first attempt stores and emits nothing, and the second stores one inquiry and emits one event.
"""

from __future__ import annotations

import pytest

from tests.conftest import flush
from tests.sales.test_contact_sales_api import inquiries

pytestmark = pytest.mark.browser


def fill_in(page, email: str) -> None:
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Business email").fill(email)
    page.get_by_label("Company", exact=True).fill("Analytical Engines Ltd")
    page.get_by_label("Company size").select_option("11-50")
    page.get_by_label("Country or region").select_option("United Kingdom")
    page.get_by_label("What would you like to do?").select_option("evaluate")
    page.get_by_label("Goals").fill("Let agents work through our bug backlog.")
    page.get_by_label("Multica may contact me about this inquiry.").check()


def assert_email_error(page, message: str) -> None:
    email = page.get_by_label("Business email")
    error = page.locator("#" + email.get_attribute("aria-describedby"))
    assert error.is_visible()
    assert error.inner_text().strip() == message
    assert email.get_attribute("aria-invalid") == "true"
    # Next to its field: the error directly follows the email input.
    assert page.locator("#business_email + .field-error").inner_text().strip() == message
    assert page.locator(".field-error:visible").count() == 1


def assert_stored_once(app, sink) -> None:
    [row] = inquiries(app)
    assert row.business_email == "ada@analytical-engine.example"
    assert row.consent_outreach is True and row.country_region == "United Kingdom"
    assert "Chrome" in row.user_agent
    flush(app)
    [event] = sink.events("contact_sales_submitted")
    assert event["distinct_id"] == str(row.id)
    assert event["properties"]["has_goals"] is True


def test_with_javascript(app, live_server, page, sink):
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Contact sales").click()
    page.wait_for_url("**/contact-sales")
    fill_in(page, "ada@gmail.com")
    with page.expect_response("**/api/contact-sales") as answer:
        page.get_by_role("button", name="Contact sales").click()
    assert answer.value.status == 400
    assert_email_error(page, "Please use a business email address.")
    assert page.url == f"{live_server.url}/contact-sales"
    assert page.get_by_label("First name").input_value() == "Ada"  # nothing the person typed is lost
    assert inquiries(app) == []

    page.get_by_label("Business email").fill("Ada Lovelace <ada@analytical-engine.example>")
    with page.expect_response("**/api/contact-sales") as answer:
        page.get_by_role("button", name="Contact sales").click()
    assert answer.value.status == 201
    thanks = page.get_by_role("heading", name="Thank you")
    thanks.wait_for()
    assert thanks.is_visible()
    assert not page.locator("[data-contact-sales-form]").is_visible()
    assert page.url == f"{live_server.url}/contact-sales"
    assert_stored_once(app, sink)


def test_without_javascript(app, live_server, browser, sink):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/contact-sales")
        fill_in(page, "ada@gmail.com")
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="Contact sales").click()
        assert navigation.value.status == 400
        assert_email_error(page, "Please use a business email address.")
        assert page.get_by_label("Last name").input_value() == "Lovelace"
        assert page.get_by_label("Company size").input_value() == "11-50"
        assert page.get_by_label("Multica may contact me about this inquiry.").is_checked()
        assert inquiries(app) == []

        page.get_by_label("Business email").fill("ada@analytical-engine.example")
        page.get_by_role("button", name="Contact sales").click()
        page.wait_for_url("**/contact-sales?sent=1")
        assert page.get_by_role("heading", name="Thank you").is_visible()
        assert page.locator("form[data-contact-sales-form]").count() == 0
        assert_stored_once(app, sink)
    finally:
        context.close()
