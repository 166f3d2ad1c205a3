"""Statistics: GET /stats and /stats.csv, the measures a helpline reports (bot.insights.measures),
protected against singling anyone out (bot.insights.disclosure), drawn by bot.console.stats.

A view never reads the tracker store's events: it brings the conversation summaries up to date
(bot.insights.summary.ensure_fresh reads only the events since the last read, and only when
that was over a minute ago), then adds up summaries and cases in the database.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime
from urllib.parse import urlencode

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.console import stats
from bot.console.web import in_thread, render, staff_page, tracker_engine
from bot.insights import measures, summary
from bot.insights.labels import NOT_GIVEN, channel_label
from bot.staff import audit

logger = logging.getLogger(__name__)

# How long the filters' lists of councils, topics and so on are kept before being read again.
CHOICES_SECONDS = 300


def _refresh(request: Request, db: Session) -> None:
    """Bring the summaries up to date if they are over a minute old (summary.ensure_fresh: a
    few seconds at most; the retention schedule does the rest). Commits: no transaction open."""
    try:
        summary.ensure_fresh(tracker_engine=tracker_engine(request.app), session=db)
    except SQLAlchemyError as exc:  # the figures as they stand are still worth showing
        db.rollback()
        logger.warning("statistics: summaries not brought up to date (%s)", type(exc).__name__)


def _choices(app: Sanic, db: Session) -> dict[str, list[str]]:
    """What the filters offer (councils, topics, audiences, channels), read again every
    CHOICES_SECONDS: a council new this minute can wait that long to be offered."""
    read_at, choices = app.ctx.stats_choices
    if choices is None or time.monotonic() - read_at > CHOICES_SECONDS:
        choices = measures.options(session=db)
        app.ctx.stats_choices = (time.monotonic(), choices)
    return choices


def _report(request: Request, db: Session, filters: measures.Filters) -> stats.Report:
    found = measures.measure(filters, session=db, targets=measures.targets(request.app.ctx.settings),
                             choices=_choices(request.app, db))
    return stats.build(found)


def _filter_detail(filters: measures.Filters) -> str:
    chosen = sorted(filters.query())
    return "filters: " + ", ".join(chosen) if chosen else "no filters"


@staff_page()
async def stats_page(request: Request) -> HTTPResponse:
    """The statistics page, filtered (audited with the filters' names, not their values)."""
    db, user = request.ctx.db, request.ctx.user
    filters = stats.filters_from_args(request.args)
    query = filters.query()

    def page() -> HTTPResponse:
        _refresh(request, db)
        with db.begin():
            report = _report(request, db, filters)
            audit.record("view_stats", session=db, user_id=user.id, detail=_filter_detail(filters))
        return render(request, "stats.html", report=report, csv_url="/stats.csv" + ("?" + urlencode(query) if query else ""),
                      channel_label=channel_label, audience_label=lambda a: a or NOT_GIVEN, minutes_text=stats.minutes_text,
                      retention_days=request.app.ctx.settings.conversation_retention_days)

    return await in_thread(request, page)


@staff_page()
async def stats_csv(request: Request) -> HTTPResponse:
    """The page's figures as CSV, protected the same way (audited)."""
    db, user = request.ctx.db, request.ctx.user
    filters = stats.filters_from_args(request.args)

    def build() -> str:
        _refresh(request, db)
        with db.begin():
            body = stats.to_csv(_report(request, db, filters))
            audit.record("export_stats", session=db, user_id=user.id, detail=_filter_detail(filters))
        return body

    body = await in_thread(request, build)
    return response.text(
        body, content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="families-connect-usage-{datetime.utcnow():%Y-%m-%d}.csv"'},
    )


def register(app: Sanic) -> None:
    """Add the statistics routes to the console."""
    app.ctx.stats_choices = (0.0, None)
    app.add_route(stats_page, "/stats", methods=["GET"], name="stats_page")
    app.add_route(stats_csv, "/stats.csv", methods=["GET"], name="stats_csv")
