"""Open Referral UK import and export: round trip, idempotence, and clear errors for bad files."""
from __future__ import annotations

import json

import pytest
from tests.support import directory_records as data, hsds_schemas
from sqlalchemy import func, select

from bot.directory import oruk
from bot.directory.models import Location, Service, ServiceArea, stable_uuid
from bot.directory.records import mark_verified


def count(session, model):
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_export_then_import_into_an_empty_database_gives_the_same_file(session_for, tmp_path, database_url):
    with session_for() as s, s.begin():
        data.load(s)
        mark_verified(s, "stockton-kinship", by="Sam at the helpline", source="https://www.stockton.gov.uk/kinship")
    first = tmp_path / "first.json"
    with session_for() as s:
        assert oruk.export_file(s, first) == len(data.ALL)
    exported = json.loads(first.read_text())["services"]
    durham = next(x for x in exported if x["x_families_connect"]["key"] == "durham-visitors")
    assert durham["id"] == stable_uuid("service", "durham-visitors")
    assert [a["name"] for a in durham["service_areas"]] == ["County Durham"]
    location = durham["service_at_locations"][0]["location"]
    assert (location["external_identifier"], location["addresses"][0]["postal_code"]) == ("DMI", "DH1 3HU")
    assert durham["x_families_connect"]["location_keys"] == {location["id"]: "prison-DMI"}
    kinship = next(x for x in exported if x["x_families_connect"]["key"] == "stockton-kinship")
    assert "Sam" not in json.dumps(kinship)  # who checked an entry is never published

    with session_for() as s, s.begin():
        for model in (Service,):
            s.execute(model.__table__.delete())
    with session_for() as s, s.begin():
        report = oruk.import_file(s, first)
    assert (report.created, report.updated, report.unchanged) == (len(data.ALL), 0, 0)
    second = tmp_path / "second.json"
    with session_for() as s:
        oruk.export_file(s, second)
    assert json.loads(second.read_text()) == json.loads(first.read_text())


def test_reimporting_updates_and_never_duplicates(session_for, tmp_path):
    with session_for() as s, s.begin():
        data.load(s)
    path = tmp_path / "dir.json"
    with session_for() as s:
        oruk.export_file(s, path)
    with session_for() as s, s.begin():
        again = oruk.import_file(s, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(data.ALL))

    doc = json.loads(path.read_text())
    doc["services"][0]["description"] = "Now also runs a Saturday group."
    path.write_text(json.dumps(doc))
    with session_for() as s, s.begin():
        changed = oruk.import_file(s, path)
    assert (changed.created, changed.updated) == (0, 1)
    with session_for() as s:
        assert count(s, Service) == len(data.ALL)
        assert count(s, ServiceArea) == sum(len(r.area_keys) for r in data.ALL)
        assert count(s, Location) == 1


def test_a_council_directory_in_plain_oruk_is_read_by_names(session_for, tmp_path):
    path = tmp_path / "council.json"
    path.write_text(json.dumps({"content": [{
        "id": "sbc-123", "name": "Kinship carers' coffee morning", "description": "Meet other kinship carers.",
        "organization": {"id": "sbc", "name": "Stockton-on-Tees Borough Council"},
        "service_areas": [{"id": "a1", "service_area": "Stockton on Tees"}, {"id": "a2", "service_area": "North East"}],
        "service_taxonomys": [
            {"id": "t1", "taxonomy": {"id": "kinship_care", "name": "Grandparents and kinship carers", "vocabulary": "families-connect-needs"}},
            {"id": "t2", "taxonomy": {"id": "1234", "name": "Family support", "vocabulary": "esdServiceTypes"}},
        ],
        "eligibilitys": [{"id": "e1", "eligibility": "Grandparents and kinship carers"}],
        "phones": [{"id": "p1", "number": "01642 000000"}],
    }]}))
    with session_for() as s, s.begin():
        report = oruk.import_file(s, path)
    assert report.created == 1 and any("Family support" in n for n in report.notes)
    with session_for() as s:
        service = s.get(Service, "sbc-123")
        assert sorted(a.area_key for a in service.areas) == ["council:STT", "region:North East"]
        assert [t.id for t in service.taxonomy_terms] == ["kinship_care"]
        assert service.phone == "01642 000000"


def good(**changes):
    base = {
        "id": "svc-1", "name": "A service", "organization": {"id": "org-1", "name": "An organisation"},
        "service_areas": [{"id": "a", "service_area": "Bristol"}],
    }
    base.update(changes)
    return base


@pytest.mark.parametrize(
    "records, expected",
    [
        ([good(), good(id="svc-2", name="")], "record 2 (id svc-2): name: is required"),
        ([good(service_areas=[{"id": "a", "service_area": "Atlantis"}])], "record 1 (id svc-1): service_areas[0].service_area: unknown area 'Atlantis'"),
        ([good(service_areas=[])], "record 1 (id svc-1): service_areas: at least one service area is required"),
        ([good(phones=[{"id": "p", "number": "call us"}])], "record 1 (id svc-1): phones[0].number: 'call us' is not a UK phone number"),
        ([good(organization={"id": "org-1"})], "record 1 (id svc-1): organization: name: is required"),
        ([good(email="not-an-email")], "record 1 (id svc-1): email: 'not-an-email' is not an email address"),
        ([good(), good()], "record 2 (id svc-1): id: appears more than once in the file"),
        ([good(assured_date="last tuesday")], "record 1 (id svc-1): assured_date: 'last tuesday' is not a date"),
        ([good(service_taxonomys=[{"id": "t", "taxonomy": {"id": "kinship", "vocabulary": "families-connect-needs"}}])], "'kinship' is not one of our needs"),
    ],
)
def test_bad_records_are_named_and_nothing_is_written(session_for, tmp_path, records, expected):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"services": records}))
    with pytest.raises(oruk.ImportFailed) as failed:
        with session_for() as s, s.begin():
            oruk.import_file(s, path)
    assert expected in str(failed.value) and "nothing was imported" in str(failed.value)
    with session_for() as s:
        assert count(s, Service) == 0


@pytest.mark.parametrize(
    "content, expected",
    [
        ("{not json", "is not valid JSON (line 1, column 2"),
        ('{"services": 3}', 'expected a list of services'),
        (b"\xff\xfe", "is not UTF-8 text"),
    ],
)
def test_unreadable_files_say_why(session_for, tmp_path, content, expected):
    path = tmp_path / "bad.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ValueError, match=expected.replace("(", r"\(")):
        with session_for() as s, s.begin():
            oruk.import_file(s, path)


def test_the_seed_round_trips_with_its_states_and_stays_valid_open_referral(session_for, tmp_path):
    from bot.directory.seed import load_seed

    with session_for() as s, s.begin():
        load_seed(s)
    with session_for() as s:
        before = {row.id: tuple(row[1:]) for row in s.execute(
            select(Service.id, Service.state, Service.last_verified, Service.checked_source, Service.successor_id, Service.status))}
    path = tmp_path / "seed.json"
    with session_for() as s:
        oruk.export_file(s, path)
    exported = json.loads(path.read_text())["services"]
    for service in exported:
        state = service["x_families_connect"]["state"]
        # HSDS status only says whether it runs; our state travels in our own extension.
        assert service["status"] == ("active" if state in ("verified", "unchecked") else "inactive"), service["id"]
        assert hsds_schemas.problems(service, "service.json") == [], service["x_families_connect"]["key"]
    replaced = next(x for x in exported if x["x_families_connect"]["key"] == "parentline-plus-helpline")
    assert replaced["x_families_connect"]["successor"] == "family-lives-support" and replaced["assured_date"] == "2026-12-03"
    successor = next(x for x in exported if x["x_families_connect"]["key"] == "family-lives-support")
    assert replaced["x_families_connect"]["successor_service_id"] == successor["id"]

    with session_for() as s, s.begin():
        s.execute(Service.__table__.delete())
    with session_for() as s, s.begin():
        oruk.import_file(s, path)
    with session_for() as s:
        after = {row.id: tuple(row[1:]) for row in s.execute(
            select(Service.id, Service.state, Service.last_verified, Service.checked_source, Service.successor_id, Service.status))}
    assert after == before


def test_a_file_without_our_extension_reads_states_from_status_and_assured_date(session_for, tmp_path):
    def service(id, status, assured=None):
        return {"id": id, "name": id, "status": status, "assured_date": assured, "organization": {"id": "o", "name": "O"},
                "service_areas": [{"service_area": "Stockton-on-Tees"}]}

    path = tmp_path / "council.json"
    path.write_text(json.dumps([service("a", "active", "2026-11-30"), service("b", "active"), service("c", "defunct")]))
    with session_for() as s, s.begin():
        oruk.import_file(s, path)
    with session_for() as s:
        states = dict(s.execute(select(Service.id, Service.state)).all())
    assert states == {"a": "verified", "b": "unchecked", "c": "closed"}


def test_a_bad_state_in_a_file_names_the_record(session_for, tmp_path):
    bad = {"id": "x", "name": "X", "status": "active", "organization": {"id": "o", "name": "O"},
           "service_areas": [{"service_area": "Stockton-on-Tees"}],
           "x_families_connect": {"state": "replaced", "checked_source": "https://example.org"}}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([bad]))
    with session_for() as s, s.begin(), pytest.raises(oruk.ImportFailed) as failed:
        oruk.import_file(s, path)
    assert "record 1 (id x): x_families_connect: checked: a replaced entry needs the date" in str(failed.value)


# --- a later import never silently overwrites what staff vouched for more recently ----------------
def _exported(session_for, tmp_path):
    path = tmp_path / "dir.json"
    with session_for() as s:
        oruk.export_file(s, path)
    return path, json.loads(path.read_text())


def _save(path, doc, **changes_by_id):
    for service in doc["services"]:
        service.update(changes_by_id.get(service["x_families_connect"]["key"], {}))
    path.write_text(json.dumps(doc))


def _conflict_audit(session_for):
    from bot.staff.models import AuditEntry

    with session_for() as s:
        return [e.detail for e in s.execute(select(AuditEntry).where(AuditEntry.action == "directory_import_conflict")).scalars()]


def test_an_import_keeps_values_staff_changed_since_its_records_check_and_reports_them(session_for, tmp_path, database_url, capsys):
    from datetime import date, timedelta

    from bot.cli import main
    from bot.directory import editing

    with session_for() as s, s.begin():
        data.load(s)
    path, doc = _exported(session_for, tmp_path)
    with session_for() as s, s.begin():
        for service_id in ("stockton-kinship", "ne-kinship"):
            editing.edit_contact(s, service_id, {"description": f"What {service_id} does.", "url": "https://staff.example.org",
                                                 "phones": "01642 000111"}, user_id=None)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    _save(path, doc, **{
        # Checked before staff's change: the new description is taken, staff's web address and phone are kept.
        "stockton-kinship": {"assured_date": "2020-01-01", "description": "Now on Saturdays too.", "url": "https://file.example.org",
                             "phones": [{"id": "p", "number": "0191 000 0000"}]},
        # Checked after staff's change: the newer check wins.
        "ne-kinship": {"assured_date": tomorrow, "url": "https://newer.example.org"},
    })
    with session_for() as s, s.begin():
        report = oruk.import_file(s, path)
    assert [(c.service_id, c.field, c.file_checked) for c in report.conflicts] == [
        ("stockton-kinship", "url", date(2020, 1, 1)), ("stockton-kinship", "phones", date(2020, 1, 1))]
    assert str(report.conflicts[0]) == (f"stockton-kinship: url: kept the value staff changed or checked on {date.today().isoformat()} "
                                        "(the imported record was checked 2020-01-01)")
    with session_for() as s:
        kinship, ne = s.get(Service, "stockton-kinship"), s.get(Service, "ne-kinship")
        assert (kinship.description, kinship.url, [p.number for p in kinship.phones]) == (
            "Now on Saturdays too.", "https://staff.example.org", ["01642 000111"])
        assert ne.url == "https://newer.example.org"
    assert _conflict_audit(session_for) == [
        f"dir.json: stockton-kinship: kept staff's url, phones (staff {date.today().isoformat()}; imported record checked 2020-01-01)"]

    # The same file again: the same conflicts in the result and on the command line, but audited once.
    capsys.readouterr()
    assert main(["--database-url", database_url, "directory", "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"conflict: stockton-kinship: phones: kept the value staff changed or checked on {date.today().isoformat()}" in out
    assert "2 value(s) staff changed or checked more recently kept" in out
    assert len(_conflict_audit(session_for)) == 1
    with session_for() as s:
        assert s.get(Service, "stockton-kinship").url == "https://staff.example.org"


def test_a_check_by_staff_vouches_for_every_field_and_a_same_day_state_stands(session_for, tmp_path):
    from datetime import date

    from bot.directory import editing

    with session_for() as s, s.begin():
        data.load(s)
    path, doc = _exported(session_for, tmp_path)
    with session_for() as s, s.begin():
        editing.verify(s, "kent-county", by="Sam", source="https://kent.example.org", user_id=None)
        editing.close(s, "stockton-housing", by="Ann", source="rang them", user_id=None)
    _save(path, doc, **{
        "kent-county": {"description": "An older description.", "assured_date": "2025-06-01"},
        # A file checked the same day as staff's closing still says it runs: staff's word stands.
        "stockton-housing": {"assured_date": date.today().isoformat(), "status": "active"},
        "stockton-training": {"description": "Nobody on the staff touched this one."},
    })
    with session_for() as s, s.begin():
        report = oruk.import_file(s, path)
    assert sorted((c.service_id, c.field) for c in report.conflicts) == [("kent-county", "description"), ("stockton-housing", "state")]
    with session_for() as s:
        assert s.get(Service, "kent-county").description == "What kent-county does."
        assert (s.get(Service, "stockton-housing").state, s.get(Service, "stockton-housing").status) == ("closed", "inactive")
        assert s.get(Service, "stockton-training").description == "Nobody on the staff touched this one."


def test_every_phone_number_of_a_service_travels_both_ways(session_for, tmp_path):
    with session_for() as s, s.begin():
        data.load(s, [data.record("two-numbers", ["council:STT"], phones=["0191 000 0000", "0800 012 1539"])])
    path, doc = _exported(session_for, tmp_path)
    assert [p["number"] for p in doc["services"][0]["phones"]] == ["0191 000 0000", "0800 012 1539"]
    with session_for() as s, s.begin():
        s.execute(Service.__table__.delete())
    with session_for() as s, s.begin():
        oruk.import_file(s, path)
    with session_for() as s:
        assert [p.number for p in s.get(Service, "two-numbers").phones] == ["0191 000 0000", "0800 012 1539"]
