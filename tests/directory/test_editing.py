"""Staff keep the directory current (bot.directory.editing): contact details checked and saved,
an entry marked checked, closed or replaced (never in a circle), a service added with the Open
Referral UK fields we hold; each change noted for later imports and audited without values."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.directory import areas, editing, search, staff_edits
from bot.directory.models import CLOSED, REPLACED, UNCHECKED, VERIFIED, Location, Organization, Service, StaffEdit
from bot.directory.records import LocationRecord
from bot.staff.models import AuditEntry
from tests.support import directory_records as data

STOCKTON = "council:STT"


def audit(s) -> list[tuple[str, str]]:
    return [(e.action, e.detail) for e in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]


def stamped(s, service_id: str) -> dict[str, date]:
    return {row.field: row.staff_on for row in s.execute(select(StaffEdit).where(StaffEdit.service_id == service_id)).scalars()}


@pytest.fixture
def loaded(session_for):
    with session_for() as s, s.begin():
        data.load(s, data.ALL + [data.record(
            "stockton-centre", [STOCKTON], needs=["visiting"], phone="0808 80 10 800",
            locations=[LocationRecord(id="stockton-centre-place", name="The Centre", address="1 High St, Stockton", postcode="TS18 1AB")],
        )])
    return session_for


def test_contact_details_are_checked_saved_noted_and_audited_without_their_values(loaded):
    form = {"description": "Drop-in for kinship carers,  Tuesdays.", "url": "https://www.example.org.uk/kin",
            "email": "kin@example.org.uk", "phones": "0808 80 10 800\n01642 000111\n116 123", "opening_times": "Tue 10am-2pm",
            "address": "2 High St\nStockton", "postcode": "ts18 1ab"}
    with loaded() as s, s.begin():
        changed = editing.edit_contact(s, "stockton-centre", form, user_id=None)
    assert changed == ["description", "url", "email", "phones", "opening_times", "address"]  # the postcode is the same
    with loaded() as s:
        service = s.get(Service, "stockton-centre")
        assert (service.description, service.url, service.email, service.opening_times) == (
            "Drop-in for kinship carers, Tuesdays.", "https://www.example.org.uk/kin", "kin@example.org.uk", "Tue 10am-2pm")
        # The number already there keeps how it was written; new ones are in the usual format.
        assert [p.number for p in service.phones] == ["0808 80 10 800", "01642 000111", "116 123"]
        assert (s.get(Location, "stockton-centre-place").address, s.get(Location, "stockton-centre-place").postcode) == ("2 High St, Stockton", "TS18 1AB")
        assert stamped(s, "stockton-centre") == {name: date.today() for name in changed}
        assert audit(s) == [("directory_edited", "stockton-centre: description, url, email, phones, opening_times, address")]
    # The same form again changes nothing and writes nothing.
    with loaded() as s, s.begin():
        assert editing.edit_contact(s, "stockton-centre", form, user_id=None) == []
    with loaded() as s:
        assert len(audit(s)) == 1


def test_bad_contact_details_are_all_named_and_nothing_is_saved(loaded):
    form = {"description": "x" * 301, "url": "javascript:alert(1)", "email": "kin at example", "phones": "0808 80 10 800\n12345",
            "opening_times": "", "address": "", "postcode": "TS18"}
    with loaded() as s, s.begin(), pytest.raises(editing.EditError) as raised:
        editing.edit_contact(s, "stockton-centre", form, user_id=None)
    problems = raised.value.problems
    assert set(problems) == {"description", "url", "email", "phones", "postcode"}
    assert problems["description"] == "A description is 301 characters long; make it 300 or fewer."
    assert problems["url"] == "The web address must start with https:// or http:// (or just www.)."
    assert "'12345' is not a UK phone number" in problems["phones"] and "'TS18' is not a UK postcode" in problems["postcode"]
    assert "not an email address" in problems["email"]
    for url in ("ftp://example.org/file", "http://", "not a site"):
        with pytest.raises(editing._Bad):
            editing.clean_url(url)
    assert editing.clean_url("www.nepacs.co.uk") == "www.nepacs.co.uk"  # as the seed writes them
    with loaded() as s:
        assert s.get(Service, "stockton-centre").description == "What stockton-centre does." and audit(s) == []
    with loaded() as s, s.begin(), pytest.raises(LookupError):
        editing.edit_contact(s, "no-such-entry", form, user_id=None)


def test_a_prisons_address_comes_from_the_register_and_is_not_edited_here(loaded):
    with loaded() as s, s.begin():
        assert editing.contact_values(s.get(Service, "durham-visitors"))["address"] == ""
        editing.edit_contact(s, "durham-visitors", {"description": "Visitors' centre.", "phones": "0191 000 0000",
                                                    "address": "Somewhere else", "postcode": "DH1 1AA"}, user_id=None)
    with loaded() as s:
        assert s.get(Location, "prison-DMI").address == "Old Elvet, Durham"


def test_marking_checked_records_who_when_and_against_what(loaded):
    with loaded() as s, s.begin(), pytest.raises(editing.EditError) as raised:
        editing.verify(s, "stockton-kinship", by="Sam Smith", source="  ", user_id=None)
    assert raised.value.problems == {"source": "What you checked it against (a web address, a document or a call) is needed."}
    with loaded() as s, s.begin():
        editing.verify(s, "stockton-kinship", by="Sam Smith", source="https://www.stockton.gov.uk/kinship", user_id=None)
    with loaded() as s:
        service = s.get(Service, "stockton-kinship")
        assert (service.state, service.last_verified, service.verified_by, service.checked_source) == (
            VERIFIED, date.today(), "Sam Smith", "https://www.stockton.gov.uk/kinship")
        assert set(stamped(s, "stockton-kinship")) == set(staff_edits.FIELDS)  # a check vouches for every field
        assert audit(s) == [("directory_verified", f"stockton-kinship checked {date.today().isoformat()}")]


def test_closing_takes_an_entry_out_of_answers_but_not_one_another_entry_leads_to(loaded):
    stockton = areas.find_council("Stockton")
    with loaded() as s, s.begin():
        editing.replace(s, "stockton-housing", "stockton-kinship", by="Ann Admin", source="their newsletter", user_id=None)
    with loaded() as s, s.begin(), pytest.raises(editing.EditError) as raised:
        editing.close(s, "stockton-kinship", by="Ann Admin", source="rang them", user_id=None)
    assert raised.value.problems["state"].startswith("stockton-housing is replaced by this entry.")
    with loaded() as s, s.begin():
        editing.close(s, "stockton-centre", by="Ann Admin", source="rang them: it stopped in May", user_id=None)
    with loaded() as s:
        service = s.get(Service, "stockton-centre")
        assert (service.state, service.status, service.last_verified, service.checked_source) == (
            CLOSED, "inactive", date.today(), "rang them: it stopped in May")
        assert "stockton-centre" not in {f.id for f in search.search_services(s, council=stockton, need="visiting", limit=50).results}
        assert audit(s)[-1] == ("directory_closed", "stockton-centre closed")
    with loaded() as s, s.begin(), pytest.raises(editing.EditError, match="already closed"):
        editing.close(s, "stockton-centre", by="Ann Admin", source="again", user_id=None)


def test_a_replacement_must_exist_be_another_entry_lead_somewhere_offered_and_never_go_round(loaded):
    with loaded() as s, s.begin():
        editing.close(s, "kent-county", by="Ann", source="gone", user_id=None)
        editing.replace(s, "ne-kinship", "national-kinship", by="Ann", source="merged", user_id=None)
    cases = {
        "stockton-kinship": "An entry cannot replace itself",
        "": "Give the id of the entry",
        "nowhere": "There is no entry with the id 'nowhere'.",
        "kent-county": "kent-county is closed",
    }
    for successor, problem in cases.items():
        with loaded() as s, s.begin(), pytest.raises(editing.EditError) as raised:
            editing.replace(s, "stockton-kinship", successor, by="Ann", source="x", user_id=None)
        assert raised.value.problems["successor"].startswith(problem), successor
    # national-kinship -> ne-kinship would close a circle (ne-kinship is already replaced by it).
    with loaded() as s, s.begin(), pytest.raises(editing.EditError) as raised:
        editing.replace(s, "national-kinship", "ne-kinship", by="Ann", source="x", user_id=None)
    assert "circle" in raised.value.problems["successor"]
    # A pasted page address is read as the id.
    with loaded() as s, s.begin():
        editing.replace(s, "stockton-kinship", "https://console.example/directory/entries/ne-kinship", by="Ann", source="x", user_id=None)
    with loaded() as s:
        assert (s.get(Service, "stockton-kinship").state, s.get(Service, "stockton-kinship").successor_id) == (REPLACED, "ne-kinship")
        assert search.current_successor(s, "stockton-kinship").id == "national-kinship"  # along the chain
        assert [a for a in audit(s) if a[0] == "directory_replaced"][-1] == ("directory_replaced", "stockton-kinship replaced by ne-kinship")


def test_adding_a_service_with_the_open_referral_fields(loaded):
    form = {"organisation": "", "organisation_name": "Tees Kinship Network", "organisation_url": "https://teeskin.org.uk",
            "name": "Kinship carers' drop-in", "description": "A weekly drop-in for grandparents raising grandchildren.",
            "phones": "01642 000222", "url": "", "email": "", "opening_times": "Wed 10am-12pm",
            "needs": ["kinship_care", "emotional_support"], "eligibility": ["grandparents_kinship_carers"],
            "areas": "Stockton-on-Tees\nNorth East", "location_name": "", "address": "Library, Church Road", "postcode": "TS18 1TU",
            "source": "https://teeskin.org.uk/dropin"}
    with loaded() as s, s.begin():
        service = editing.add_service(s, form, by="Ann Admin", user_id=None)
        assert service.id == "kinship-carers-drop-in"
    with loaded() as s:
        service = s.get(Service, "kinship-carers-drop-in")
        assert service.organization.name == "Tees Kinship Network" and service.organization.url == "https://teeskin.org.uk"
        assert (service.state, service.verified_by, service.checked_source, service.last_verified) == (
            VERIFIED, "Ann Admin", "https://teeskin.org.uk/dropin", date.today())
        assert sorted(t.id for t in service.taxonomy_terms) == ["emotional_support", "kinship_care"]
        assert sorted(a.area_key for a in service.areas) == ["council:STT", "region:North East"]
        assert service.suits_family and not service.professionals_only
        location = service.locations[0].location
        assert (location.name, location.address, location.postcode, location.council_code) == (
            "Kinship carers' drop-in", "Library, Church Road", "TS18 1TU", "STT")
        assert set(stamped(s, service.id)) == set(staff_edits.FIELDS)
        assert audit(s)[-1] == ("directory_added", "kinship-carers-drop-in added (verified)")
        found = search.search_services(s, council=areas.find_council("Stockton"), need="kinship_care", audience="family")
        assert found.results[0].id == "kinship-carers-drop-in"
    # The same name again, under an existing organisation and not yet checked: a new id, unchecked.
    with loaded() as s, s.begin():
        again = editing.add_service(s, {**form, "organisation": "org-stockton-kinship", "source": ""}, by="Ann", user_id=None)
        assert (again.id, again.state, again.organization_id) == ("kinship-carers-drop-in-2", UNCHECKED, "org-stockton-kinship")
        assert s.get(Organization, "org-stockton-kinship").name == "Org stockton-kinship"


def test_a_new_service_with_problems_names_them_all_and_adds_nothing(loaded):
    form = {"organisation": "", "organisation_name": "", "name": "", "description": "", "phones": "", "url": "", "email": "",
            "needs": ["flying"], "eligibility": [], "areas": "Atlantis", "postcode": "nope"}
    with loaded() as s, s.begin(), pytest.raises(editing.EditError) as raised:
        editing.add_service(s, form, by="Ann", user_id=None)
    assert set(raised.value.problems) == {"organisation", "name", "description", "needs", "areas", "postcode"}
    assert raised.value.problems["areas"].startswith("'Atlantis' is not a UK council")
    ok = {"organisation": "org-stockton-kinship", "name": "A", "description": "B", "needs": ["housing"], "areas": "uk"}
    with loaded() as s, s.begin(), pytest.raises(editing.EditError) as raised:
        editing.add_service(s, ok, by="Ann", user_id=None)
    assert raised.value.problems == {"phones": "Give at least one way to reach the service: a phone number, a web address or an email."}
    with loaded() as s:
        assert s.get(Service, "a") is None and not [a for a in audit(s) if a[0] == "directory_added"]


def test_uk_phone_numbers_of_every_kind_a_service_has(loaded):
    assert editing.uk_phone("0808 80 10 800") == "0808 801 0800"
    assert editing.uk_phone("+44 300 063 2100") == "0300 063 2100"
    assert editing.uk_phone("116 123") == "116 123"
    for bad in ("+1 212 555 0100", "0800", "phone them"):
        with pytest.raises(editing._Bad):
            editing.uk_phone(bad)
