"""The case page, shared by the case routes and the live-chat routes: the case, its notes, its
conversation, and what the worker's last change did (or why it was not done)."""
from __future__ import annotations

import logging

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot import conversations
from bot.console.web import NotFoundCase, render, tracker_engine
from bot.referrals import cases
from bot.referrals.models import KIND_LIVE, OUTCOME_CODES, OUTCOME_LABELS, Case

logger = logging.getLogger(__name__)

# What the page says after a change (codes in the URL: never what anyone typed).
DONE = {
    "claimed": ("ok", "You have claimed this case."),
    "claimed_live": ("ok", "You have claimed this chat; the person has been told a worker has joined."),
    "claimed_unsent": ("warning", "You have claimed this chat, but the assistant could not be reached to tell the person: say hello in a reply once it is back."),
    "note": ("ok", "Note added."),
    "called_back": ("ok", "Marked as called back."),
    "closed": ("ok", "Case closed."),
    "closed_handed_back": ("ok", "Chat closed and handed back to the assistant; the person has been told."),
    "closed_not_handed_back": ("warning", "Chat closed, but the assistant could not be reached to hand it back: the conversation may stay paused until it is. Tell a developer or admin."),
    "reply": ("ok", "Reply sent."),
    "concern_passed": ("ok", "Recorded: the concern has been passed to the prison."),
}


def case_or_404(db: Session, case_id: int) -> Case:
    """The case, or the 404 page."""
    try:
        return cases.get_case(case_id, session=db)
    except cases.CaseError:
        raise NotFoundCase() from None


def transcript(app: Sanic, sender_id: str) -> tuple[list[conversations.Line] | None, str]:
    """(lines, problem): lines is None when there is nothing to show, and problem says why."""
    try:
        engine = tracker_engine(app)
        if not conversations.has_conversations(engine):
            return None, "No conversation is stored for this case."
        lines = conversations.transcript(sender_id, engine=engine)
    except SQLAlchemyError as exc:
        # Only the error's kind: its message can quote the sender id, which is a phone number on SMS.
        logger.error("could not read the tracker store: %s", type(exc).__name__)
        return None, "The conversation could not be read just now: try again shortly."
    if not lines:
        return None, "No conversation is stored for this case."
    return lines, ""


def render_case(
    request: Request, case: Case, *, status: int = 200, error: str = "", notice: tuple[str, str] | None = None, draft: str = "",
    close_form: dict[str, str] | None = None, concern_form: dict[str, str] | None = None,
) -> HTTPResponse:
    """(In a thread, inside a transaction) the case page; `draft`, `close_form` (outcome,
    outcome_code) and `concern_form` (how, note) put back what the worker had typed into the
    reply, the close form and the concern's "passed to the prison" form."""
    lines, problem = transcript(request.app, case.sender_id)
    paused = False
    if case.kind == KIND_LIVE and lines is not None:
        try:
            paused = conversations.is_paused(case.sender_id, engine=tracker_engine(request.app))
        except SQLAlchemyError:
            paused = False
    return render(
        request, "case.html", status=status, case=case, notes=list(case.notes), lines=lines, transcript_problem=problem,
        error=error, notice=notice, paused=paused, live=case.kind == KIND_LIVE,
        mine=case.claimed_by_id == request.ctx.user.id, draft=draft, close_form=close_form or {}, concern_form=concern_form or {},
        outcome_codes=OUTCOME_CODES, outcome_labels=OUTCOME_LABELS,
    )


def error_page(
    request: Request, case_id: int, status: int, error: str, draft: str = "", close_form: dict[str, str] | None = None,
    concern_form: dict[str, str] | None = None,
) -> HTTPResponse:
    """(In a thread) the case page again, with what went wrong."""
    db = request.ctx.db
    with db.begin():
        return render_case(request, case_or_404(db, case_id), status=status, error=error, draft=draft, close_form=close_form,
                           concern_form=concern_form)


def exists(db: Session, case_id: int) -> bool:
    """(In a thread) whether there is such a case."""
    with db.begin():
        return db.get(Case, case_id) is not None
