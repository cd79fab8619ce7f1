"""The `/contact-sales` page: a server-rendered form that works without JavaScript (SPEC §12, D10).

A plain form post is CSRF-protected, checked by the same rules as the API, and answered with the
form again (each error next to its field, 400 or 429) or a redirect to the thank-you state
(POST/redirect/GET). `static/js/contact_sales.js` only enhances it: it posts the same fields as JSON
to `POST /api/contact-sales` and shows the API's answer in place.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from multica.analytics.catalog import COMPANY_SIZES, COUNTRY_REGIONS, SALES_USE_CASES
from multica.extensions import limiter
from multica.sales import bp
from multica.sales.service import InquiryError, check_inquiry, submit_inquiry
from multica.sales.views import contact_sales_limit

COMPANY_SIZE_LABELS = {
    "1-10": "1–10 employees", "11-50": "11–50 employees", "51-200": "51–200 employees",
    "201-500": "201–500 employees", "501-1000": "501–1,000 employees", "1000+": "More than 1,000 employees",
}
USE_CASE_LABELS = {
    "evaluate": "Evaluating Multica for my company",
    "adopt_team": "Rolling Multica out to a team",
    "self_host": "Self-hosting Multica",
    "integrate": "Integrating Multica with our tools",
    "partner": "Partnering with Multica",
    "other": "Something else",
}
_TEXT_FIELDS = ("first_name", "last_name", "business_email", "company_name", "company_size", "country_region", "use_case", "goals", "source")
_CONSENTS = ("consent_outreach", "consent_updates")
_CHECKED = {"on", "true", "1", "yes"}


def _form_body() -> dict:
    """The posted form as the API's JSON body: strings, and checkboxes as booleans."""
    body: dict = {key: request.form.get(key, "") for key in _TEXT_FIELDS}
    for key in _CONSENTS:
        body[key] = request.form.get(key, "").strip().lower() in _CHECKED
    return body


def _render(*, status: int = 200, values: dict | None = None, errors: dict | None = None, sent: bool = False):
    return render_template(
        "sales/contact_sales.html",
        values=values or {"source": request.args.get("source", "page")[:80]},
        errors=errors or {},
        sent=sent,
        company_sizes=[(value, COMPANY_SIZE_LABELS[value]) for value in COMPANY_SIZES],
        use_cases=[(value, USE_CASE_LABELS[value]) for value in SALES_USE_CASES],
        country_regions=COUNTRY_REGIONS,
    ), status


@bp.get("/contact-sales")
def contact_sales_page():
    """The contact-sales form, or its thank-you state after a successful post (`?sent=1`)."""
    return _render(sent=request.args.get("sent") == "1")


@bp.post("/contact-sales")
@limiter.shared_limit(contact_sales_limit, scope="contact-sales")
def contact_sales_form():
    """The no-JavaScript submission: the API's rules, then a redirect to the thank-you state."""
    body = _form_body()
    inquiry, errors = check_inquiry(body)
    if inquiry is None:
        return _render(status=400, values=body, errors=errors)
    try:
        submit_inquiry(inquiry, submitter_ip=request.remote_addr, user_agent=request.headers.get("User-Agent"))
    except InquiryError as error:
        return _render(status=error.status, values=body, errors={error.field: error.message})
    return redirect(url_for("sales.contact_sales_page", sent=1), code=303)
