"""WhatsApp's 24-hour window and WhatsApp conversation ids. Light on purpose (no Rasa, no
Twilio): the staff console reads it as well as the Rasa servers' WhatsApp output.

WhatsApp lets a business send its own words only within 24 hours of the person's last message
(Meta's customer service window; Twilio takes a later message and then fails it, error 63016).
After that only an approved template may go, and the person's reply opens the window again.

The window is read from the conversation itself, Rasa's events in the tracker store, which every
process already shares (two Rasa servers, the console): no table of its own, nothing to keep in
step. So that every process reads it alike:

- the person's last message is their latest `user` event that came by WhatsApp and is not one
  Rasa made up (`trigger_intent`, e.g. the live-chat sweep, stores "EXTERNAL: <intent>"). A photo
  with no words never reaches Rasa and so does not count: our window is never longer than
  WhatsApp's. We close it `MARGIN` early, for Twilio's queue;
- what is held back is every `bot` event stored after the window closed: none of it was sent as
  written (the WhatsApp output sent the approved template instead, once, or nothing). It is
  delivered when the person next writes (bot/channels/whatsapp.py).

Conversation ids are `wa:` + the E.164 number (Twilio's `From` is `whatsapp:+44…`), so the same
phone's WhatsApp and SMS conversations (`sms:+44…`) are two conversations.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot import conversations, senders

CHANNEL = "whatsapp"  # the Rasa input channel of WhatsApp messages
PREFIX = f"{senders.WHATSAPP}:"  # conversation ids: wa:+447700900123 (bot.senders)
ADDRESS_PREFIX = "whatsapp:"  # Twilio's addresses: whatsapp:+447700900123
WINDOW = timedelta(hours=24)  # WhatsApp's rule, not a setting
MARGIN = timedelta(minutes=5)  # closed this early: a message may wait a while in Twilio's queue
EXTERNAL_PREFIX = "EXTERNAL: "  # rasa.shared.core.constants.EXTERNAL_MESSAGE_PREFIX
LOOK_BACK = 500  # events read back from the newest to find the person's last message


def sender_id(number: str) -> str:
    """The conversation id of a WhatsApp number (E.164, or Twilio's whatsapp:+44…)."""
    return PREFIX + number.removeprefix(ADDRESS_PREFIX)


def is_whatsapp(sender: str | None) -> bool:
    return bool(sender) and str(sender).startswith(PREFIX)


def address(sender: str) -> str:
    """Twilio's `to` for a WhatsApp conversation: wa:+44… -> whatsapp:+44…"""
    return ADDRESS_PREFIX + sender.removeprefix(PREFIX)


def is_inbound(event: Mapping[str, Any]) -> bool:
    """Whether an event is a message the person sent by WhatsApp."""
    return (
        event.get("event") == "user"
        and event.get("input_channel") == CHANNEL
        and not (event.get("metadata") or {}).get("is_external")
        and not str(event.get("text") or "").startswith(EXTERNAL_PREFIX)
    )


@dataclass(frozen=True)
class Window:
    """Where a WhatsApp conversation stands at `now` (seconds since the epoch, as Rasa's)."""

    last_inbound: float | None  # when the person last wrote (None: never, as far as we know)
    held: tuple[Mapping[str, Any], ...]  # bot events stored since the window closed, oldest first
    now: float

    @property
    def closes_at(self) -> float | None:
        if self.last_inbound is None:
            return None
        return self.last_inbound + (WINDOW - MARGIN).total_seconds()

    @property
    def open(self) -> bool:
        """Whether we may send our own words now."""
        return self.closes_at is not None and self.now < self.closes_at

    @property
    def hours_since(self) -> float | None:
        """Hours since the person last wrote."""
        return None if self.last_inbound is None else (self.now - self.last_inbound) / 3600

    @property
    def invited(self) -> bool:
        """Whether something has already been held since the window closed: the approved
        template, if there is one, went with the first."""
        return bool(self.held)


def from_newest(events: Iterable[Mapping[str, Any]], now: float | None = None) -> Window:
    """The window, from a conversation's events newest first (Rasa's JSON events)."""
    now = time.time() if now is None else now
    bots: list[Mapping[str, Any]] = []
    last_inbound = None
    for event in events:
        if is_inbound(event):
            last_inbound = float(event.get("timestamp") or 0)
            break
        if event.get("event") == "bot":
            bots.append(event)
    closes_at = Window(last_inbound, (), now).closes_at
    if closes_at is None:
        return Window(None, (), now)  # they never wrote (as far as we can see): nothing to deliver later
    held = [e for e in reversed(bots) if float(e.get("timestamp") or 0) >= closes_at]
    return Window(last_inbound, tuple(held), now)


def read(sender: str, *, engine: Engine, now: float | None = None) -> Window:
    """The window of a conversation, from the tracker store's `events` table (the console)."""
    events = conversations.events
    query = (
        select(events.c.data)
        .where(events.c.sender_id == sender, events.c.type_name.in_(("user", "bot")))
        .order_by(events.c.id.desc())
        .limit(LOOK_BACK)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).scalars().all()
    return from_newest((json.loads(data or "{}") for data in rows), now)
