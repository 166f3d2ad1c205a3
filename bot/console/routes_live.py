"""Live chat: POST /shift (start or end one's shift: live chats are offered while someone is
on), and POST /cases/<id>/claim|close|reply, the changes that also talk to Rasa (a worker
joined, hand back, a worker's reply). The rules are bot.handoff's; this is the HTTP side.

A request that calls Rasa commits its change before the call and records the call's outcome
in a second short transaction, so Rasa being slow never holds a lock.

WhatsApp lets us send our own words only within 24 hours of the person's last message
(bot/channels/whatsapp_window.py). Outside that window a worker's reply is refused, saying why
and keeping what they typed, unless an approved template is set (TWILIO_WHATSAPP_TEMPLATE_SID):
then the reply is sent to Rasa, the WhatsApp channel sends the template asking the person to
reply, and the worker is told the reply reaches them when they do.
"""
from __future__ import annotations

import logging

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from bot import handoff
from bot.channels import whatsapp_window
from bot.console.case_page import case_or_404, error_page, exists, render_case
from bot.console.web import NotFoundCase, in_thread, see_other, staff_page, tracker_engine
from bot.referrals import cases
from bot.staff import audit

logger = logging.getLogger(__name__)

# Rasa unreachable: what the worker is told (the change was not made, or only half).
HAND_BACK_FAILED = (
    "The assistant could not be reached, so the chat was not handed back and the case is still open. "
    "Try again in a minute, or tick \u201cclose anyway\u201d."
)
REPLY_NOT_SENT = "The assistant could not be reached, so your reply was not sent. Try again in a minute."
# Outside WhatsApp's 24-hour window: why a reply was not sent, or when it will arrive.
WINDOW_RULE = "WhatsApp only lets us message someone within 24 hours of their last message."
WINDOW_REFUSED = (
    "Your reply was not sent. Ask a manager to set TWILIO_WHATSAPP_TEMPLATE_SID (an approved WhatsApp "
    "template that asks them to reply), or wait for them to write again: your text is still in the box."
)
ARRIVES = "your reply will reach them as soon as they do."
WINDOW_INVITED = "We have sent them our approved message asking them to reply; " + ARRIVES
WINDOW_WAITING = "They have already been sent our approved message asking them to reply; " + ARRIVES


class _Refused(Exception):
    """A reply that may not be sent (rolls back the reply's transaction)."""


def _last_message(window: whatsapp_window.Window) -> str:
    """When the person last wrote, as the worker is told."""
    hours = window.hours_since
    if hours is None:
        return "We have no WhatsApp message from them in this conversation."
    ago = f"{round(hours)} hours" if hours < 72 else f"{round(hours / 24)} days"
    return f"Their last message was {ago} ago."


def _window(request: Request, sender_id: str) -> whatsapp_window.Window | None:
    """(In a thread) where a WhatsApp conversation stands; None when it is not one, or when it
    cannot be read (then the WhatsApp channel itself holds back what may not go)."""
    if not whatsapp_window.is_whatsapp(sender_id):
        return None
    try:
        return whatsapp_window.read(sender_id, engine=tracker_engine(request.app))
    except SQLAlchemyError as exc:
        logger.error("could not read the tracker store for WhatsApp's window: %s", type(exc).__name__)
        return None


def _record(request: Request, action: str, case_id: int, detail: str) -> None:
    """(In a thread) one audit entry in its own transaction: what came of a call to Rasa."""
    db = request.ctx.db
    with db.begin():
        audit.record(action, session=db, user_id=request.ctx.user.id, case_id=case_id, detail=detail)


@staff_page()
async def shift(request: Request) -> HTTPResponse:
    """Start or end the worker's shift."""
    db, user = request.ctx.db, request.ctx.user
    start = request.form.get("action") == "start"

    def change() -> None:
        with db.begin():
            if start:
                until = handoff.start_shift(user.id, request.app.ctx.settings.shift_hours, session=db)
                audit.record("shift_start", session=db, user_id=user.id, detail=f"until {until:%Y-%m-%d %H:%M} UTC")
            else:
                handoff.end_shift(user.id, session=db)
                audit.record("shift_end", session=db, user_id=user.id)

    await in_thread(request, change)
    return see_other("/")


@staff_page()
async def claim(request: Request, case_id: int) -> HTTPResponse:
    """Claim a case; in a live chat claimed for the first time, the person is told a worker joined."""
    db, user = request.ctx.db, request.ctx.user

    def work():
        try:
            with db.begin():
                # The conditional UPDATE comes first: of two workers claiming at once, one wins.
                case, tell = handoff.claim(case_id, user.id, session=db)
                if case.newly_claimed:
                    audit.record("claim", session=db, user_id=user.id, case_id=case.id, detail="status new→claimed")
                return tell, None
        except cases.CaseError as exc:
            if not exists(db, case_id):
                raise NotFoundCase() from None
            return None, error_page(request, case_id, 409, str(exc))

    tell, problem = await in_thread(request, work)
    if problem is not None:
        return problem
    if tell is None:
        return see_other(f"/cases/{case_id}?done=claimed")
    try:
        await request.app.ctx.rasa.utter(tell, handoff.JOINED_RESPONSE)
    except handoff.RasaUnavailable as exc:
        logger.warning("case %s: could not tell the person a worker joined: %s", case_id, exc)
        await in_thread(request, _record, request, "claim", case_id, "worker-joined message not sent: assistant unreachable")
        return see_other(f"/cases/{case_id}?done=claimed_unsent")
    return see_other(f"/cases/{case_id}?done=claimed_live")


async def _hand_back(request: Request, case_id: int, sender_id: str | None) -> bool | None:
    """Hand a live chat back to the assistant before it is closed: whether that worked (None: not a live chat)."""
    if sender_id is None:
        return None
    try:
        await request.app.ctx.rasa.hand_back(sender_id)
    except handoff.RasaUnavailable as exc:
        logger.warning("case %s: could not hand the conversation back: %s", case_id, exc)
        return False
    return True


@staff_page()
async def close(request: Request, case_id: int) -> HTTPResponse:
    """Close a case with its outcome (needed to end a live chat), handing a live chat back to
    the assistant first. What the worker wrote and chose is put back when it is not done."""
    db, user = request.ctx.db, request.ctx.user
    outcome = (request.form.get("outcome") or "")[:2000]
    outcome_code = (request.form.get("outcome_code") or "")[:30]
    form = {"outcome": outcome, "outcome_code": outcome_code}
    force = request.form.get("force") == "yes"

    def check():
        with db.begin():
            case = case_or_404(db, case_id)
            try:
                target = handoff.hand_back_target(case.id, session=db)
            except cases.CaseError as exc:  # already closed
                return None, render_case(request, case, status=409, error=str(exc))
            try:
                cases.check_outcome_code(case, outcome_code)  # before the chat is handed back
            except cases.CaseError as exc:
                return None, render_case(request, case, status=400, error=str(exc), close_form=form)
            return target, None

    sender_id, problem = await in_thread(request, check)
    if problem is not None:
        return problem
    handed_back = await _hand_back(request, case_id, sender_id)
    if handoff.keeps_open(handed_back, force=force):

        def kept_open() -> HTTPResponse:
            _record(request, "close", case_id, "not closed: hand back failed, assistant unreachable")
            return error_page(request, case_id, 502, HAND_BACK_FAILED, close_form=form)

        return await in_thread(request, kept_open)

    def work() -> HTTPResponse | None:
        try:
            with db.begin():
                case = case_or_404(db, case_id)
                before = case.status
                cases.close(case.id, user.id, outcome, session=db, outcome_code=outcome_code)
                detail = f"status {before}→closed"
                if handed_back is not None:
                    detail += "; handed back" if handed_back else "; closed anyway: hand back failed"
                audit.record("close", session=db, user_id=user.id, case_id=case.id, detail=detail)
        except cases.CaseError as exc:
            return error_page(request, case_id, 409, str(exc), close_form=form)
        return None

    problem = await in_thread(request, work)
    if problem is not None:
        return problem
    done = "closed" if handed_back is None else ("closed_handed_back" if handed_back else "closed_not_handed_back")
    return see_other(f"/cases/{case_id}?done={done}")


@staff_page()
async def reply(request: Request, case_id: int) -> HTTPResponse:
    """Send the worker's reply to the person, on their own channel, through Rasa."""
    db, user = request.ctx.db, request.ctx.user
    text = (request.form.get("text") or "").strip()
    template = request.app.ctx.settings.twilio_whatsapp_template_sid

    def check():
        try:
            with db.begin():
                case = case_or_404(db, case_id)
                try:
                    sender_id = handoff.reply_target(case.id, user.id, text, session=db)
                except cases.CaseError as exc:
                    return None, None, render_case(request, case, status=409, error=str(exc))
                window = _window(request, sender_id)
                if window is not None and not window.open and not template:
                    raise _Refused(f"{WINDOW_RULE} {_last_message(window)} {WINDOW_REFUSED}")  # not a first response
                return sender_id, window, None
        except _Refused as refused:
            _record(request, "reply", case_id, "reply not sent: outside WhatsApp's 24-hour window, no template")
            return None, None, error_page(request, case_id, 409, str(refused), draft=text)

    sender_id, window, problem = await in_thread(request, check)
    if problem is not None:
        return problem
    try:
        await request.app.ctx.rasa.say(sender_id, text, user.display_name or user.username)
    except handoff.RasaUnavailable as exc:
        logger.warning("case %s: reply not delivered: %s", case_id, exc)

        def not_sent() -> HTTPResponse:
            _record(request, "reply", case_id, "reply not sent: assistant unreachable")
            return error_page(request, case_id, 502, REPLY_NOT_SENT, draft=text)

        return await in_thread(request, not_sent)
    if window is not None and not window.open:
        then = WINDOW_WAITING if window.invited else WINDOW_INVITED

        def held() -> HTTPResponse:
            _record(request, "reply", case_id, "reply held: outside WhatsApp's 24-hour window, " + (
                "they were already asked to reply" if window.invited else "template sent"))
            with db.begin():
                notice = ("warning", f"{WINDOW_RULE} {_last_message(window)} {then}")
                return render_case(request, case_or_404(db, case_id), notice=notice)

        return await in_thread(request, held)
    await in_thread(request, _record, request, "reply", case_id, "reply sent")
    return see_other(f"/cases/{case_id}?done=reply")


def register(app: Sanic) -> None:
    """Add the shift and live-chat routes to the console."""
    app.add_route(shift, "/shift", methods=["POST"], name="shift")
    app.add_route(claim, "/cases/<case_id:int>/claim", methods=["POST"], name="claim")
    app.add_route(close, "/cases/<case_id:int>/close", methods=["POST"], name="close")
    app.add_route(reply, "/cases/<case_id:int>/reply", methods=["POST"], name="reply")
