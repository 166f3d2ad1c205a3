"""Statistics: GET /stats and /stats.csv, anonymous counts (bot.usage, drawn by bot.console.stats)."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from bot import conversations, usage
from bot.console import stats
from bot.console.web import in_thread, render, staff_page, tracker_engine
from bot.db import make_engine
from bot.staff import audit


def _usage_rows(app: Sanic, db: Session) -> list[usage.UsageRow]:
    tracker = tracker_engine(app)
    if not conversations.has_conversations(tracker):
        # Rasa has not stored a conversation yet: count the cases and kept counts only
        tracker = make_engine("sqlite://")
        conversations.create_table(tracker)
    return usage.usage(tracker_engine=tracker, session=db)


def _filter_detail(filters: stats.Filters) -> str:
    chosen = sorted(filters.query())
    return "filters: " + ", ".join(chosen) if chosen else "no filters"


@staff_page()
async def stats_page(request: Request) -> HTTPResponse:
    """The statistics page, filtered (audited with the filters' names, not their values)."""
    db, user = request.ctx.db, request.ctx.user
    filters = stats.Filters.from_args(request.args)

    def page() -> HTTPResponse:
        with db.begin():
            report = stats.build(_usage_rows(request.app, db), filters)
            audit.record("view_stats", session=db, user_id=user.id, detail=_filter_detail(filters))
        return render(request, "stats.html", report=report, csv_url="/stats.csv" + ("?" + urlencode(filters.query()) if filters.query() else ""))

    return await in_thread(request, page)


@staff_page()
async def stats_csv(request: Request) -> HTTPResponse:
    """The same counts as CSV (audited)."""
    db, user = request.ctx.db, request.ctx.user
    filters = stats.Filters.from_args(request.args)

    def build() -> str:
        with db.begin():
            body = stats.to_csv(_usage_rows(request.app, db), filters)
            audit.record("export_stats", session=db, user_id=user.id, detail=_filter_detail(filters))
        return body

    body = await in_thread(request, build)
    return response.text(
        body, content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="families-connect-usage-{datetime.utcnow():%Y-%m-%d}.csv"'},
    )


def register(app: Sanic) -> None:
    """Add the statistics routes to the console."""
    app.add_route(stats_page, "/stats", methods=["GET"], name="stats_page")
    app.add_route(stats_csv, "/stats.csv", methods=["GET"], name="stats_csv")
