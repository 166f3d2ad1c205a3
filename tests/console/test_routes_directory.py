"""/directory over HTTP: search and the entries due a check; workers correct contact details and
mark entries checked; admins also close, replace and add; every form needs its CSRF token, the
wrong role gets 403, and bad input comes back on the form as it was sent with what to fix."""
from __future__ import annotations

import re
from datetime import date

import pytest

from bot.directory.models import Service
from bot.directory.records import LocationRecord
from tests.support import directory_records as data
from tests.support.console import audit_rows, csrf_from, log_in, post

@pytest.fixture
def directory(session_for):
    with session_for() as s, s.begin():
        data.load(s, data.ALL + [data.record(
            "tees:centre/1", ["council:STT"], needs=["visiting"],
            locations=[LocationRecord(id="centre-place", name="The Centre", address="1 High St", postcode="TS18 1AB")],
        )])


def _service(session_for, service_id: str) -> Service:
    with session_for() as s:
        service = s.get(Service, service_id)
        [p.number for p in service.phones]  # loaded while the session is open
        return service


def test_a_worker_searches_and_sees_whats_due_a_check(console, make_user, directory):
    make_user("sam")
    client = log_in(console)
    page = client.get(console.url + "/directory")
    assert page.status_code == 200 and "Due a check" in page.text and 'href="/directory"' in page.text
    assert "Search results" not in page.text  # nothing asked yet
    assert page.text.index("durham-visitors") < page.text.index("tees:centre/1")  # oldest first, then by id
    assert "Add a service" not in page.text  # for admins

    found = client.get(console.url + "/directory", params={"q": "kinship", "area": "Stockton", "need": "kinship_care"})
    results = found.text.split('id="results-head"')[1].split('id="due-head"')[0]
    assert re.findall(r"<code>([^<]+)</code>", results) == ["stockton-kinship"]
    assert "1 entry, by name; page 1 of 1" in results

    bad = client.get(console.url + "/directory", params={"area": "Atlantis", "q": "<kin>"})
    assert bad.status_code == 400 and "No council, region or nation is called &#39;Atlantis&#39;" in bad.text
    assert 'value="&lt;kin&gt;"' in bad.text and 'value="Atlantis"' in bad.text  # what was typed stays, escaped


def test_a_worker_corrects_contact_details_and_marks_an_entry_checked(console, make_user, directory, session_for):
    sam = make_user("sam", name="Sam Smith")
    client = log_in(console)
    entry = "/directory/entries/tees%3Acentre%2F1"
    page = client.get(console.url + entry)
    assert page.status_code == 200 and "Service tees:centre/1" in page.text and 'action="/directory/edit/tees%3Acentre%2F1"' in page.text
    assert "Mark closed" not in page.text and "tell an admin" in page.text

    saved = post(client, console, "/directory/edit/tees%3Acentre%2F1", {
        "description": "Visits help.", "phones": "0191 000 0000\n0800 012 1539", "url": "www.example.org.uk", "email": "",
        "opening_times": "Mon-Fri 9-5", "address": "2 High St", "postcode": "TS18 1AB"}, page=entry)
    assert saved.url.endswith("?done=edited") and "Contact details saved." in saved.text
    assert f"{date.today().strftime('%d %b %Y')}: description, web address, phone numbers, opening times, address<br>" in saved.text
    service = _service(session_for, "tees:centre/1")
    assert (service.description, service.url, service.opening_times) == ("Visits help.", "www.example.org.uk", "Mon-Fri 9-5")
    assert [p.number for p in service.phones] == ["0191 000 0000", "0800 012 1539"]

    checked = post(client, console, "/directory/verify/tees%3Acentre%2F1", {"source": "https://example.org.uk/visits"}, page=entry)
    assert "Marked as checked today, by you." in checked.text and "by Sam Smith" in checked.text
    assert f"{date.today().strftime('%d %b %Y')}: every field<br>" in checked.text
    service = _service(session_for, "tees:centre/1")
    assert (service.state, service.verified_by, service.last_verified) == ("verified", "Sam Smith", date.today())
    assert [(a, u, d) for a, u, _, d in audit_rows(session_for)][-2:] == [
        ("directory_edited", sam, "tees:centre/1: description, url, phones, opening_times, address"),
        ("directory_verified", sam, f"tees:centre/1 checked {date.today().isoformat()}"),
    ]


def test_bad_input_comes_back_filled_in_with_what_to_fix(console, make_user, directory, session_for):
    make_user("sam")
    client = log_in(console)
    entry = "/directory/entries/stockton-kinship"
    refused = post(client, console, "/directory/edit/stockton-kinship", {
        "description": "Still runs", "phones": "0191 000 0000\n999999", "url": "ftp://files.example.org", "email": "a@b",
        "opening_times": "Tuesdays <b>late</b>"}, page=entry)
    assert refused.status_code == 400
    assert "This was not saved:" in refused.text and "Phone numbers: &#39;999999&#39; is not a UK phone number" in refused.text
    assert "Web address: The web address must start with https://" in refused.text and "Email: &#39;a@b&#39;" in refused.text
    assert 'value="ftp://files.example.org"' in refused.text and "0191 000 0000\n999999</textarea>" in refused.text
    assert 'value="Tuesdays &lt;b&gt;late&lt;/b&gt;"' in refused.text and 'aria-invalid="true"' in refused.text
    assert _service(session_for, "stockton-kinship").url is None  # nothing saved

    no_source = post(client, console, "/directory/verify/stockton-kinship", {"source": ""}, page=entry)
    assert no_source.status_code == 400 and "Checked against: What you checked it against" in no_source.text
    assert _service(session_for, "stockton-kinship").state == "unchecked"
    assert client.get(console.url + "/directory/entries/nowhere").status_code == 404


def test_closing_replacing_and_adding_are_for_admins(console, make_user, directory, session_for):
    make_user("sam")
    client = log_in(console)
    entry = "/directory/entries/stockton-kinship"
    for path, form in (("/directory/close/stockton-kinship", {"source": "x"}),
                       ("/directory/replace/stockton-kinship", {"successor": "ne-kinship", "source": "x"})):
        assert post(client, console, path, form, page=entry).status_code == 403
    assert client.get(console.url + "/directory/new").status_code == 403
    assert post(client, console, "/directory/new", {"name": "X"}, page="/directory").status_code == 403
    assert _service(session_for, "stockton-kinship").state == "unchecked"
    # Counted per reason and minute (bot.staff.audit.record_refusal): the add form's GET and POST share one row.
    assert sorted(d.split(";")[0] for a, _, _, d in audit_rows(session_for) if a == "refused") == [
        "admin page /directory/close/stockton-kinship opened by a worker", "admin page /directory/new opened by a worker",
        "admin page /directory/replace/stockton-kinship opened by a worker"]


def test_every_form_needs_its_csrf_token(console, make_user, directory, session_for):
    make_user("ann", role="admin")
    client = log_in(console, "ann")
    for path in ("/directory/edit/stockton-kinship", "/directory/verify/stockton-kinship", "/directory/close/stockton-kinship",
                 "/directory/replace/stockton-kinship", "/directory/new"):
        assert client.post(console.url + path, data={"source": "x", "description": "y"}).status_code == 403, path
    assert _service(session_for, "stockton-kinship").description == "What stockton-kinship does."


def test_an_admin_replaces_closes_and_adds(console, make_user, directory, session_for):
    ann = make_user("ann", role="admin", name="Ann Admin")
    client = log_in(console, "ann")
    entry = "/directory/entries/stockton-housing"

    circle = post(client, console, "/directory/replace/stockton-housing", {"successor": "stockton-housing", "source": "x"}, page=entry)
    assert circle.status_code == 400 and "An entry cannot replace itself" in circle.text and 'value="stockton-housing"' in circle.text
    replaced = post(client, console, "/directory/replace/stockton-housing", {"successor": "stockton-kinship", "source": "their site"}, page=entry)
    assert "Marked replaced" in replaced.text and "People are offered" in replaced.text
    assert (_service(session_for, "stockton-housing").state, _service(session_for, "stockton-housing").successor_id) == ("replaced", "stockton-kinship")

    refused = post(client, console, "/directory/close/stockton-kinship", {"source": "rang"}, page="/directory/entries/stockton-kinship")
    assert refused.status_code == 400 and "stockton-housing is replaced by this entry" in refused.text
    closed = post(client, console, "/directory/close/kent-county", {"source": "rang them"}, page="/directory/entries/kent-county")
    assert "Marked closed" in closed.text and _service(session_for, "kent-county").state == "closed"

    form = client.get(console.url + "/directory/new")
    assert form.status_code == 200 and "Grandparents and kinship carers" in form.text
    values = {"organisation": "", "organisation_name": "Tees Kin", "name": "Kin café", "description": "A café for kinship carers.",
              "phones": "01642 000222", "needs": ["kinship_care", "flying"], "areas": "Stockton-on-Tees", "csrf_token": csrf_from(form.text)}
    bad = client.post(console.url + "/directory/new", data=values)
    assert bad.status_code == 400 and "Needs: Choose need from the list." in bad.text
    assert 'value="Tees Kin"' in bad.text and ">A café for kinship carers.</textarea>" in bad.text
    assert re.search(r'value="kinship_care" checked', bad.text)
    added = client.post(console.url + "/directory/new", data={**values, "needs": ["kinship_care"], "source": "https://teeskin.example"})
    assert added.url.endswith("/directory/entries/kin-cafe?done=added") and "Service added." in added.text
    assert _service(session_for, "kin-cafe").state == "verified"
    assert [(a, u, d) for a, u, _, d in audit_rows(session_for) if a.startswith("directory_")] == [
        ("directory_replaced", ann, "stockton-housing replaced by stockton-kinship"),
        ("directory_closed", ann, "kent-county closed"),
        ("directory_added", ann, "kin-cafe added (verified)"),
    ]
