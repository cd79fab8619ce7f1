"""Contact-sales inquiries (SPEC §12, §18). Stored for the sales team; never returned by any API."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from multica.db_utils import utcnow
from multica.extensions import db

# `inet` on PostgreSQL (operators filter by network), text elsewhere.
IPAddressType = sa.String(45).with_variant(postgresql.INET(), "postgresql")


class ContactSalesInquiry(db.Model):
    """One submission of the contact-sales form, with the canonical business email."""

    __tablename__ = "contact_sales_inquiry"
    __table_args__ = (
        # The per-email hourly limit counts the newest rows of one address (D9). A B-tree is read
        # in either direction, so this serves `created_at DESC` without an expression index
        # (which Alembic's autogenerate cannot compare).
        sa.Index("ix_contact_sales_inquiry_business_email_created_at", "business_email", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    first_name: Mapped[str] = mapped_column(sa.String(80))
    last_name: Mapped[str] = mapped_column(sa.String(80))
    business_email: Mapped[str] = mapped_column(sa.String(254))
    company_name: Mapped[str] = mapped_column(sa.String(200))
    company_size: Mapped[str] = mapped_column(sa.String(16))
    country_region: Mapped[str] = mapped_column(sa.String(80))
    use_case: Mapped[str] = mapped_column(sa.String(32))
    goals: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    consent_outreach: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    consent_updates: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    source: Mapped[str] = mapped_column(sa.String(80), default="page", server_default="page")
    submitter_ip: Mapped[str | None] = mapped_column(IPAddressType, nullable=True)
    user_agent: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
