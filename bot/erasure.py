"""Data rights in Rasa's tracker store, carried out by the retention job (bot.retention) once
Rasa has saved the turn that asked:

- erasure ("delete my details"): the person's cases (bot.referrals.cases.erase_person) and
  their whole conversation, under Rasa's lock on it when there is one;
- redaction: a call-back form that ended unsent has what was typed into it removed from the
  conversation.

Nothing here logs what people wrote.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.conversations import delete_conversations, epoch, events
from bot.insights import summary
from bot.locks import LockBusy, conversation_lock
from bot.referrals.cases import erase_person
from bot.referrals.form import national_format
from bot.referrals.models import ErasureRequest, RedactionRequest

if TYPE_CHECKING:
    from rasa.core.lock_store import LockStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErasureResult:
    erased: int  # conversations deleted from the tracker store in this pass
    done: int  # requests finished (erased under Rasa's lock, or verified)
    waiting: int  # erased without Rasa's lock: verified on a later pass
    blocked: int  # not carried out: the tracker store has no events table (wrong TRACKER_STORE_URL?)


def _written_back(sender_id: str, erased_at: datetime, *, engine: Engine) -> bool:
    """Whether events from before the erasure are in the store again (a turn in flight saved
    the conversation it had loaded before we deleted it)."""
    query = select(events.c.id).where(events.c.sender_id == sender_id, events.c.timestamp <= epoch(erased_at)).limit(1)
    with engine.connect() as connection:
        return connection.execute(query).first() is not None


def _erase(sender_id: str, *, engine: Engine, session: Session) -> None:
    """Delete the conversation from the tracker store, then its summary, review tags and labels
    (bot.insights.summary, told which event ids went). The tracker store first: when it is the
    same SQLite file, `session` must not hold the write lock while another connection deletes."""
    deleted = delete_conversations([sender_id], engine=engine)
    summary.forget([sender_id], session=session)
    summary.events_deleted(deleted, session=session)


def _pending(model, *, session: Session, before: datetime) -> list:
    """Erasure or redaction requests not yet done and made before `before` (Rasa has had time
    to save the turn that made them), oldest first."""
    return list(
        session.execute(
            select(model).where(model.done_at.is_(None), model.requested_at <= before).order_by(model.id)
        ).scalars()
    )


def process_erasures(
    *, tracker_engine: Engine | None, session: Session, settle_seconds: float = 5, now: datetime | None = None,
    lock_store: "LockStore | None" = None, verify_minutes: float = 15,
) -> ErasureResult:
    """Carry out erasure requests at least `settle_seconds` old (Rasa has saved by then).

    With `lock_store` (Rasa's Redis lock store) each conversation is deleted holding Rasa's
    lock for it, so no turn in flight can write it back: the request is done at once. Without
    it the request stays pending: each later pass deletes again anything from before the
    erasure that reappeared, and `verify_minutes` after a clean erasure the request is done.
    With no tracker table (`tracker_engine` None) nothing can be checked: requests stay pending.
    Cases are erased again every time, in case one was made after the request. The caller commits.
    """
    now = now or datetime.utcnow()
    pending = _pending(ErasureRequest, session=session, before=now - timedelta(seconds=settle_seconds))
    erased = done = waiting = blocked = 0
    for request in pending:
        erase_person(request.sender_id, session=session)
        if tracker_engine is None:
            summary.forget([request.sender_id], session=session)  # its summary, review tags and labels
            blocked += 1
            continue
        if lock_store is not None:
            try:
                with conversation_lock(lock_store, request.sender_id):
                    _erase(request.sender_id, engine=tracker_engine, session=session)
            except LockBusy:
                waiting += 1
                continue
            erased += 1
        elif request.erased_at is None or _written_back(request.sender_id, request.erased_at, engine=tracker_engine):
            _erase(request.sender_id, engine=tracker_engine, session=session)
            request.erased_at = now
            erased += 1
            waiting += 1
            continue
        elif request.erased_at > now - timedelta(minutes=verify_minutes):
            waiting += 1
            continue
        request.erased_at = request.erased_at or now
        request.done_at = now
        request.sender_id = "erased"  # keep only that a request was carried out, and when
        done += 1
    session.flush()
    if blocked:
        logger.error("%d erasure requests are pending: the tracker store has no events table", blocked)
    return ErasureResult(erased, done, waiting, blocked)


# --- redaction: a call-back form that ended unsent ------------------------------------------

# What the form asks that is the person's own: their name, number, a good time, a note.
PERSONAL_SLOTS = ("referral_name", "referral_phone", "referral_best_time", "referral_note")
# The form's question that reads the details back before sending.
_READ_BACK = "utter_ask_referral_form_referral_confirmed"
# The actions that end the form unsent (actions/referral.py): the window ends with them.
_FORM_ENDS = ("action_submit_referral", "action_stop_referral")
REDACTED = ""
# A form's end still not stored this long after the request: redact what is there.
REDACTION_GIVE_UP = timedelta(minutes=10)


def request_redaction(sender_id: str, since: float, *, session: Session) -> None:
    """Ask for what the person typed into the form since `since` (Rasa's timestamp of the
    message that started it) to be removed once Rasa has saved the turn. The caller commits."""
    session.add(RedactionRequest(sender_id=sender_id, since=since))


def _redact_form(sender_id: str, since: float, *, engine: Engine, whole: bool = False) -> bool:
    """Redact, in the stored events from `since` to the end of the form: the messages typed
    while the form asked for a personal detail, the values of those slots, the read-back
    question, and any other message repeating what was typed. False if the form's end is not
    stored yet (Rasa is still saving the turn): nothing is changed, try again later. `whole`:
    the end never came (a crash mid-turn): redact up to the last stored event."""
    query = (
        select(events.c.id, events.c.type_name, events.c.action_name, events.c.data)
        .where(events.c.sender_id == sender_id, events.c.timestamp >= since)
        .order_by(events.c.id)
    )
    with engine.begin() as connection:
        rows = list(connection.execute(query))
        window: list = []
        for row in rows:
            window.append(row)
            if row.type_name == "action" and row.action_name in _FORM_ENDS:
                break
        else:
            if rows and not whole:
                return False
        typed: set[str] = set()
        changed: dict[int, dict] = {}
        asking = None
        for row in window:
            event = json.loads(row.data or "{}")
            if row.type_name == "slot" and event.get("name") == "requested_slot":
                asking = event.get("value")
            elif row.type_name == "slot" and event.get("name") in PERSONAL_SLOTS and event.get("value") is not None:
                typed.add(str(event["value"]))
                event["value"] = None
                changed[row.id] = event
            elif row.type_name == "user" and asking in PERSONAL_SLOTS and event.get("text"):
                typed.add(event["text"])
                changed[row.id] = _redact_user(event)
        typed |= {_national(value) for value in typed if value.startswith("+44")}
        typed = {value for value in typed if len(value.strip()) >= 2}
        if not typed:
            pattern = None
        else:  # whole words only: "Jo" is a name in "Name: Jo", not in "Join"
            pattern = re.compile("|".join(rf"(?<!\w){re.escape(value)}(?!\w)" for value in sorted(typed, key=len, reverse=True)))
        for row in window:
            if row.id in changed or row.type_name not in ("user", "bot", "slot"):
                continue
            event = json.loads(row.data or "{}")
            if row.type_name == "slot":
                if pattern and event.get("name") != "requested_slot" and pattern.search(str(event.get("value") or "")):
                    changed[row.id] = {**event, "value": None}
                continue
            # Anywhere in the event: a bot message's metadata carries the values it was filled with.
            dumped = json.dumps(event, ensure_ascii=False)
            read_back = (event.get("metadata") or {}).get("utter_action") == _READ_BACK
            if read_back or (pattern and pattern.search(dumped)):
                changed[row.id] = _redact_user(event) if row.type_name == "user" else _redact_bot(event)
        for row_id, event in changed.items():
            connection.execute(events.update().where(events.c.id == row_id).values(data=json.dumps(event)))
    return True


def _redact_user(event: dict) -> dict:
    """A user event without its words (the intent stays, for the anonymous counts)."""
    parse_data = event.get("parse_data") or {}
    kept = {key: parse_data[key] for key in ("intent", "intent_ranking", "message_id") if key in parse_data}
    return {**event, "text": REDACTED, "parse_data": {**kept, "text": REDACTED, "entities": []}, "metadata": {}}


# A bot message's metadata: which response it was, and which model (never the values filled in).
_BOT_METADATA = ("utter_action", "model_id", "assistant_id", "staff")


def _redact_bot(event: dict) -> dict:
    metadata = event.get("metadata") or {}
    return {**event, "text": REDACTED, "metadata": {key: metadata[key] for key in _BOT_METADATA if key in metadata}}


def _national(e164: str) -> str:
    try:
        return national_format(e164)
    except Exception:  # not a number after all: nothing more to look for
        return e164


def process_redactions(
    *, tracker_engine: Engine | None, session: Session, settle_seconds: float = 5, now: datetime | None = None,
    lock_store: "LockStore | None" = None,
) -> int:
    """Carry out redaction requests at least `settle_seconds` old, holding Rasa's lock on the
    conversation when there is a Redis lock store. Returns how many were done; the rest stay
    pending (form's end not saved yet, lock busy, no tracker table). The caller commits."""
    if tracker_engine is None:
        return 0
    now = now or datetime.utcnow()
    pending = _pending(RedactionRequest, session=session, before=now - timedelta(seconds=settle_seconds))
    done = 0
    for request in pending:
        overdue = request.requested_at <= now - REDACTION_GIVE_UP
        try:
            if lock_store is not None:
                with conversation_lock(lock_store, request.sender_id):
                    finished = _redact_form(request.sender_id, request.since, engine=tracker_engine, whole=overdue)
            else:
                finished = _redact_form(request.sender_id, request.since, engine=tracker_engine, whole=overdue)
        except LockBusy:
            continue
        if finished:
            request.done_at = now
            request.sender_id = "redacted"
            done += 1
    session.flush()
    return done
