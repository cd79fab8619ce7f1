"""Error handling: JSON `{"error": ...}` for `/api/` and auth endpoints, friendly pages elsewhere."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

logger = logging.getLogger("multica.errors")

_JSON_PREFIXES = ("/api/", "/auth/")
_MESSAGES = {
    400: "bad request",
    401: "missing authorization",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    413: "request body too large",
    415: "unsupported media type",
    429: "too many requests",
    500: "internal server error",
    503: "service unavailable",
}


class ApiError(Exception):
    """A handled failure with the SPEC's status and message.

    `reason` says more than the message does, for pages that tell people in sentences (a sign-in
    code that is `locked` rather than `wrong`); it never reaches the JSON body.
    """

    def __init__(self, status: int, message: str, headers: dict | None = None, *, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.reason = reason


def wants_json() -> bool:
    """API and auth endpoints, and clients that ask for JSON, get JSON errors."""
    if request.path.startswith(_JSON_PREFIXES):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, message: str, headers: dict | None = None) -> Response:
    """Render the error for whoever asked: JSON body or the friendly page."""
    if wants_json():
        response = jsonify(error=message)
    else:
        response = Response(render_template("errors/error.html", status=status, message=message), mimetype="text/html")
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def register_errorhandlers(app: Flask) -> None:
    """JSON or HTML for every error; a 500 rolls the session back and is logged."""
    from multica.extensions import db

    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError):
        return error_response(error.status, error.message, error.headers)

    @app.errorhandler(CSRFError)
    def handle_csrf(error: CSRFError):
        return error_response(403, "CSRF validation failed")

    @app.errorhandler(RequestEntityTooLarge)
    def handle_too_large(error: RequestEntityTooLarge):
        return error_response(413, _MESSAGES[413])

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException):
        status = error.code or 500
        headers = dict(error.get_headers()) if status in (405, 429) else {}
        headers.pop("Content-Type", None)
        message = _MESSAGES.get(status, error.name.lower())
        if status == 429:
            message = "too many requests"
        return error_response(status, message, headers)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        db.session.rollback()
        logger.exception("unhandled error", extra={"path": request.path, "request_id": request.headers.get("X-Request-Id", "")})
        return error_response(500, _MESSAGES[500])
