"""Saved replies: GET /replies (everyone reads the library and searches it; admins also add,
change and retire replies there), POST /replies, GET /replies/<id>/edit, POST /replies/<id>
and /replies/<id>/retire (admins), and GET /replies/search.json?q= (the live chat's "Find a
saved reply" box, bot/console/static/replies.js). The rules are bot.staff.replies'.

Reading the library is not audited: it is the team's own wording, not anyone's personal data.
Every change is (by the reply's id and which fields changed, never the words).
"""
from __future__ import annotations

from typing import Any

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.console.web import in_thread, render, see_other, staff_page
from bot.staff import replies
from bot.staff.accounts import is_admin
from bot.staff.models import ROLE_ADMIN, SavedReply

# What the page says after a change (codes in the URL: never what anyone typed).
DONE = {"added": "Saved reply added.", "changed": "Saved reply changed.", "retired": "Saved reply retired: workers no longer see it."}


def _worker(request: Request) -> str:
    """The name a reply's {worker} becomes: the worker's display name, as their replies are signed."""
    user = request.ctx.user
    return user.display_name or user.username


def _form(request: Request) -> dict[str, str]:
    """What the admin typed, as typed (shown again in full when it cannot be saved)."""
    return {name: (request.form.get(name) or "")[:20_000] for name in ("title", "text", "tags")}


def _page(request: Request, *, status: int = 200, editing: SavedReply | None = None, form: dict[str, str] | None = None,
          problems: dict[str, str] | None = None, q: str = "") -> HTTPResponse:
    """(In a thread, inside a transaction) the library: search matches, the admin's form, the replies."""
    db = request.ctx.db
    matches = [(reply, replies.fill(reply.text, _worker(request))) for reply in replies.find(q, session=db, limit=20)]
    if form is None:
        form = {"title": editing.title, "text": editing.text, "tags": ", ".join(editing.tags.split(","))} if editing else {}
    return render(
        request, "replies.html", status=status, replies=replies.list_replies(session=db),
        retired=replies.list_replies(session=db, retired=True) if is_admin(request.ctx.user) else [], q=q, matches=matches, editing=editing,
        form=form, problems=problems or {}, notice=DONE.get(request.args.get("done", "")),
        limits={"title": replies.MAX_TITLE_CHARS, "text": replies.MAX_TEXT_CHARS}, placeholder=replies.PLACEHOLDER,
    )


def _not_found(request: Request, message: str) -> HTTPResponse:
    return render(request, "error.html", status=404, title="No such saved reply", message=message)


@staff_page()
async def library(request: Request) -> HTTPResponse:
    """The saved replies (read-only for workers), with matches for ?q= (the no-script way to find one)."""
    q = (request.args.get("q") or "")[: replies.MAX_QUERY_CHARS].strip()

    def page() -> HTTPResponse:
        with request.ctx.db.begin():
            return _page(request, q=q)

    return await in_thread(request, page)


@staff_page(role=ROLE_ADMIN)
async def add(request: Request) -> HTTPResponse:
    """Add a reply; a form that cannot be saved comes back filled in, with what to put right."""
    db, user = request.ctx.db, request.ctx.user
    form = _form(request)

    def work() -> tuple[int | None, HTTPResponse | None]:
        with db.begin():
            try:
                return replies.create(form["title"], form["text"], form["tags"], user_id=user.id, session=db).id, None
            except replies.ReplyError as exc:
                problems = exc.problems
        with db.begin():
            return None, _page(request, status=400, form=form, problems=problems)

    reply_id, problem = await in_thread(request, work)
    return problem or see_other(f"/replies?done=added#reply-{reply_id}")


@staff_page(role=ROLE_ADMIN)
async def edit(request: Request, reply_id: int) -> HTTPResponse:
    """The library with one reply's text in the form, to change it."""

    def page() -> HTTPResponse:
        with request.ctx.db.begin():
            reply = request.ctx.db.get(SavedReply, reply_id)
            if reply is None or not reply.active:
                return _not_found(request, "There is no saved reply in use with that number.")
            return _page(request, editing=reply)

    return await in_thread(request, page)


@staff_page(role=ROLE_ADMIN)
async def change(request: Request, reply_id: int) -> HTTPResponse:
    """Save a changed reply; a form that cannot be saved comes back as typed, with what to put right."""
    db, user = request.ctx.db, request.ctx.user
    form = _form(request)

    def work() -> HTTPResponse | None:
        with db.begin():
            try:
                replies.update(reply_id, form["title"], form["text"], form["tags"], user_id=user.id, session=db)
                return None
            except replies.ReplyError as exc:
                problems = exc.problems
        with db.begin():
            reply = db.get(SavedReply, reply_id)
            if reply is None:
                return _not_found(request, "There is no saved reply with that number.")
            return _page(request, status=400 if reply.active else 409, editing=reply, form=form, problems=problems)

    problem = await in_thread(request, work)
    return problem or see_other(f"/replies?done=changed#reply-{reply_id}")


@staff_page(role=ROLE_ADMIN)
async def retire(request: Request, reply_id: int) -> HTTPResponse:
    """Take a reply out of use (kept, so the audit log still makes sense)."""
    db, user = request.ctx.db, request.ctx.user

    def work() -> HTTPResponse | None:
        with db.begin():
            try:
                replies.retire(reply_id, user_id=user.id, session=db)
            except replies.ReplyError:
                return _not_found(request, "There is no saved reply with that number.")
        return None

    problem = await in_thread(request, work)
    return problem or see_other("/replies?done=retired")


@staff_page(background=True)
async def search(request: Request) -> HTTPResponse:
    """Replies matching ?q= as JSON, their {worker} filled with this worker's name (not audited:
    the team's own wording)."""
    q = request.args.get("q") or ""

    def found() -> list[dict[str, Any]]:
        with request.ctx.db.begin():
            return [
                {"id": reply.id, "title": reply.title, "tags": replies.split_tags(reply.tags),
                 "text": replies.fill(reply.text, _worker(request))}
                for reply in replies.find(q, session=request.ctx.db)
            ]

    return response.json({"replies": await in_thread(request, found)})


def register(app: Sanic) -> None:
    """Add the saved replies' routes to the console."""
    app.add_route(library, "/replies", methods=["GET"], name="replies")
    app.add_route(add, "/replies", methods=["POST"], name="reply_add")
    app.add_route(search, "/replies/search.json", methods=["GET"], name="reply_search")
    app.add_route(edit, "/replies/<reply_id:int>/edit", methods=["GET"], name="reply_edit")
    app.add_route(change, "/replies/<reply_id:int>", methods=["POST"], name="reply_change")
    app.add_route(retire, "/replies/<reply_id:int>/retire", methods=["POST"], name="reply_retire")
