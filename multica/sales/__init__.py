"""The public contact-sales form: its API, its page and the stored inquiries (SPEC §12)."""

from flask import Blueprint

bp = Blueprint("sales", __name__)
