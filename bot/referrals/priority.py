"""Risk first: a case's priority from its conversation, raising it, and its response target.

Urgent: the conversation touched risk to self, a child at risk, domestic abuse or someone inside
at risk (bot.nlp.safety's intents), or the call back is a concern for someone inside; high:
distress; otherwise normal. A priority is only ever raised (a crisis message while the case
waits), never lowered. Each priority has a target time to first response (TARGET_MINUTES_*); a
case that waited longer is over target (a breach), which the queue shows.

The reason kept on a case is a code (an intent name, "concern", "crisis_while_waiting"), never
what anyone typed; `reason_words` says it for staff.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.dialogue.trackers import intent_of, user_events
from bot.nlp.safety import SAFETY_INTENTS
from bot.referrals.models import OPEN_STATUSES, PRIORITIES, PRIORITY_HIGH, PRIORITY_NORMAL, PRIORITY_RANK, PRIORITY_URGENT, Case
from bot.settings import Settings

DISTRESS = "express_distress"
# Risk of harm, most urgent first (SAFETY_INTENTS without distress, which is last).
RISK_INTENTS = tuple(intent for intent in SAFETY_INTENTS if intent != DISTRESS)
CONCERN = "concern"
CRISIS_WHILE_WAITING = "crisis_while_waiting"

# Why a case has its priority, in words for staff (never anything the person typed).
REASON_WORDS = {
    "risk_self": "risk to self",
    "risk_child": "a child at risk",
    "risk_domestic_abuse": "domestic abuse",
    "risk_prisoner": "someone inside at risk",
    CONCERN: "concern for someone inside",
    CRISIS_WHILE_WAITING: "crisis while waiting",
    DISTRESS: "distress",
}
# Time to first response counted in the queue's summary: answered in this last stretch.
RECENT = timedelta(hours=24)


def _current_session(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The events since the conversation's last session started (all of them if none did)."""
    events = list(events)
    starts = [i for i, event in enumerate(events) if event.get("event") == "session_started"]
    return events[starts[-1] + 1:] if starts else events


def assess(events: Iterable[Mapping[str, Any]], *, concern: bool = False) -> tuple[str, str | None]:
    """(priority, reason) of a conversation from its Rasa events (dicts, oldest first, as in
    tracker.events): urgent for a risk intent in this session (the most urgent one is the
    reason) or a concern for someone inside (the reason, over the someone-inside-at-risk
    message that led to it); high for distress; else ("normal", None)."""
    said = {intent_of(event) for event in user_events(_current_session(events))}
    for intent in RISK_INTENTS:
        # a concern call back names what the worker is to do about someone inside at risk
        if intent in said and not (concern and intent == "risk_prisoner"):
            return PRIORITY_URGENT, intent
    if concern:
        return PRIORITY_URGENT, CONCERN
    if DISTRESS in said:
        return PRIORITY_HIGH, DISTRESS
    return PRIORITY_NORMAL, None


def reason_words(reason: str | None) -> str:
    """Why a case has its priority, for staff ("risk to self"); empty when there is no reason."""
    return REASON_WORDS.get(reason or "", (reason or "").replace("_", " "))


def raise_to(case: Case, priority: str, reason: str | None, now: datetime | None = None) -> bool:
    """Raise the case to `priority` (with its reason) if that is higher than it has; a priority
    is never lowered, and an equal one keeps its first reason. Whether it was raised."""
    if PRIORITY_RANK[priority] >= PRIORITY_RANK.get(case.priority or PRIORITY_NORMAL, PRIORITY_RANK[PRIORITY_NORMAL]):
        return False
    case.priority, case.priority_rank, case.priority_reason = priority, PRIORITY_RANK[priority], reason
    case.updated_at = now or datetime.utcnow()  # the queue's announcements look for changed cases
    return True


def target_minutes(priority: str, settings: Settings) -> int:
    """The target time to first response for a priority, in minutes (TARGET_MINUTES_*)."""
    return {
        PRIORITY_URGENT: settings.target_minutes_urgent,
        PRIORITY_HIGH: settings.target_minutes_high,
        PRIORITY_NORMAL: settings.target_minutes_normal,
    }[priority if priority in PRIORITIES else PRIORITY_NORMAL]


def waiting(case: Case, now: datetime) -> timedelta | None:
    """How long an open case has waited with no response yet; None once answered or closed."""
    if case.first_response_at is not None or case.status not in OPEN_STATUSES:
        return None
    return max(timedelta(0), now - case.created_at)


def response_time(case: Case) -> timedelta | None:
    """Time to first response (a worker claimed it, joined the chat or called back); None before."""
    if case.first_response_at is None:
        return None
    return max(timedelta(0), case.first_response_at - case.created_at)


def breached(case: Case, now: datetime, settings: Settings) -> timedelta | None:
    """How far over its target the case's time to first response is (still waiting: so far;
    answered: when answered; closed unanswered: until it closed); None within target."""
    elapsed = response_time(case)
    if elapsed is None:
        elapsed = waiting(case, now)
    if elapsed is None and case.closed_at is not None:
        elapsed = case.closed_at - case.created_at
    if elapsed is None:
        return None
    over = elapsed - timedelta(minutes=target_minutes(case.priority, settings))
    return over if over > timedelta(0) else None


@dataclass(frozen=True)
class PrioritySummary:
    """One priority on the queue: waiting now, the longest wait, and how many are or were late."""

    priority: str
    target: int  # minutes
    waiting: int
    longest: timedelta | None
    over_target: int  # waiting now, already over target
    answered: int  # first response in the last RECENT
    answered_late: int  # of those, after the target


def summary(*, session: Session, settings: Settings, now: datetime) -> list[PrioritySummary]:
    """Per priority, most urgent first: cases waiting now, the longest wait, waiting ones over
    target, and those answered in the last 24 hours and how many of them late."""
    waits: dict[str, list[timedelta]] = {p: [] for p in PRIORITIES}
    for priority, created in session.execute(
        select(Case.priority, Case.created_at).where(Case.status.in_(OPEN_STATUSES), Case.first_response_at.is_(None))
    ):
        waits.setdefault(priority, []).append(max(timedelta(0), now - created))
    answered: dict[str, list[timedelta]] = {p: [] for p in PRIORITIES}
    for priority, created, first in session.execute(
        select(Case.priority, Case.created_at, Case.first_response_at).where(Case.first_response_at >= now - RECENT)
    ):
        answered.setdefault(priority, []).append(first - created)
    rows = []
    for priority in PRIORITIES:
        target = timedelta(minutes=target_minutes(priority, settings))
        rows.append(PrioritySummary(
            priority=priority, target=target_minutes(priority, settings), waiting=len(waits[priority]),
            longest=max(waits[priority], default=None), over_target=sum(w > target for w in waits[priority]),
            answered=len(answered[priority]), answered_late=sum(a > target for a in answered[priority]),
        ))
    return rows


def urgent_waiting(*, session: Session, since: datetime | None = None, limit: int = 50) -> list[Case]:
    """Urgent cases still waiting for a first response, oldest first; with `since`, only those
    made or raised (changed) since then: what an open queue page announces."""
    query = select(Case).where(
        Case.status.in_(OPEN_STATUSES), Case.priority_rank == PRIORITY_RANK[PRIORITY_URGENT], Case.first_response_at.is_(None),
    )
    if since is not None:
        query = query.where(Case.updated_at >= since)
    return list(session.execute(query.order_by(Case.created_at, Case.id).limit(limit)).scalars())
