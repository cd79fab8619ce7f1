"""Baseline: an empty schema that later revisions build on.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-11-25
"""

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    """Nothing yet: the product tables arrive with their features."""


def downgrade():
    """Nothing to undo."""
