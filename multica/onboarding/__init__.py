"""Onboarding: the questionnaire, completion paths, the cloud waitlist and the onboarding pages."""

from flask import Blueprint

bp = Blueprint("onboarding", __name__)
