"""The download page: the desktop release for the visitor's machine on the first paint (SPEC §15)."""

from flask import Blueprint

bp = Blueprint("downloads", __name__)
