"""Conversation review: GET /review (conversations worth reading, with filters), GET /review/<ref>
(one conversation's transcript, tags and labels: every view audited), POST /review/<ref>/tag,
/review/<ref>/untag and /review/<ref>/label. Any logged-in staff member (worker or admin) may read
and tag (bot.insights.review). A conversation is named by its summary's random key, never by
its sender id (on SMS a phone number), in addresses and in the audit log."""
from __future__ import annotations

import logging
import math
from typing import Callable
from urllib.parse import urlencode

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot import conversations
from bot.console.web import in_thread, render, see_other, staff_page, tracker_engine
from bot.insights import review, summary
from bot.insights.labels import CHANNELS, channel_label
from bot.insights.models import REASONS, TAGS, ConversationSummary
from bot.staff import audit

logger = logging.getLogger(__name__)

# What the page says after a change, or why it was not made (codes in the URL, never what anyone typed).
DONE = {
    "tagged": ("ok", "Tag added."),
    "untagged": ("ok", "Tag taken off."),
    "labelled": ("ok", "Label saved: the message will be in the next export of training data."),
    "unlabelled": ("ok", "Label taken off."),
    "bad_tag": ("error", "Choose one of the tags listed, then add it."),
    "bad_intent": ("error", "Choose one of the intents listed for that message, then save it."),
    "gone": ("error", "That message is not in the conversation any more (it may have been erased): nothing was saved."),
}


def _fresh(request: Request, db: Session) -> None:
    """Bring the summaries up to date if they are a minute old (the page goes on if that fails)."""
    try:
        summary.ensure_fresh(tracker_engine=tracker_engine(request.app), session=db)
    except SQLAlchemyError as exc:
        db.rollback()
        logger.error("could not bring the conversation summaries up to date: %s", type(exc).__name__)


@staff_page()
async def review_list(request: Request) -> HTTPResponse:
    """The conversations to review, latest first, filtered."""
    db = request.ctx.db
    filters, problems = review.Filters.from_args({name: request.args.get(name) for name in request.args})

    def page() -> HTTPResponse:
        _fresh(request, db)
        with db.begin():
            rows, more = review.listing(filters, session=db)
        return render(
            request, "review.html", rows=rows, more=more, filters=filters, problems=problems, reasons=REASONS, tags=TAGS,
            channels=CHANNELS, channel_label=channel_label,
            newer=_page_url(filters, filters.page - 1) if filters.page > 1 else "", older=_page_url(filters, filters.page + 1) if more else "",
        )

    return await in_thread(request, page)


def _page_url(filters: review.Filters, page: int) -> str:
    query = filters.query(page)
    return "/review" + ("?" + urlencode(query) if query else "")


def _not_found(request: Request) -> HTTPResponse:
    return render(request, "error.html", status=404, title="No such conversation",
                  message="There is no conversation to review at that address. It may have been erased, or be past its retention period.")


def _transcript(request: Request, sender_id: str) -> tuple[list | None, set[float], str]:
    """(lines, the messages not understood, why there are no lines)."""
    try:
        engine = tracker_engine(request.app)
        if not conversations.has_conversations(engine):
            return None, set(), "No conversation is stored."
        lines = conversations.transcript(sender_id, engine=engine)
        missed = review.not_understood(sender_id, engine=engine)
    except SQLAlchemyError as exc:
        # Only the error's kind: its message can quote the sender id, a phone number on SMS.
        logger.error("could not read the tracker store: %s", type(exc).__name__)
        return None, set(), "The conversation could not be read just now: try again shortly."
    if not lines:
        return None, set(), "The conversation is no longer stored (erased, or past its retention period)."
    return lines, missed, ""


def _render_conversation(request: Request, found: ConversationSummary) -> HTTPResponse:
    """(In a thread, inside a transaction) the conversation's review page."""
    db = request.ctx.db
    lines, missed, problem = _transcript(request, found.sender_id)
    labels = review.labels_of(found.sender_id, session=db)
    return render(
        request, "review_conversation.html", summary=found, reasons=review.reasons_of(found), lines=lines,
        transcript_problem=problem, not_understood=missed, tags=review.tags_of(found.sender_id, session=db),
        label_of=lambda timestamp: review.label_for(labels, timestamp), intents=review.intents(), all_tags=TAGS,
        channel_label=channel_label, review_line=True, notice=DONE.get(request.args.get("done", "")),
    )


@staff_page()
async def review_conversation(request: Request, ref: str) -> HTTPResponse:
    """A conversation to review: its transcript (audited: "review_view" and the summary's key), tags and labels."""
    db, user = request.ctx.db, request.ctx.user

    def page() -> HTTPResponse:
        _fresh(request, db)
        with db.begin():
            found = review.find(ref, session=db)
            if found is None:
                return _not_found(request)
            audit.record("review_view", session=db, user_id=user.id, detail=f"conversation {found.ref}")
            return _render_conversation(request, found)

    return await in_thread(request, page)


def _change(name: str, change: Callable[[Session, ConversationSummary, Request], tuple[str, str]]) -> Callable:
    """A POST that changes a conversation's review: change(db, summary, request) returns
    (the audit detail, the outcome code for the page); nothing is audited when nothing changed."""

    async def handler(request: Request, ref: str) -> HTTPResponse:
        db, user = request.ctx.db, request.ctx.user

        def work() -> HTTPResponse:
            with db.begin():
                found = review.find(ref, session=db)
                if found is None:
                    return _not_found(request)
                detail, outcome = change(db, found, request)
                if detail:
                    audit.record(name, session=db, user_id=user.id, detail=f"conversation {found.ref}: {detail}")
            return see_other(f"/review/{ref}?done={outcome}")

        return await in_thread(request, work)

    handler.__name__ = f"review_{name}"
    return staff_page()(handler)


def _tag(db: Session, found: ConversationSummary, request: Request) -> tuple[str, str]:
    chosen = request.form.get("tag") or ""
    try:
        review.tag(found.sender_id, chosen, request.ctx.user.id, session=db)
    except review.ReviewError:
        return "", "bad_tag"
    return chosen, "tagged"


def _untag(db: Session, found: ConversationSummary, request: Request) -> tuple[str, str]:
    try:
        review_id = int(request.form.get("review_id") or "")
    except ValueError:
        return "", "untagged"
    taken = review.untag(found.sender_id, review_id, session=db)
    return (f"{taken} taken off", "untagged") if taken else ("", "untagged")


def _label(db: Session, found: ConversationSummary, request: Request) -> tuple[str, str]:
    intent = request.form.get("intent") or ""
    try:
        timestamp = float(request.form.get("timestamp") or "")
    except ValueError:
        return "", "gone"
    if not math.isfinite(timestamp):
        return "", "gone"
    try:
        review.label(found.sender_id, timestamp, intent, request.ctx.user.id, session=db, tracker_engine=tracker_engine(request.app))
    except review.ReviewError as exc:
        return "", "bad_intent" if exc.code == "intent" else "gone"
    return (f"a message labelled {intent}", "labelled") if intent else ("a message's label taken off", "unlabelled")


def register(app: Sanic) -> None:
    """Add the review routes to the console."""
    app.add_route(review_list, "/review", methods=["GET"], name="review_list")
    app.add_route(review_conversation, "/review/<ref:str>", methods=["GET"], name="review_conversation")
    app.add_route(_change("review_tag", _tag), "/review/<ref:str>/tag", methods=["POST"], name="review_tag")
    app.add_route(_change("review_untag", _untag), "/review/<ref:str>/untag", methods=["POST"], name="review_untag")
    app.add_route(_change("review_label", _label), "/review/<ref:str>/label", methods=["POST"], name="review_label")
