"""The service directory staff keep current (bot.directory.listing and .editing):

    GET  /directory                          search (name, organisation, area, need, state) and the entries due a check
    GET  /directory/entries/<id>             one entry, with its forms
    POST /directory/edit/<id>                correct its contact details          (workers and admins)
    POST /directory/verify/<id>              mark it checked against a source    (workers and admins)
    POST /directory/close/<id>, /directory/replace/<id>                           (admins)
    GET and POST /directory/new              add a service                       (admins)

Workers answer the phones and are first to find a number that has changed, so they may correct
contact details and record a check; closing, replacing and adding change what the assistant
offers and are for admins. Every change is audited (in bot.directory.editing). Bad input comes
back on the same form, filled in as it was sent, with what to write instead.
"""
from __future__ import annotations

from typing import Any, Callable
from urllib.parse import quote, unquote, urlencode

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from bot.console.web import in_thread, render, see_other, staff_page
from bot.directory import editing, listing, staff_edits
from bot.directory.models import STATES
from bot.directory.taxonomy import ELIGIBILITY, NEEDS
from bot.staff.models import ROLE_ADMIN, StaffUser

# What the entry page says after a change (codes in the URL: never what anyone typed).
DONE = {
    "edited": ("ok", "Contact details saved. A later import will not overwrite them with older details."),
    "unchanged": ("ok", "Nothing had changed, so nothing was saved."),
    "verified": ("ok", "Marked as checked today, by you."),
    "closed": ("ok", "Marked closed: the assistant no longer offers this entry."),
    "replaced": ("ok", "Marked replaced: the assistant now offers the entry that carries it on instead."),
    "added": ("ok", "Service added."),
}

# The forms' fields, as the pages name them (in a list of problems).
LABELS = {
    "description": "Description", "url": "Web address", "email": "Email", "phones": "Phone numbers",
    "opening_times": "Opening times", "address": "Address", "postcode": "Postcode", "name": "Name",
    "needs": "Needs", "eligibility": "Who it is for", "areas": "Areas served", "state": "State",
    "source": "Checked against", "successor": "Replaced by", "organisation": "Organisation",
    "organisation_name": "New organisation", "organisation_url": "Organisation's web address",
    "location_name": "Place", "area": "Area", "need": "Need",
}
MULTIPLE = ("needs", "eligibility")
ADD_FIELDS = ("organisation", "organisation_name", "organisation_url", "name", "description", "url", "email", "phones",
              "opening_times", "areas", "location_name", "address", "postcode", "source")


def entry_url(service_id: str, **args: str) -> str:
    return f"/directory/entries/{quote(service_id, safe='')}" + (f"?{urlencode(args)}" if args else "")


def action_url(action: str, service_id: str) -> str:
    return f"/directory/{action}/{quote(service_id, safe='')}"


def _who(user: StaffUser) -> str:
    return user.display_name or user.username


def _number(value: str | None) -> int:
    try:
        return max(1, int(value or "1"))
    except ValueError:
        return 1


def _form(request: Request, names: tuple[str, ...]) -> dict[str, Any]:
    """The posted fields (lists for the multiple choices), as sent."""
    values: dict[str, Any] = {name: (request.form.get(name) or "")[:5000] for name in names if name not in MULTIPLE}
    for name in MULTIPLE:
        if name in names:
            values[name] = [v[:100] for v in request.form.getlist(name) or []]
    return values


@staff_page()
async def directory_page(request: Request) -> HTTPResponse:
    """The search form and its results, and the entries due a check (oldest first)."""
    db = request.ctx.db
    filters = {name: (request.args.get(name) or "").strip()[:200] for name in ("q", "area", "need", "state")}
    searched = any(filters.values()) or "search" in request.args
    page, due_page = _number(request.args.get("page")), _number(request.args.get("due_page"))
    months = request.app.ctx.settings.directory_check_months

    def link(**changes: Any) -> str:
        args = {**filters, "page": page, "due_page": due_page, **({"search": "1"} if searched else {}), **changes}
        return "/directory?" + urlencode({k: v for k, v in args.items() if v not in ("", None)})

    def show() -> HTTPResponse:
        with db.begin():
            results, problems = None, {}
            if searched:
                try:
                    results = listing.find(db, text=filters["q"], area=filters["area"], need=filters["need"],
                                           state=filters["state"], page=page)
                except listing.BadFilter as exc:
                    problems = {exc.name: str(exc)}
            due = listing.due_for_check(db, months=months, page=due_page)
            return render(request, "directory.html", status=400 if problems else 200, filters=filters, results=results,
                          problems=problems, due=due, months=months, link=link, entry_url=entry_url, needs=NEEDS,
                          states=STATES, labels=LABELS)

    return await in_thread(request, show)


def entry_page(request: Request, service_id: str, *, status: int = 200, failed: str = "", problems: dict[str, str] | None = None,
               values: dict[str, Any] | None = None) -> HTTPResponse:
    """(In a thread) the entry's page; after a refused change, `failed` names the form that is
    shown again with `values` as sent and its `problems`."""
    db = request.ctx.db
    with db.begin():
        try:
            page = listing.entry(db, service_id)
        except LookupError:
            return render(request, "error.html", status=404, title="No such entry",
                          message="There is no directory entry with that id. Search the directory for it.")
        forms: dict[str, dict[str, Any]] = {"edit": editing.contact_values(page.service), "verify": {}, "close": {}, "replace": {}}
        if failed:
            forms[failed] = values or {}
        return render(request, "directory_entry.html", status=status, entry=page, s=page.service, forms=forms,
                      failed=failed, problems=problems or {}, labels=LABELS, entry_url=entry_url, action_url=action_url,
                      field_count=len(staff_edits.FIELDS),
                      notice=DONE.get(request.args.get("done", "")) if not failed else None)


@staff_page()
async def entry(request: Request, service_id: str) -> HTTPResponse:
    return await in_thread(request, entry_page, request, unquote(service_id))


Change = Callable[[Session, str, dict[str, Any], StaffUser], str]


def _change(name: str, fields: tuple[str, ...], change: Change, role: str | None = None) -> Callable:
    """A POST that changes an entry: change() returns what the page says after it (a DONE code)."""

    async def handler(request: Request, service_id: str) -> HTTPResponse:
        db, user = request.ctx.db, request.ctx.user
        service_id = unquote(service_id)
        values = _form(request, fields)

        def work() -> HTTPResponse:
            try:
                with db.begin():
                    done = change(db, service_id, values, user)
            except editing.EditError as exc:
                return entry_page(request, service_id, status=400, failed=name, problems=exc.problems, values=values)
            except LookupError:
                return entry_page(request, service_id)  # the 404 page
            return see_other(entry_url(service_id, done=done))

        return await in_thread(request, work)

    handler.__name__ = f"directory_{name}"
    return staff_page(role)(handler)


def _edit(db: Session, service_id: str, values: dict[str, Any], user: StaffUser) -> str:
    return "edited" if editing.edit_contact(db, service_id, values, user_id=user.id) else "unchanged"


def _verify(db: Session, service_id: str, values: dict[str, Any], user: StaffUser) -> str:
    editing.verify(db, service_id, by=_who(user), source=values.get("source"), user_id=user.id)
    return "verified"


def _close(db: Session, service_id: str, values: dict[str, Any], user: StaffUser) -> str:
    editing.close(db, service_id, by=_who(user), source=values.get("source"), user_id=user.id)
    return "closed"


def _replace(db: Session, service_id: str, values: dict[str, Any], user: StaffUser) -> str:
    editing.replace(db, service_id, values.get("successor"), by=_who(user), source=values.get("source"), user_id=user.id)
    return "replaced"


def _new_page(request: Request, *, status: int = 200, values: dict[str, Any] | None = None,
              problems: dict[str, str] | None = None) -> HTTPResponse:
    """(In a thread) the add-a-service form, filled in with `values` after a refusal."""
    db = request.ctx.db
    with db.begin():
        return render(request, "directory_new.html", status=status, values=values or {"needs": [], "eligibility": []},
                      problems=problems or {}, labels=LABELS, organisations=listing.organisations(db), needs=NEEDS,
                      eligibility=ELIGIBILITY)


@staff_page(role=ROLE_ADMIN)
async def new_form(request: Request) -> HTTPResponse:
    return await in_thread(request, _new_page, request)


@staff_page(role=ROLE_ADMIN)
async def add(request: Request) -> HTTPResponse:
    """Add a service; back to the form, filled in, if anything cannot be saved."""
    db, user = request.ctx.db, request.ctx.user
    values = _form(request, ADD_FIELDS + MULTIPLE)

    def work() -> HTTPResponse:
        try:
            with db.begin():
                service_id = editing.add_service(db, values, by=_who(user), user_id=user.id).id
        except editing.EditError as exc:
            return _new_page(request, status=400, values=values, problems=exc.problems)
        return see_other(entry_url(service_id, done="added"))

    return await in_thread(request, work)


def register(app: Sanic) -> None:
    """Add the directory's routes to the console."""
    app.add_route(directory_page, "/directory", methods=["GET"], name="directory")
    app.add_route(new_form, "/directory/new", methods=["GET"], name="directory_new_form")
    app.add_route(add, "/directory/new", methods=["POST"], name="directory_add")
    # Ids may hold ":" or "/" (an imported council's): links quote them, the handlers unquote them.
    app.add_route(entry, "/directory/entries/<service_id:path>", methods=["GET"], name="directory_entry")
    edit_fields = tuple(editing.CONTACT_INPUTS)
    for name, fields, change, role in (
        ("edit", edit_fields, _edit, None), ("verify", ("source",), _verify, None),
        ("close", ("source",), _close, ROLE_ADMIN), ("replace", ("successor", "source"), _replace, ROLE_ADMIN),
    ):
        app.add_route(_change(name, fields, change, role), f"/directory/{name}/<service_id:path>", methods=["POST"],
                      name=f"directory_{name}")
