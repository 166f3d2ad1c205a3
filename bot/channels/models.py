"""What the SMS and Telegram channels remember between requests, in the database so that
several Rasa servers can share it:

- `channel_delivery`: every provider message (Twilio MessageSid, Telegram update_id) once
  taken; a unique key makes a retry, or two copies delivered at once, count only once;
- `sms_menu`: the payloads of the latest numbered options sent to a number, so that a
  reply of "2" means the second;
- `sms_opt_out`: numbers that texted STOP (or another opt-out keyword) and not START since.

Rows are keyed by the conversation's sender id (`sms:+44…`, bot/senders.py); rows written
under the bare number before sender ids carried their channel are not migrated (they
expire or are pruned; Twilio itself keeps blocking a number that sent STOP).

Phone numbers are personal data: erasure removes a number's menu (bot.referrals.cases.erase_person;
the opt-out is kept on purpose: it is what stops us texting them), `prune_deliveries` drops old ids.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import bot.staff.models  # noqa: F401
import bot.referrals.models  # noqa: F401
from bot.db import Base

# All mappers on Base are configured together, the first time any mapped object is made, and
# bot.referrals.models names bot.staff.models.StaffUser by string: a process that loads
# only these tables (Rasa, for its channels) must have loaded both, or nothing maps.


def _now() -> datetime:
    return datetime.utcnow()


class ChannelDelivery(Base):
    """A provider's message or update id, recorded when first taken."""

    __tablename__ = "channel_delivery"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_channel_delivery"),)

    id = Column(Integer, primary_key=True)
    channel = Column(String(16), nullable=False)
    external_id = Column(String(64), nullable=False)
    received_at = Column(DateTime, nullable=False, default=_now, index=True)


class SmsMenu(Base):
    """The payloads of the latest numbered options sent to one number (JSON list)."""

    __tablename__ = "sms_menu"

    sender_id = Column(String(32), primary_key=True)
    payloads = Column(Text, nullable=False)
    sent_at = Column(DateTime, nullable=False, default=_now)


class SmsOptOut(Base):
    """A number that opted out of messages."""

    __tablename__ = "sms_opt_out"

    sender_id = Column(String(32), primary_key=True)
    opted_out_at = Column(DateTime, nullable=False, default=_now)


# --- repository functions -----------------------------------------------------------------
def claim_delivery(channel: str, external_id: str, *, session: Session) -> bool:
    """Record a provider's message id; False if it was already taken (a retry or duplicate)."""
    try:
        with session.begin_nested():
            session.add(ChannelDelivery(channel=channel, external_id=external_id))
    except IntegrityError:
        return False
    return True


def release_delivery(channel: str, external_id: str, *, session: Session) -> None:
    """Give a message id back: it was taken but never answered, so a retry must be."""
    session.execute(
        delete(ChannelDelivery).where(ChannelDelivery.channel == channel, ChannelDelivery.external_id == external_id)
    )


def prune_deliveries(older_than: timedelta, *, session: Session) -> int:
    """Forget message ids older than `older_than` (providers retry within hours, not days)."""
    result = session.execute(delete(ChannelDelivery).where(ChannelDelivery.received_at < _now() - older_than))
    return result.rowcount or 0


def save_menu(sender_id: str, payloads: list[str], *, session: Session) -> None:
    """Remember the latest options sent to `sender_id` (replacing any earlier ones)."""
    menu = session.get(SmsMenu, sender_id)
    if menu is None:
        session.add(SmsMenu(sender_id=sender_id, payloads=json.dumps(payloads), sent_at=_now()))
    else:
        menu.payloads, menu.sent_at = json.dumps(payloads), _now()


def take_menu(sender_id: str, *, session: Session) -> list[str]:
    """The latest options sent to `sender_id`, forgotten as they are read: they answer only
    the very next message (so "6" later on is an age, not option 6)."""
    menu = session.execute(select(SmsMenu).where(SmsMenu.sender_id == sender_id).with_for_update()).scalar_one_or_none()
    if menu is None:
        return []
    payloads = json.loads(menu.payloads)
    session.delete(menu)
    return payloads


def is_opted_out(sender_id: str, *, session: Session) -> bool:
    return session.get(SmsOptOut, sender_id) is not None


def opt_out(sender_id: str, *, session: Session) -> None:
    """Stop messages to `sender_id` until they opt in again."""
    if session.get(SmsOptOut, sender_id) is None:
        try:
            with session.begin_nested():
                session.add(SmsOptOut(sender_id=sender_id, opted_out_at=_now()))
        except IntegrityError:
            pass  # opted out twice at once: once is enough
    session.execute(delete(SmsMenu).where(SmsMenu.sender_id == sender_id))


def opt_in(sender_id: str, *, session: Session) -> None:
    session.execute(delete(SmsOptOut).where(SmsOptOut.sender_id == sender_id))

