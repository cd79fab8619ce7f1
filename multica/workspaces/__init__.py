"""Workspaces and membership."""

from flask import Blueprint

bp = Blueprint("workspaces", __name__)
