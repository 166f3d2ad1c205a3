"""The queue and cases: GET / (most urgent first, with waiting times and targets), GET
/queue/updates.json (urgent cases waiting: the open queue page polls it to announce new ones),
GET /cases/<id>, GET /cases/<id>/transcript (the case page refreshes it every few seconds),
POST /cases/<id>/note and /cases/<id>/called-back."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from bot import handoff
from bot.console.case_page import DONE, case_or_404, error_page, render_case, transcript
from bot.console.web import in_thread, render, see_other, staff_page
from bot.referrals import cases, priority
from bot.referrals.models import KIND_LIVE, KINDS, STATUSES, Case
from bot.settings import Settings
from bot.staff import audit

MAX_NOTE_CHARS = 4000
# A refreshing transcript is audited once per worker and case in this many minutes, not every few seconds.
TRANSCRIPT_AUDIT_MINUTES = 10
# The queue's announcements: the cursor handed back reaches this far into the past, so a case
# committed just after a poll read the table is still found by the next (the page skips repeats).
UPDATES_OVERLAP = timedelta(minutes=2)


def _timing(case: Case, now: datetime, settings: Settings) -> dict[str, Any]:
    """What the queue shows of a case's response time: waiting so far, or time to first response;
    its priority's target (minutes); and how far over the target it is (None within it)."""
    return {
        "waiting": priority.waiting(case, now), "answered": priority.response_time(case),
        "target": priority.target_minutes(case.priority, settings), "over": priority.breached(case, now, settings),
    }


def _cursor(now: datetime) -> str:
    return (now - UPDATES_OVERLAP).isoformat(timespec="seconds")


@staff_page()
async def queue(request: Request) -> HTTPResponse:
    """The queue (filters: status, kind, who), with who is on shift."""
    db, user = request.ctx.db, request.ctx.user
    status = request.args.get("status") if request.args.get("status") in STATUSES else ""
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else ""
    who = request.args.get("who") if request.args.get("who") in ("mine", "unassigned", "all") else "all"

    def page() -> HTTPResponse:
        with db.begin():
            found = cases.queue(
                session=db, status=status or None, kind=kind or None, mine=user.id if who == "mine" else None,
                unassigned=who == "unassigned",
            )
            counts = cases.counts_by_status(session=db)
            live_waiting = len(cases.queue(session=db, status="new", kind=KIND_LIVE))
            now, settings = datetime.utcnow(), request.app.ctx.settings
            return render(
                request, "queue.html", cases=found, counts=counts, status_filter=status, kind=kind, who=who,
                statuses=STATUSES, kinds=KINDS, live_waiting=live_waiting,
                on_shift=bool(user.on_shift_until and user.on_shift_until > now), anyone_on_shift=handoff.staff_on_shift(session=db),
                shift_hours=settings.shift_hours, timing={case.id: _timing(case, now, settings) for case in found},
                summary=priority.summary(session=db, settings=settings, now=now),
                urgent_waiting=priority.urgent_waiting(session=db), cursor=_cursor(now),
            )

    return await in_thread(request, page)


@staff_page(background=True)
async def queue_updates(request: Request) -> HTTPResponse:
    """Urgent cases waiting for a first response (all, for the page's title), and those made or
    raised since `since` (an ISO time: the `cursor` of the last answer), for the open queue page
    to announce. Only reference, priority, reason, kind and when: never a name, number or text."""
    db = request.ctx.db
    since = None
    if request.args.get("since"):
        try:
            since = datetime.fromisoformat(request.args.get("since"))
        except ValueError:
            return response.json({"error": "since must be a time such as 2026-12-01T14:07:00"}, status=400)
        if since.tzinfo is not None:  # stored times are UTC without a zone
            since = since.astimezone(timezone.utc).replace(tzinfo=None)

    def work() -> HTTPResponse:
        with db.begin():
            now, found = datetime.utcnow(), priority.urgent_waiting(session=db)
            fresh = [case for case in found if since is None or case.updated_at >= since]
            return response.json({
                "cursor": _cursor(now), "urgent_waiting": len(found),
                "cases": [
                    {"id": case.id, "reference": case.reference, "priority": case.priority, "reason": case.priority_reason,
                     "reason_words": priority.reason_words(case.priority_reason), "kind": case.kind,
                     "created": case.created_at.isoformat(timespec="seconds")}
                    for case in fresh
                ],
            })

    return await in_thread(request, work)


@staff_page()
async def case_page(request: Request, case_id: int) -> HTTPResponse:
    """A case, its notes and its conversation (audited)."""
    db, user = request.ctx.db, request.ctx.user

    def page() -> HTTPResponse:
        with db.begin():
            case = case_or_404(db, case_id)
            audit.record("view_case", session=db, user_id=user.id, case_id=case.id)
            return render_case(request, case, notice=DONE.get(request.args.get("done", "")))

    return await in_thread(request, page)


@staff_page(background=True)
async def transcript_part(request: Request, case_id: int) -> HTTPResponse:
    """The conversation alone, for the case page's refresh (audited once in a while, not every time)."""
    db, user = request.ctx.db, request.ctx.user

    def part() -> HTTPResponse:
        with db.begin():
            case = case_or_404(db, case_id)
            if not any(
                audit.recorded_since(action, user_id=user.id, case_id=case.id, minutes=TRANSCRIPT_AUDIT_MINUTES, session=db)
                for action in ("view_case", "view_transcript")
            ):
                audit.record("view_transcript", session=db, user_id=user.id, case_id=case.id)
            lines, problem = transcript(request.app, case.sender_id)
            return render(request, "_transcript.html", lines=lines, transcript_problem=problem)

    return await in_thread(request, part)


def _change(name: str, change: Callable[[Session, Case, Request], str]) -> Callable:
    """A POST that changes a case without calling Rasa: change() returns the audit detail."""

    async def handler(request: Request, case_id: int) -> HTTPResponse:
        db, user = request.ctx.db, request.ctx.user

        def work() -> HTTPResponse | None:
            try:
                with db.begin():
                    case = case_or_404(db, case_id)
                    before = case.status
                    detail = change(db, case, request)
                    audit.record(name, session=db, user_id=user.id, case_id=case.id,
                                 detail=detail or f"status {before}→{case.status}")
            except cases.CaseError as exc:
                return error_page(request, case_id, 409, str(exc))
            return None

        problem = await in_thread(request, work)
        return problem or see_other(f"/cases/{case_id}?done={name}")

    handler.__name__ = f"case_{name}"
    return staff_page()(handler)


def _note(db: Session, case: Case, request: Request) -> str:
    cases.add_note(case.id, request.ctx.user.id, (request.form.get("text") or "")[:MAX_NOTE_CHARS], session=db)
    return "note added"


def _called_back(db: Session, case: Case, request: Request) -> str:
    cases.mark_called_back(case.id, request.ctx.user.id, request.form.get("outcome") or "", session=db)
    return ""


def register(app: Sanic) -> None:
    """Add the queue and case routes to the console."""
    app.add_route(queue, "/", methods=["GET"], name="queue")
    app.add_route(queue_updates, "/queue/updates.json", methods=["GET"], name="queue_updates")
    app.add_route(case_page, "/cases/<case_id:int>", methods=["GET"], name="case_page")
    app.add_route(transcript_part, "/cases/<case_id:int>/transcript", methods=["GET"], name="transcript_part")
    app.add_route(_change("note", _note), "/cases/<case_id:int>/note", methods=["POST"], name="case_note")
    app.add_route(_change("called_back", _called_back), "/cases/<case_id:int>/called-back", methods=["POST"], name="case_called_back")
