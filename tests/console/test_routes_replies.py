"""Saved replies over HTTP (bot/console/routes_replies.py): admins add, change and retire them,
workers read the library and search it, a bad form comes back filled in, every change is
audited (never the words), the live chat's search endpoint, and markup shown as text."""
from __future__ import annotations

import html

import requests
from sqlalchemy import select

from bot.staff.models import SavedReply
from tests.support.console import audit_rows, csrf_from, log_in, post

XSS = "<script>alert(1)</script>"


def _replies(session_for) -> list[SavedReply]:
    with session_for() as s:
        return list(s.execute(select(SavedReply).order_by(SavedReply.id)).scalars())


def _add(client, console, title: str, text: str, tags: str = "") -> requests.Response:
    return post(client, console, "/replies", {"title": title, "text": text, "tags": tags}, page="/replies")


def test_an_admin_adds_changes_and_retires_a_reply_and_each_change_is_audited(console, make_user, session_for):
    ada = make_user("ada", role="admin", name="Ada Admin")
    client = log_in(console, "ada")
    added = _add(client, console, "Visiting times", "Hello, I'm {worker}. Visits are booked online.", "Visits, Booking")
    assert added.status_code == 200 and added.url.endswith(f"/replies?done=added#reply-{_replies(session_for)[0].id}")
    assert "Saved reply added." in added.text and "Visiting times" in added.text and "visits, booking" in added.text
    (reply,) = _replies(session_for)
    assert (reply.title, reply.tags, reply.updated_by_id) == ("Visiting times", "visits,booking", ada)

    form = client.get(console.url + f"/replies/{reply.id}/edit")
    assert f"Change saved reply #{reply.id}" in form.text
    assert 'value="Visiting times"' in form.text and "Visits are booked online.</textarea>" in form.text
    assert 'value="visits, booking"' in form.text
    changed = post(client, console, f"/replies/{reply.id}", {"title": "Booking a visit", "text": reply.text, "tags": "visits"},
                   page=f"/replies/{reply.id}/edit")
    assert changed.url.endswith(f"?done=changed#reply-{reply.id}") and "Booking a visit" in changed.text
    retired = post(client, console, f"/replies/{reply.id}/retire", page="/replies")
    assert "Saved reply retired" in retired.text and "Retired replies (1)" in retired.text
    assert "In use (0)" in retired.text and not _replies(session_for)[0].active

    rows = [(a, u, d) for a, u, _, d in audit_rows(session_for) if a.startswith("reply_")]
    assert rows == [
        ("reply_added", ada, f"saved reply {reply.id}"),
        ("reply_changed", ada, f"saved reply {reply.id}; changed: title, tags"),
        ("reply_retired", ada, f"saved reply {reply.id}"),
    ]
    everything = " ".join(str(r) for r in audit_rows(session_for))
    assert "Visiting" not in everything and "booked online" not in everything


def test_a_form_that_cannot_be_saved_comes_back_filled_in_with_what_to_put_right(console, make_user, session_for):
    make_user("ada", role="admin")
    client = log_in(console, "ada")
    long_text = "Our visits team can help. " * 40  # over 1,000 characters
    refused = _add(client, console, "Visits", long_text, "Visits, Money")
    assert refused.status_code == 400 and "This reply was not saved" in refused.text
    assert "The text can be at most 1000 characters" in refused.text
    assert html.escape(long_text.strip(), quote=False) in refused.text  # nothing lost
    assert 'value="Visits"' in refused.text and 'value="Visits, Money"' in refused.text
    assert 'aria-invalid="true" aria-describedby="reply-body-problem"' in refused.text
    refused = _add(client, console, "", "Dear {name}", "")
    assert refused.status_code == 400 and "Give the reply a title" in refused.text and "take out {name}" in refused.text
    assert _replies(session_for) == []

    _add(client, console, "Visits", "Visits are booked online.")
    (reply,) = _replies(session_for)
    bad_change = post(client, console, f"/replies/{reply.id}", {"title": "Visits", "text": "", "tags": "new tag"},
                      page=f"/replies/{reply.id}/edit")
    assert bad_change.status_code == 400 and "These changes were not saved" in bad_change.text
    assert 'value="new tag"' in bad_change.text and "Write the reply&#39;s text" in bad_change.text
    assert _replies(session_for)[0].text == "Visits are booked online."
    assert [a for a, *_ in audit_rows(session_for) if a.startswith("reply_")] == ["reply_added"]

    assert client.get(console.url + "/replies/999/edit").status_code == 404
    assert post(client, console, "/replies/999/retire", page="/replies").status_code == 404
    post(client, console, f"/replies/{reply.id}/retire", page="/replies")
    assert client.get(console.url + f"/replies/{reply.id}/edit").status_code == 404
    again = post(client, console, f"/replies/{reply.id}", {"title": "Visits", "text": "Again", "tags": ""}, page="/replies")
    assert again.status_code == 409 and "was retired" in again.text and ">Again</textarea>" in again.text


def test_workers_read_and_search_the_library_but_cannot_change_it(console, make_user, session_for):
    make_user("ada", role="admin")
    sam = make_user("sam", name="Sam Smith")
    admin = log_in(console, "ada")
    _add(admin, console, "Visiting times", "Hi, I'm {worker}. Visits are booked online.", "visits")
    _add(admin, console, "Money for travel", "The Assisted Prison Visits Scheme can help.", "money")
    (visits, money) = _replies(session_for)
    worker = log_in(console, "sam")
    page = worker.get(console.url + "/replies")
    assert page.status_code == 200 and "Visiting times" in page.text and "Money for travel" in page.text
    assert 'action="/replies"' in page.text and 'method="post" action="/replies' not in page.text  # read-only
    assert "Add a saved reply" not in page.text and "Retire" not in page.text and "Admins keep this library" in page.text
    assert '<a href="/replies" aria-current="page">Saved replies</a>' in page.text

    before = len(audit_rows(session_for))
    html_csrf = csrf_from(worker.get(console.url + "/").text)
    for path in ("/replies", f"/replies/{visits.id}", f"/replies/{visits.id}/retire"):
        refused = worker.post(console.url + path, data={"title": "Hacked", "text": "Hacked", "tags": "", "csrf_token": html_csrf})
        assert refused.status_code == 403, path
    assert worker.get(console.url + f"/replies/{visits.id}/edit").status_code == 403
    assert [(r.title, r.active) for r in _replies(session_for)] == [("Visiting times", True), ("Money for travel", True)]
    refusals = [(a, u, d) for a, u, _, d in audit_rows(session_for)[before:]]
    assert refusals and all(a == "refused" and u == sam and "opened by a worker" in d for a, u, d in refusals)

    # The way without script: matches, with the worker's name filled in, ready to copy.
    found = worker.get(console.url + "/replies", params={"q": "BOOKED visit"})
    assert "Replies matching “BOOKED visit”" in found.text
    assert "Hi, I&#39;m Sam Smith. Visits are booked online." in found.text
    matches = found.text.split('id="matches-heading"')[1].split("</section>")[0]
    assert "Money for travel" not in matches
    assert "No saved reply matches" in worker.get(console.url + "/replies", params={"q": "bananas"}).text


def test_the_search_endpoint_fills_in_the_worker_needs_a_login_and_is_not_audited(console, make_user, session_for):
    make_user("ada", role="admin")
    make_user("sam", name="Sam Smith")
    _add(log_in(console, "ada"), console, "Visiting times", "Hi, I'm {worker}.", "visits, booking")
    (reply,) = _replies(session_for)
    worker = log_in(console, "sam")
    before = audit_rows(session_for)
    found = worker.get(console.url + "/replies/search.json", params={"q": "VISIT tim"})
    assert found.status_code == 200 and found.headers["Content-Type"].startswith("application/json")
    assert found.json() == {"replies": [{"id": reply.id, "title": "Visiting times", "tags": ["visits", "booking"],
                                         "text": "Hi, I'm Sam Smith."}]}
    assert worker.get(console.url + "/replies/search.json", params={"q": "nothing like it"}).json() == {"replies": []}
    assert worker.get(console.url + "/replies/search.json").json() == {"replies": []}
    assert found.headers["Cache-Control"] == "no-store"
    assert audit_rows(session_for) == before  # the team's own wording: reading it is not audited

    stranger = requests.get(console.url + "/replies/search.json", params={"q": "visit"}, allow_redirects=False)
    assert stranger.status_code == 401 and "Hi," not in stranger.text
    assert requests.get(console.url + "/replies", allow_redirects=False).headers["Location"] == "/login"


def test_markup_in_a_reply_is_shown_as_text(console, make_user, session_for):
    make_user("ada", role="admin")
    client = log_in(console, "ada")
    _add(client, console, XSS, f"Careful: {XSS}", "")
    page = client.get(console.url + "/replies")
    assert XSS not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    found = client.get(console.url + "/replies", params={"q": "script"})
    assert XSS not in found.text and found.text.count("&lt;script&gt;") >= 3
    assert client.get(console.url + "/replies/search.json", params={"q": "alert"}).json()["replies"][0]["title"] == XSS


def test_the_live_chat_has_the_saved_reply_search_beside_the_reply_box(console, fake_rasa, make_user, make_live, make_callback):
    make_user("sam")
    live, callback = make_live("live-replies"), make_callback()
    client = log_in(console)
    assert "Find a saved reply" not in client.get(console.url + f"/cases/{live}").text  # not joined yet
    post(client, console, f"/cases/{live}/claim")
    page = client.get(console.url + f"/cases/{live}").text
    assert 'data-search-url="/replies/search.json" data-target="reply-text"' in page
    assert '<label for="reply-find">Find a saved reply</label>' in page and 'action="/replies" target="_blank"' in page
    assert '<script src="/static/replies.js" defer></script>' in page and 'id="reply-text"' in page
    assert "Find a saved reply" not in client.get(console.url + f"/cases/{callback}").text
    script = client.get(console.url + "/static/replies.js")
    assert script.status_code == 200 and "textContent" in script.text and "innerHTML" not in script.text
