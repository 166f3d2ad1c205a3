"""A concern for someone inside, passed on: what the case page shows of it (the prison, its
GOV.UK contact page, the name given, the kind of worry, when last heard) and recording that a
worker passed it to the prison's Safer Custody team (how, who and when, once).

The concern itself is collected by the call-back form (bot/referrals/concern_form.py) and
stored with the case (bot/referrals/cases.create_callback). Functions take the session as a
keyword argument and leave committing to the caller.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.geo import gazetteer
from bot.geo.pages import gov_uk_page
from bot.referrals.cases import CaseError, get_case
from bot.referrals.models import Case
from bot.staff import audit

AUDIT_ACTION = "concern_passed"
# How a worker passed the concern on, as they choose it (the key is what the audit log keeps).
PASSED_HOW = {
    "safer_custody_line": "rang the Safer Custody line",
    "safer_custody_voicemail": "left a voicemail on the Safer Custody line",
    "main_number": "rang the prison's main number",
    "email": "emailed the Safer Custody team",
    "other": "another way",
}
MAX_NOTE = 200
# A note is about how it was passed on, not about anyone: a phone number or a prison number is refused.
_PERSONAL_NUMBER = re.compile(r"\d[\d\s-]{5,}\d|\b[A-Za-z]\d{4}[A-Za-z]{2}\b")

# The kinds of worry (CONCERN_KINDS) as staff read them.
KIND_LABELS = {
    "self_harm": "self-harm",
    "threats_or_bullying": "threats or bullying",
    "health": "their health",
    "not_heard_from": "not heard from them",
    "other": "something else",
}


@dataclass(frozen=True)
class ConcernView:
    """What the case page shows of a concern."""

    prison_id: str | None
    prison_name: str | None  # None: the caller did not know, or it is no longer in the register
    prison_page: str | None  # its GOV.UK page (Safer Custody line), or Find a prison; None in Scotland and NI
    devolved: bool  # a prison in Scotland or Northern Ireland (its own prison service)
    person_name: str | None
    kind: str | None
    last_heard: str | None
    passed_at: datetime | None
    passed_by: str | None
    passed_how: str | None


def view(case: Case) -> ConcernView | None:
    """The concern on a case, for the case page; None for a case that is not a concern."""
    if not case.concern:
        return None
    prison = None
    if case.concern_prison_id:
        try:
            prison = gazetteer().prison(case.concern_prison_id)
        except KeyError:
            prison = None
    passed_by = case.concern_passed_by.display_name if case.concern_passed_by else None
    return ConcernView(
        prison_id=case.concern_prison_id,
        prison_name=prison.display_name if prison else None,
        prison_page=gov_uk_page(prison) if prison else None,
        devolved=bool(prison and prison.country in ("Scotland", "Northern Ireland")),
        person_name=case.concern_person_name,
        kind=KIND_LABELS.get(case.concern_kind or "", None),
        last_heard=case.concern_last_heard,
        passed_at=case.concern_passed_at,
        passed_by=passed_by if passed_by or not case.concern_passed_at else "a former user",
        passed_how=case.concern_passed_how,
    )


def _how_words(how: str, note: str) -> str:
    """The stored account of how: the chosen way, then the worker's short note."""
    if how not in PASSED_HOW:
        raise CaseError("Choose how you passed it on from the list.")
    note = " ".join((note or "").split())
    if len(note) > MAX_NOTE:
        raise CaseError(f"The note is too long: keep it to {MAX_NOTE} characters.")
    if _PERSONAL_NUMBER.search(note):
        raise CaseError("Leave phone and prison numbers out of the note: say how it was passed on, not who to.")
    return PASSED_HOW[how] + (f": {note}" if note else "")


def record_passed(case_id: int, staff_user_id: int, how: str, *, session: Session, note: str = "",
                  now: datetime | None = None) -> Case:
    """A worker passed the concern to the prison: who, when and how, once (CaseError for a case
    that is not a concern, a cancelled one, or one already passed on). Audited."""
    words = _how_words(how, note)
    case = get_case(case_id, session=session)
    if not case.concern:
        raise CaseError(f"{case.reference} is not a concern for someone inside.")
    if case.status == "cancelled":
        raise CaseError(f"{case.reference} was cancelled by the person: there is nothing to pass on.")
    now = now or datetime.utcnow()
    # One conditional UPDATE: of two workers recording at once, exactly one is recorded.
    won = session.execute(
        update(Case)
        .where(Case.id == case_id, Case.concern.is_(True), Case.concern_passed_at.is_(None))
        .values(concern_passed_at=now, concern_passed_by_id=staff_user_id, concern_passed_how=words, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    session.refresh(case)
    if not won:
        by = case.concern_passed_by.display_name if case.concern_passed_by else "someone"
        raise CaseError(f"{case.reference} was already passed to the prison by {by}.")
    audit.record(AUDIT_ACTION, session=session, user_id=staff_user_id, case_id=case.id, detail=f"how: {how}")
    return case
