"""Cases for helpline staff: callback referrals made with consent, and live conversations
waiting for (or with) a worker. One table, so one queue, one claim and one audit trail.

Only what a callback needs is kept (STYLE, seeds on consent): a name to use (optional),
the phone number, whether it is safe to call and to leave a message, a good time, the
area and a short summary. A live case keeps no personal details at all, only the
conversation it points to. `request_key` makes creation idempotent: the same user
message retried never makes a second case.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, String, Text, column, table
from sqlalchemy import false as sa_false
from sqlalchemy.orm import relationship

import bot.staff.models  # noqa: F401  (StaffUser, which cases refer to, must be mapped too)
from bot.db import Base

KIND_CALLBACK = "callback"
KIND_LIVE = "live"
KINDS = (KIND_CALLBACK, KIND_LIVE)

# new: nobody has it yet; claimed: a worker has it (live: talking with the person);
# called_back: the worker called (callbacks only); closed: done; cancelled: the person withdrew.
STATUSES = ("new", "claimed", "called_back", "closed", "cancelled")
OPEN_STATUSES = ("new", "claimed", "called_back")

# Priority (bot.referrals.priority): worked out from the conversation when the case is made,
# raised (never lowered) when a crisis message comes while it waits. The queue sorts on its rank.
PRIORITY_URGENT, PRIORITY_HIGH, PRIORITY_NORMAL = "urgent", "high", "normal"
PRIORITIES = (PRIORITY_URGENT, PRIORITY_HIGH, PRIORITY_NORMAL)
PRIORITY_RANK = {PRIORITY_URGENT: 0, PRIORITY_HIGH: 1, PRIORITY_NORMAL: 2}

# A concern for someone inside (a call back marked as a concern): what kind of worry it is.
CONCERN_KINDS = ("self_harm", "threats_or_bullying", "health", "not_heard_from", "other")

# What came of a case, recorded by the worker when a live chat ends or a case closes.
OUTCOME_CODES = ("helped", "signposted", "call_back_arranged", "passed_to_prison", "no_reply", "other")
# Each in plain words, as staff choose it and the measures show it.
OUTCOME_LABELS = {
    "helped": "helped", "signposted": "signposted to a service", "call_back_arranged": "call back arranged",
    "passed_to_prison": "passed to the prison", "no_reply": "no reply", "other": "other",
}


class Case(Base):
    __tablename__ = "helpline_case"
    id = Column(Integer, primary_key=True)
    reference = Column(String(12), nullable=False, unique=True)
    kind = Column(String(10), nullable=False)
    status = Column(String(12), nullable=False, default="new")
    # The conversation: Rasa's sender id and the channel it came in on.
    sender_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(40), nullable=False, default="")
    request_key = Column(String(300), unique=True)
    created_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    updated_at = Column(DateTime, nullable=False, default=datetime.utcnow, onupdate=datetime.utcnow)
    # Consent (callbacks): which wording the person agreed to, and when.
    consent_version = Column(String(20))
    consent_at = Column(DateTime)
    # What a callback needs, and nothing more.
    name = Column(Text)
    phone = Column(String(20))  # E.164
    safe_to_call = Column(Boolean)
    safe_to_leave_message = Column(Boolean)
    best_time = Column(Text)
    area = Column(Text)
    summary = Column(Text)
    # Anonymous facts for the statistics page: the topic asked about and who was asking.
    topic = Column(String(60))
    audience = Column(String(20))
    council_code = Column(String(10))
    # Work on the case.
    claimed_by_id = Column(Integer, ForeignKey("staff_user.id", ondelete="SET NULL"))
    claimed_at = Column(DateTime)
    closed_at = Column(DateTime)
    outcome = Column(Text)
    # A crisis message arrived while the conversation waited for a worker (bot.channels.crisis):
    # the queue shows the case first and marked urgent.
    urgent = Column(Boolean, nullable=False, default=False, server_default=sa_false())
    urgent_at = Column(DateTime)
    # Risk first (bot.referrals.priority): urgent, high or normal, and why (an intent name such
    # as risk_self, "concern" or "crisis_while_waiting"; never what anyone typed). `priority_rank`
    # (0 urgent, 1 high, 2 normal) is what the queue sorts on.
    priority = Column(String(10), nullable=False, default=PRIORITY_NORMAL, server_default=PRIORITY_NORMAL)
    priority_rank = Column(Integer, nullable=False, default=2, server_default="2")
    priority_reason = Column(String(40))
    # Time to first response: when a worker first claimed it or replied (live); when it was called back.
    first_response_at = Column(DateTime)
    called_back_at = Column(DateTime)
    # A concern for someone inside, passed on (bot.referrals.concern): the prison (register id),
    # the name the caller gave for the person inside (optional), the kind of worry and when they
    # last heard from them; then who passed it to the prison's Safer Custody team, and when.
    concern = Column(Boolean, nullable=False, default=False, server_default=sa_false())
    concern_prison_id = Column(String(10))
    concern_person_name = Column(Text)
    concern_kind = Column(String(30))
    concern_last_heard = Column(Text)
    concern_passed_at = Column(DateTime)
    concern_passed_by_id = Column(Integer, ForeignKey("staff_user.id", ondelete="SET NULL"))
    concern_passed_how = Column(Text)  # e.g. "rang the Safer Custody line", no personal details
    # The worker's outcome (one of OUTCOME_CODES) beside the free-text `outcome`.
    outcome_code = Column(String(30))
    notes = relationship("CaseNote", back_populates="case", cascade="all, delete-orphan", order_by="CaseNote.id")
    claimed_by = relationship("StaffUser", foreign_keys=[claimed_by_id])
    concern_passed_by = relationship("StaffUser", foreign_keys=[concern_passed_by_id])

    __table_args__ = (
        Index("ix_case_status_created", "status", "created_at"),
        Index("ix_case_status_priority_created", "status", "priority_rank", "created_at"),
    )


class CaseNote(Base):
    """A worker's private note on a case."""

    __tablename__ = "case_note"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("helpline_case.id", ondelete="CASCADE"), nullable=False, index=True)
    staff_user_id = Column(Integer, ForeignKey("staff_user.id", ondelete="SET NULL"))
    created_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    text = Column(Text, nullable=False)
    case = relationship("Case", back_populates="notes")
    author = relationship("StaffUser")


class OutboxMessage(Base):
    """A worker's reply waiting for a channel that cannot push (the web chat polls for it)."""

    __tablename__ = "outbox_message"
    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    delivered_at = Column(DateTime)


class ErasureRequest(Base):
    """Someone asked for their conversation to be deleted.

    Rasa saves a conversation after our action runs, so the tracker store cannot be
    erased from inside the action: the request is kept here and carried out moments
    later by `bot data purge` / the scheduled retention job (bot.erasure).
    """

    __tablename__ = "erasure_request"
    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    requested_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    # When the conversation was last deleted from the tracker store. Without Rasa's lock (the
    # in-memory lock store) a turn in flight can write it back: the request stays pending
    # (done_at empty) until a later pass finds nothing older than this (bot.erasure).
    erased_at = Column(DateTime)
    done_at = Column(DateTime)


class RedactionRequest(Base):
    """A call-back form ended without being sent: what the person typed into it (name,
    number, time, note) is to be removed from their conversation in the tracker store.

    Rasa saves the turn after our action runs, so, as with erasure, the rows are redacted
    moments later by the retention job (bot.erasure.process_redactions). Only the
    conversation and where the form started are kept here, never what was typed.
    """

    __tablename__ = "redaction_request"
    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    # Rasa's timestamp (seconds since the epoch) of the event that started the form.
    since = Column(Float, nullable=False)
    requested_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    done_at = Column(DateTime)


class UsageCount(Base):
    """Anonymous counts kept when old conversations are purged, for the statistics page.

    One row per week, council, topic and audience: no sender, no text.
    """

    __tablename__ = "usage_count"
    id = Column(Integer, primary_key=True)
    week = Column(String(10), nullable=False)  # ISO date of the Monday
    council_code = Column(String(10), nullable=False, default="")
    topic = Column(String(60), nullable=False, default="")
    audience = Column(String(20), nullable=False, default="")
    conversations = Column(Integer, nullable=False, default=0)
    questions = Column(Integer, nullable=False, default=0)
    referrals = Column(Integer, nullable=False, default=0)

    __table_args__ = (Index("ux_usage_count_key", "week", "council_code", "topic", "audience", unique=True),)


# The SMS channel's saved menus (bot.channels.models.SmsMenu, keyed by phone number), named
# here by table so that erasure and retention can delete from it without importing a channel.
sms_menu = table("sms_menu", column("sender_id"), column("sent_at"))
