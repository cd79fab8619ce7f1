"""Squads: named groups of a workspace's agents (D15.6)."""

from flask import Blueprint

bp = Blueprint("squads", __name__)
