"""Creating and working cases: callbacks (with consent) and live conversations for staff.

Functions take the session as a keyword argument and leave committing to the caller
(`with session.begin():`), so a case is either wholly stored or not at all.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.referrals import priority as priorities
from bot.referrals.counts import count_case_for_statistics
from bot.referrals.models import (
    KIND_CALLBACK,
    KIND_LIVE,
    OPEN_STATUSES,
    OUTCOME_CODES,
    PRIORITY_NORMAL,
    PRIORITY_RANK,
    PRIORITY_URGENT,
    STATUSES,
    Case,
    CaseNote,
    ErasureRequest,
    OutboxMessage,
    sms_menu,
)

# No 0/O, 1/I/L, 5/S: easy to read out over the phone and to type on a keypad.
_REFERENCE_ALPHABET = "234679ACDEFGHJKMNPQRTUVWXYZ"


class CaseError(ValueError):
    """A change that cannot be made (unknown case, wrong state); the message says why."""


def new_reference() -> str:
    """A short reference for the person and the worker, like FC-7KM3QD."""
    return "FC-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))


@dataclass(frozen=True)
class CallbackRequest:
    """What the referral form collected, after validation."""

    sender_id: str
    channel: str
    request_key: str  # sender id and the id of the message that confirmed: a retry has the same
    consent_version: str
    consent_at: datetime
    phone: str  # E.164
    safe_to_call: bool
    safe_to_leave_message: bool
    name: str | None = None
    best_time: str | None = None
    area: str | None = None
    council_code: str | None = None
    summary: str | None = None
    topic: str | None = None
    audience: str | None = None
    # Risk first (bot.referrals.priority.assess on the conversation's events).
    priority: str = PRIORITY_NORMAL
    priority_reason: str | None = None
    # A concern for someone inside (bot.referrals.concern): prison register id, the name given
    # for the person inside (optional), the kind of worry (CONCERN_KINDS), when last heard from.
    concern: bool = False
    concern_prison_id: str | None = None
    concern_person_name: str | None = None
    concern_kind: str | None = None
    concern_last_heard: str | None = None


def _insert_once(session: Session, case: Case) -> tuple[Case, bool]:
    """Insert `case` unless one with its request key exists; (case, created)."""
    if case.request_key:
        existing = session.execute(select(Case).where(Case.request_key == case.request_key)).scalar_one_or_none()
        if existing is not None:
            return existing, False
    for _ in range(5):
        case.reference = new_reference()
        try:
            with session.begin_nested():
                session.add(case)
                session.flush()
            return case, True
        except IntegrityError:
            # Either the same request raced us (return theirs) or the reference collided (try another).
            if case.request_key:
                existing = session.execute(select(Case).where(Case.request_key == case.request_key)).scalar_one_or_none()
                if existing is not None:
                    return existing, False
    raise CaseError("could not make a unique reference")


def create_callback(request: CallbackRequest, *, session: Session) -> tuple[Case, bool]:
    """Store a callback request; a retry of the same request returns the first. (case, created)."""
    case = Case(
        kind=KIND_CALLBACK,
        status="new",
        sender_id=request.sender_id,
        channel=request.channel,
        request_key=request.request_key,
        consent_version=request.consent_version,
        consent_at=request.consent_at,
        name=request.name,
        phone=request.phone,
        safe_to_call=request.safe_to_call,
        safe_to_leave_message=request.safe_to_leave_message,
        best_time=request.best_time,
        area=request.area,
        council_code=request.council_code,
        summary=request.summary,
        topic=request.topic,
        audience=request.audience,
        priority=request.priority,
        priority_rank=PRIORITY_RANK[request.priority],
        priority_reason=request.priority_reason,
        concern=request.concern,
        concern_prison_id=request.concern_prison_id,
        concern_person_name=request.concern_person_name,
        concern_kind=request.concern_kind,
        concern_last_heard=request.concern_last_heard,
    )
    return _insert_once(session, case)


def open_live(
    *, sender_id: str, channel: str, request_key: str, topic: str | None = None, audience: str | None = None,
    council_code: str | None = None, priority: str = PRIORITY_NORMAL, priority_reason: str | None = None,
    session: Session,
) -> tuple[Case, bool]:
    """Put a conversation in the queue for a worker (or return the one already waiting)."""
    waiting = session.execute(
        select(Case).where(Case.sender_id == sender_id, Case.kind == KIND_LIVE, Case.status.in_(("new", "claimed")))
    ).scalar_one_or_none()
    if waiting is not None:
        priorities.raise_to(waiting, priority, priority_reason)  # asked again, perhaps now at risk
        return waiting, False
    case = Case(
        kind=KIND_LIVE, status="new", sender_id=sender_id, channel=channel, request_key=request_key,
        topic=topic, audience=audience, council_code=council_code,
        priority=priority, priority_rank=PRIORITY_RANK[priority], priority_reason=priority_reason,
    )
    return _insert_once(session, case)


def mark_urgent(sender_id: str, *, session: Session, now: datetime | None = None) -> list[Case]:
    """A crisis message came while this conversation waits for (or talks with) a worker: its
    open live cases go to the top of the queue, marked urgent (priority raised to urgent,
    "crisis_while_waiting", unless already urgent). The cases marked."""
    marked = []
    for case in open_cases_for(sender_id, session=session, kind=KIND_LIVE):
        if not case.urgent:
            case.urgent = True
            case.urgent_at = now or datetime.utcnow()
        priorities.raise_to(case, PRIORITY_URGENT, priorities.CRISIS_WHILE_WAITING)
        marked.append(case)
    return marked


def open_cases_for(sender_id: str, *, session: Session, kind: str | None = None) -> list[Case]:
    """A conversation's open cases (of one kind, if given), oldest first."""
    query = select(Case).where(Case.sender_id == sender_id, Case.status.in_(OPEN_STATUSES)).order_by(Case.id)
    if kind:
        query = query.where(Case.kind == kind)
    return list(session.execute(query).scalars())


def cancel_callbacks(sender_id: str, *, session: Session) -> list[str]:
    """The person withdrew: open callbacks become cancelled and lose their details. References cancelled."""
    cancelled = []
    for case in open_cases_for(sender_id, session=session, kind=KIND_CALLBACK):
        case.status = "cancelled"
        case.closed_at = datetime.utcnow()
        _forget_details(case)
        cancelled.append(case.reference)
    return cancelled


def _forget_details(case: Case) -> None:
    case.name = case.phone = case.best_time = case.area = case.summary = None
    case.safe_to_call = case.safe_to_leave_message = None
    case.concern_person_name = case.concern_last_heard = None  # what they said about the person inside


def delete_cases(cases: list[Case], *, session: Session) -> int:
    """Delete these cases and their notes, keeping an anonymous count of each. Returns how many."""
    for case in cases:
        count_case_for_statistics(case, session=session)
    ids = [case.id for case in cases]
    if ids:
        session.execute(delete(CaseNote).where(CaseNote.case_id.in_(ids)))
        session.execute(delete(Case).where(Case.id.in_(ids)))
    return len(ids)


def erase_person(sender_id: str, *, session: Session) -> int:
    """Delete every case, note and queued message for a conversation, and the SMS options
    last sent to it (an opt-out is kept: it protects them). Returns cases deleted.

    The conversation itself lives in Rasa's tracker store: bot.erasure erases it.
    """
    erased = delete_cases(list(session.execute(select(Case).where(Case.sender_id == sender_id)).scalars()), session=session)
    session.execute(delete(OutboxMessage).where(OutboxMessage.sender_id == sender_id))
    session.execute(delete(sms_menu).where(sms_menu.c.sender_id == sender_id))
    return erased


def request_erasure(sender_id: str, *, session: Session) -> ErasureRequest:
    """Erase the person's cases now and ask for their conversation to be erased shortly."""
    erase_person(sender_id, session=session)
    request = ErasureRequest(sender_id=sender_id)
    session.add(request)
    return request


# --- staff actions -----------------------------------------------------------------------

def pending_erasures(*, session: Session) -> tuple[int, datetime | None]:
    """"Delete my details" requests not yet carried out to the end, and when the oldest was
    made (staff see these: one that stays pending means the purge job is not running, or
    TRACKER_STORE_URL is not Rasa's store)."""
    count, oldest = session.execute(
        select(func.count(), func.min(ErasureRequest.requested_at)).where(ErasureRequest.done_at.is_(None))
    ).one()
    return int(count), oldest


def get_case(case_id: int, *, session: Session) -> Case:
    """The case with this id; CaseError if there is none."""
    case = session.get(Case, case_id)
    if case is None:
        raise CaseError(f"There is no case {case_id}.")
    return case


def claim(case_id: int, staff_user_id: int, *, session: Session) -> Case:
    """Claim a new case for a worker (claiming one's own again changes nothing).

    One conditional UPDATE (WHERE status='new' AND nobody has it), run first in the
    transaction: when two workers claim at the same moment the database lets exactly one
    through (PostgreSQL re-checks the WHERE after the row lock; SQLite's writer lock
    serialises them), and the other gets a CaseError. `case.newly_claimed` says whether this
    call made the claim. Claiming is the first response, if there was none before.
    """
    now = datetime.utcnow()
    won = session.execute(
        update(Case)
        .where(Case.id == case_id, Case.status == "new", Case.claimed_by_id.is_(None))
        .values(status="claimed", claimed_by_id=staff_user_id, claimed_at=func.coalesce(Case.claimed_at, now),
                first_response_at=func.coalesce(Case.first_response_at, now))
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    case = get_case(case_id, session=session)
    session.refresh(case)
    if not won:
        if case.status == "claimed" and case.claimed_by_id == staff_user_id:
            case.newly_claimed = False
            return case
        if case.status not in ("new", "claimed"):
            raise CaseError(f"{case.reference} is {case.status.replace('_', ' ')}: it cannot be claimed.")
        raise CaseError(f"{case.reference} is already claimed by someone else.")
    case.newly_claimed = True
    return case


def add_note(case_id: int, staff_user_id: int, text: str, *, session: Session) -> CaseNote:
    """A worker's private note on a case (CaseError if it is empty)."""
    text = text.strip()
    if not text:
        raise CaseError("A note cannot be empty.")
    case = get_case(case_id, session=session)
    note = CaseNote(case=case, staff_user_id=staff_user_id, text=text[:4000])
    session.add(note)
    return note


def mark_called_back(case_id: int, staff_user_id: int, outcome: str, *, session: Session) -> Case:
    """A worker has called the person back (callbacks only, while open)."""
    case = get_case(case_id, session=session)
    if case.kind != KIND_CALLBACK:
        raise CaseError(f"{case.reference} is a live conversation, not a callback.")
    if case.status not in ("new", "claimed", "called_back"):
        raise CaseError(f"{case.reference} is {case.status}.")
    case.status = "called_back"
    case.called_back_at = case.called_back_at or datetime.utcnow()
    case.first_response_at = case.first_response_at or case.called_back_at
    case.claimed_by_id = case.claimed_by_id or staff_user_id
    case.outcome = outcome.strip()[:2000] or case.outcome
    return case


def ensure_open(case: Case) -> None:
    """A closed or cancelled case cannot be closed (or handed back) again: CaseError."""
    if case.status in ("closed", "cancelled"):
        raise CaseError(f"{case.reference} is already {case.status}.")


def check_outcome_code(case: Case, code: str | None) -> str | None:
    """The outcome a worker chose on closing `case` (None: none), else CaseError: one of
    OUTCOME_CODES, and needed to end a live chat (a call back's outcome is given on calling)."""
    code = (code or "").strip() or None
    if code is not None and code not in OUTCOME_CODES:
        raise CaseError("That outcome is not one of the choices: choose one from the list.")
    if code is None and case.kind == KIND_LIVE:
        raise CaseError("Choose what came of this chat before ending it.")
    return code


def close(case_id: int, staff_user_id: int, outcome: str = "", *, session: Session, outcome_code: str | None = None) -> Case:
    """Close a case for good, keeping the worker's outcome and its code (one of OUTCOME_CODES,
    needed for a live chat: check_outcome_code). CaseError if it is already closed."""
    case = get_case(case_id, session=session)
    ensure_open(case)
    code = check_outcome_code(case, outcome_code)
    case.status = "closed"
    case.closed_at = datetime.utcnow()
    case.claimed_by_id = case.claimed_by_id or staff_user_id
    if outcome.strip():
        case.outcome = outcome.strip()[:2000]
    case.outcome_code = code or case.outcome_code
    return case


def queue(
    *, session: Session, status: str | None = None, kind: str | None = None, mine: int | None = None,
    unassigned: bool = False, limit: int = 200,
) -> list[Case]:
    """Cases for the staff queue: most urgent priority first, then oldest (longest waiting)
    first; open ones unless a status is given."""
    if status is not None and status not in STATUSES:
        raise CaseError(f"Unknown status {status!r}.")
    query = select(Case)
    query = query.where(Case.status == status) if status else query.where(Case.status.in_(OPEN_STATUSES))
    if kind:
        query = query.where(Case.kind == kind)
    if mine is not None:
        query = query.where(Case.claimed_by_id == mine)
    if unassigned:
        query = query.where(Case.claimed_by_id.is_(None))
    return list(session.execute(query.order_by(Case.priority_rank, Case.created_at, Case.id).limit(limit)).scalars())


def counts_by_status(*, session: Session) -> dict[str, int]:
    """How many cases are in each status (every status named, 0 for none)."""
    rows = session.execute(select(Case.status, func.count()).group_by(Case.status)).all()
    return {status: 0 for status in STATUSES} | {status: n for status, n in rows}


def purge_closed(older_than_days: int, *, session: Session, now: datetime | None = None) -> int:
    """Delete closed and cancelled cases closed more than N days ago. Returns how many."""
    cutoff = (now or datetime.utcnow()) - timedelta(days=older_than_days)
    closed = select(Case).where(Case.status.in_(("closed", "cancelled")), Case.closed_at < cutoff)
    return delete_cases(list(session.execute(closed).scalars()), session=session)


def queue_outbox(sender_id: str, text: str, *, session: Session) -> OutboxMessage:
    """Keep a worker's reply for a channel that cannot push it (the web chat polls for it)."""
    message = OutboxMessage(sender_id=sender_id, text=text)
    session.add(message)
    return message


def take_outbox(sender_id: str, *, session: Session) -> list[str]:
    """Messages waiting for this conversation, oldest first, marked delivered."""
    messages = list(
        session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.sender_id == sender_id, OutboxMessage.delivered_at.is_(None))
            .order_by(OutboxMessage.id)
        ).scalars()
    )
    now = datetime.utcnow()
    for message in messages:
        message.delivered_at = now
    return [m.text for m in messages]
