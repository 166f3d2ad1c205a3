"""A concern for someone inside, on the case page: POST /cases/<id>/concern-passed records that
a worker passed it to the prison (how, with an optional short note), once (bot.referrals.concern).

The case page shows the concern through the template `_concern.html` (included by case.html),
which reads it with the `concern_view` template global this module adds.
"""
from __future__ import annotations

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.console.case_page import case_or_404, error_page
from bot.console.web import in_thread, see_other, staff_page
from bot.referrals import cases, concern


@staff_page()
async def concern_passed(request: Request, case_id: int) -> HTTPResponse:
    """Record that the concern was passed to the prison (audited as concern_passed)."""
    db, user = request.ctx.db, request.ctx.user
    how = request.form.get("how") or ""
    note = request.form.get("note") or ""

    def work() -> HTTPResponse | None:
        try:
            with db.begin():
                case = case_or_404(db, case_id)
                concern.record_passed(case.id, user.id, how, note=note, session=db)
        except cases.CaseError as exc:
            return error_page(request, case_id, 409, str(exc), concern_form={"how": how, "note": note})
        return None

    problem = await in_thread(request, work)
    return problem or see_other(f"/cases/{case_id}?done=concern_passed#concern")


def register(app: Sanic) -> None:
    """Add the concern's route, and what the case page's concern section reads."""
    app.ctx.templates.globals.update(concern_view=concern.view, concern_ways=concern.PASSED_HOW)
    app.add_route(concern_passed, "/cases/<case_id:int>/concern-passed", methods=["POST"], name="concern_passed")
