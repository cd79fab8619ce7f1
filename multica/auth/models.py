"""Users and email verification codes (SPEC §8, §9.1, §18)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from multica.db_utils import JSONType, rfc3339, utcnow
from multica.extensions import db


class User(db.Model):
    """A person with an account. Email is unique and stored lowercased."""

    __tablename__ = "user"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.String(255))
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    avatar_url: Mapped[str | None] = mapped_column(sa.Text)
    language: Mapped[str | None] = mapped_column(sa.String(32))
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    onboarded_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    onboarding_questionnaire: Mapped[dict] = mapped_column(JSONType, default=dict, server_default=sa.text("'{}'"))
    onboarding_questionnaire_submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    cloud_waitlist_email: Mapped[str | None] = mapped_column(sa.String(254))
    cloud_waitlist_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    def to_dict(self) -> dict:
        """The SPEC §1.1 user object."""
        questionnaire = self.onboarding_questionnaire if isinstance(self.onboarding_questionnaire, dict) else {}
        return {
            "id": str(self.id),
            "name": self.name,
            "email": self.email,
            "avatar_url": self.avatar_url,
            "language": self.language,
            "timezone": self.timezone,
            "onboarded_at": rfc3339(self.onboarded_at),
            "onboarding_questionnaire": questionnaire,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
        }


class VerificationCode(db.Model):
    """A 6-digit sign-in code mailed to an address; valid 10 minutes, 5 attempts."""

    __tablename__ = "verification_code"
    __table_args__ = (sa.Index("ix_verification_code_email_used_expires_at", "email", "used", "expires_at"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(sa.String(254))
    code: Mapped[str] = mapped_column(sa.String(6))
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0, server_default=sa.text("0"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
