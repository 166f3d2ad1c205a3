"""Tables for the review loop and the measures (in the application database, beside the cases).

`conversation_summary` holds one row per conversation, worked out from the tracker store's
events by bot.insights.summary and kept current incrementally (the `summary_watermark` is the
last tracker event read), so the console never reads every event on a page view. Rows hold
counts and flags, never what anyone typed; they go when the conversation is erased or purged.
"""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, Column, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy import false as sa_false

import bot.staff.models  # noqa: F401  (StaffUser, which reviews refer to, must be mapped too)
from bot.db import Base

# Review tags a reviewer can give a conversation.
TAGS = ("wrong_answer", "missing_topic", "safety", "good")
# Why a conversation is listed for review.
REASONS = ("fallback", "asked_for_person", "form_abandoned", "safety")


def new_ref() -> str:
    """A random, unguessable key for a conversation summary."""
    return secrets.token_hex(8)


# The columns the statistics add up (ix_conversation_summary_week covers them).
MEASURED = ("messages", "questions", "fallbacks", "contained", "asked_for_person", "form_abandoned", "helpful", "not_helpful")


class ConversationSummary(Base):
    __tablename__ = "conversation_summary"
    sender_id = Column(String(255), primary_key=True)
    # The key in the review pages' addresses and the audit log: never the sender id, which on
    # SMS is a phone number. Random, so it says nothing about the conversation.
    ref = Column(String(16), nullable=False, default=new_ref)
    channel = Column(String(40), nullable=False, default="")
    started_at = Column(DateTime, nullable=False)
    last_at = Column(DateTime, nullable=False)
    week = Column(String(10), nullable=False)  # ISO date of the Monday of started_at
    council_code = Column(String(10), nullable=False, default="")
    audience = Column(String(20), nullable=False, default="")
    messages = Column(Integer, nullable=False, default=0)  # messages the person sent
    questions = Column(Integer, nullable=False, default=0)  # of them, questions about a topic
    fallbacks = Column(Integer, nullable=False, default=0)  # messages not understood
    asked_for_person = Column(Boolean, nullable=False, default=False, server_default=sa_false())  # live chat or a call back
    form_abandoned = Column(Boolean, nullable=False, default=False, server_default=sa_false())  # call-back form left unfinished
    safety = Column(Boolean, nullable=False, default=False, server_default=sa_false())  # a safety reply fired
    last_unanswered = Column(Boolean, nullable=False, default=False, server_default=sa_false())  # ended on a message not understood
    contained = Column(Boolean, nullable=False, default=False, server_default=sa_false())  # no person needed, last message answered
    helpful = Column(Integer, nullable=False, default=0)  # "was that helpful?" yes
    not_helpful = Column(Integer, nullable=False, default=0)  # ... and no
    # The topic being talked about when a message was not understood ("" before any topic),
    # with how often: JSON {"ask_visiting": 2}. Topic names are intent names, never text.
    not_understood_topics = Column(Text, nullable=False, default="{}")
    # The bookkeeping of the incremental read: the last event folded in, and state carried
    # between reads (JSON: the current topic, whether a form is open, ...).
    last_event_id = Column(Integer, nullable=False, default=0)
    state = Column(Text, nullable=False, default="{}")
    reviewed = Column(Boolean, nullable=False, default=False, server_default=sa_false())

    __table_args__ = (
        # The statistics add these up on each view (bot.insights.measures): the index covers them
        # (and the sender id, to find the chosen conversations' topics), so the database reads the
        # index alone, not the rows with their state.
        Index("ix_conversation_summary_week", "week", "council_code", "channel", "audience", *MEASURED, "sender_id"),
        Index("ix_conversation_summary_last_at", "last_at"),
        Index("ix_conversation_summary_ref", "ref", unique=True),
    )


class ConversationTopic(Base):
    """Questions per topic in one conversation (for the statistics' topic table)."""

    __tablename__ = "conversation_topic"
    sender_id = Column(String(255), ForeignKey("conversation_summary.sender_id", ondelete="CASCADE"), primary_key=True)
    topic = Column(String(60), primary_key=True)
    questions = Column(Integer, nullable=False, default=0)

    # The statistics' topic filter and table read by topic.
    __table_args__ = (Index("ix_conversation_topic_topic", "topic", "sender_id", "questions"),)


class SummaryWatermark(Base):
    """How far bot.insights.summary has read the tracker store's events table."""

    __tablename__ = "summary_watermark"
    name = Column(String(40), primary_key=True)  # "events"
    last_event_id = Column(Integer, nullable=False, default=0)
    updated_at = Column(DateTime, nullable=False, default=datetime.utcnow)


class ConversationReview(Base):
    """A reviewer's tag on a conversation."""

    __tablename__ = "conversation_review"
    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    tag = Column(String(20), nullable=False)
    reviewer_id = Column(Integer, ForeignKey("staff_user.id", ondelete="SET NULL"))
    created_at = Column(DateTime, nullable=False, default=datetime.utcnow)


class ReviewLabel(Base):
    """The intent a misunderstood message should have had. The message's text is not copied
    here: `bot review export` reads it from the tracker store, so erasure and retention apply."""

    __tablename__ = "review_label"
    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    event_timestamp = Column(Float, nullable=False)  # Rasa's timestamp of the user event
    intent = Column(String(80), nullable=False)
    reviewer_id = Column(Integer, ForeignKey("staff_user.id", ondelete="SET NULL"))
    created_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    exported_at = Column(DateTime)
