"""`POST /api/contact-sales`: the public JSON endpoint (SPEC §12, D14.5). Inquiries are never read back."""

from __future__ import annotations

from flask import current_app, jsonify, request

from multica.db_utils import rfc3339
from multica.extensions import csrf, limiter
from multica.inputs import json_object
from multica.sales import bp
from multica.sales.service import MAX_BODY_BYTES, read_inquiry, submit_inquiry


def contact_sales_limit() -> str:
    """The per-IP budget shared by the API and the page's form (`RATE_LIMIT_CONTACT_SALES` an hour)."""
    return f"{current_app.config['RATE_LIMIT_CONTACT_SALES']} per hour"


@bp.post("/api/contact-sales")
@csrf.exempt
@limiter.shared_limit(contact_sales_limit, scope="contact-sales")
def contact_sales_api():
    """Validate and store an inquiry: 201 `{id, created_at}`; 400 on the first failing rule, 429 when limited."""
    inquiry = read_inquiry(json_object(MAX_BODY_BYTES))
    # The TCP peer, never X-Forwarded-For: the stored address is the one that really connected.
    row = submit_inquiry(inquiry, submitter_ip=request.remote_addr, user_agent=request.headers.get("User-Agent"))
    return jsonify(id=str(row.id), created_at=rfc3339(row.created_at)), 201
