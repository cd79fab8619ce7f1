"""Autopilots: an agent's recurring or triggered job, run by hand, by webhook or on a schedule (D15.7)."""

from flask import Blueprint

bp = Blueprint("autopilots", __name__)
