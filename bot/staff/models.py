"""Staff accounts, their login sessions and the audit log (tables staff_user, staff_session, audit_entry)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from bot.db import Base

ROLE_WORKER = "worker"
ROLE_ADMIN = "admin"
ROLES = (ROLE_WORKER, ROLE_ADMIN)


class StaffUser(Base):
    __tablename__ = "staff_user"
    id = Column(Integer, primary_key=True)
    username = Column(String(80), nullable=False, unique=True)
    display_name = Column(Text, nullable=False, default="")
    password_hash = Column(Text, nullable=False)  # argon2id, from argon2-cffi
    role = Column(String(10), nullable=False, default=ROLE_WORKER)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    # A worker is "on shift" (live handoff offered) until this time.
    on_shift_until = Column(DateTime)


class StaffSession(Base):
    """A logged-in browser. Only a hash of the cookie's token is stored."""

    __tablename__ = "staff_session"
    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    csrf_token = Column(String(64), nullable=False)
    staff_user_id = Column(Integer, ForeignKey("staff_user.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    expires_at = Column(DateTime, nullable=False)
    user = relationship("StaffUser")


class AuditEntry(Base):
    """Who viewed or changed what, and when. `detail` never holds what a user typed or a phone number."""

    __tablename__ = "audit_entry"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=datetime.utcnow, index=True)
    staff_user_id = Column(Integer, ForeignKey("staff_user.id", ondelete="SET NULL"), index=True)
    action = Column(String(40), nullable=False)
    case_id = Column(Integer, ForeignKey("helpline_case.id", ondelete="SET NULL"), index=True)
    detail = Column(Text, nullable=False, default="")
    user = relationship("StaffUser")


class SavedReply(Base):
    """A short reply workers can find and send in a live chat (bot.staff.replies). Admins keep
    the library; a retired reply is kept inactive so the audit log still makes sense."""

    __tablename__ = "saved_reply"
    id = Column(Integer, primary_key=True)
    title = Column(String(120), nullable=False)
    text = Column(Text, nullable=False)
    tags = Column(Text, nullable=False, default="")  # lower-case words, comma-separated
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    updated_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    updated_by_id = Column(Integer, ForeignKey("staff_user.id", ondelete="SET NULL"))
    updated_by = relationship("StaffUser")
