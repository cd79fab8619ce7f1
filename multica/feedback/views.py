"""Feedback API (SPEC §11.1)."""

from __future__ import annotations

from flask import jsonify, request

from multica.auth.identity import require_user
from multica.feedback import bp
from multica.feedback.service import MAX_BODY_BYTES, Client, read_submission, submit_feedback
from multica.inputs import json_object


@bp.post("/api/feedback")
def submit_feedback_api():
    """Store a feedback message for the caller: 201 `{id, created_at}`; the 11th in an hour is 429."""
    user = require_user()
    submission = read_submission(json_object(MAX_BODY_BYTES), Client.from_headers(request.headers))
    return jsonify(submit_feedback(user, submission).to_dict()), 201
