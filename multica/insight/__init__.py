"""Operator insight (D16): reconciliation against Prometheus, the activation funnel and its admin page."""

from flask import Blueprint

bp = Blueprint("insight", __name__)
