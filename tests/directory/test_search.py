"""Ranking and filtering services, on SQLite and on the PostgreSQL server."""
from __future__ import annotations

from pathlib import Path

from bot.directory import areas, search
from tests.support import directory_records as data

ROOT = Path(__file__).resolve().parents[2]


def ids(page):
    return [f.id for f in page.results]


def test_local_first_then_region_then_national(session_for):
    with session_for() as s, s.begin():
        data.load(s)
    with session_for() as s:
        page = search.search_services(s, council=areas.find_council("Stockton"), need="kinship_care", audience="family")
    assert ids(page) == ["stockton-kinship", "ne-kinship", "national-kinship"]
    assert [f.scope for f in page.results] == [areas.LOCAL, areas.REGION, areas.NATIONAL]
    assert page.local_count == 1 and not page.has_more


def test_services_only_for_professionals_are_offered_to_professionals_only(session_for):
    with session_for() as s, s.begin():
        data.load(s)
    stockton = areas.find_council("TS18 1AB")
    with session_for() as s:
        family = search.search_services(s, council=stockton, need="kinship_care", audience="family", limit=10)
        teacher = search.search_services(s, council=stockton, need="kinship_care", audience="professional", limit=10)
    assert "stockton-training" not in ids(family)
    with session_for() as s:
        unknown = search.search_services(s, council=stockton, need="kinship_care", limit=10)
    assert "stockton-training" not in ids(unknown)  # not said who they are: not offered either
    assert ids(teacher)[0] == "stockton-training"  # what suits the asker comes first among local ones


def test_the_need_filters_and_no_need_gives_everything_nearby(session_for):
    with session_for() as s, s.begin():
        data.load(s)
    stockton = areas.find_council("Stockton")
    with session_for() as s:
        assert ids(search.search_services(s, council=stockton, need="housing")) == ["stockton-housing"]
        everything = search.search_services(s, council=stockton, limit=10)
    assert set(ids(everything)) == {"stockton-kinship", "stockton-housing", "ne-kinship", "national-kinship"}


def test_a_county_service_serves_its_districts(session_for):
    with session_for() as s, s.begin():
        data.load(s)
    with session_for() as s:
        page = search.search_services(s, council=areas.find_council("Maidstone"), need="kinship_care")
    assert ids(page) == ["kent-county", "national-kinship"]
    assert page.results[0].scope == areas.COUNTY and page.local_count == 1


def test_nowhere_local_gives_only_national_services(session_for):
    with session_for() as s, s.begin():
        data.load(s)
    with session_for() as s:
        page = search.search_services(s, council=areas.find_council("Cornwall"), need="kinship_care")
    assert ids(page) == ["national-kinship"] and page.local_count == 0
    with session_for() as s:
        assert search.search_services(s, council=areas.find_council("Cornwall"), need="housing").results == []


def test_paging_three_at_a_time(session_for):
    many = [data.record(f"s{i:02d}", ["council:STT"]) for i in range(7)]
    with session_for() as s, s.begin():
        data.load(s, many)
    stockton = areas.find_council("Stockton")
    with session_for() as s:
        pages = [search.search_services(s, council=stockton, offset=o) for o in (0, 3, 6)]
    assert [ids(p) for p in pages] == [["s00", "s01", "s02"], ["s03", "s04", "s05"], ["s06"]]
    assert [p.has_more for p in pages] == [True, True, False]


def test_recently_checked_entries_rank_first_within_a_scope(session_for):
    from datetime import date

    older = data.record("a-older", ["council:STT"])
    checked = data.record("z-checked", ["council:STT"], last_verified=date(2026, 10, 1), state="verified", checked_source="https://example.org")
    with session_for() as s, s.begin():
        data.load(s, [older, checked])
    with session_for() as s:
        page = search.search_services(s, council=areas.find_council("Stockton"))
    assert ids(page) == ["z-checked", "a-older"]
    assert page.results[0].verified and page.results[1].as_of == "2024-05"


def test_services_at_a_prison(session_for):
    with session_for() as s, s.begin():
        data.load(s)
    with session_for() as s:
        found = search.services_at_prison(s, search.prison_id_for("durham prison"))
    assert [f.id for f in found] == ["durham-visitors"]


# --- how a result reads (the words are domain.yml's) --------------------------------------------
def _found(as_of=None, verified=None, phone=None, url=None, email=None, opening_times=None):
    from datetime import date

    verified = isinstance(as_of, date) if verified is None else verified
    return search.Found("x", "n", "o", "d", phone, url, email, 0, as_of, verified,
                        "verified" if verified else "unchecked", opening_times)


def test_freshness_in_words():
    from datetime import date

    assert search.freshness(_found(date(2026, 11, 3))) == "checked 3 Nov 2026"
    assert search.freshness(_found(date(2019, 4, 1), verified=False)) == "last checked Apr 2019"
    assert search.freshness(_found("2011-05")) == "not checked since May 2011"
    assert search.freshness(_found("2012")) == "not checked since 2012"
    assert search.freshness(_found(None)) == "not checked recently"


def test_the_contact_line_prefers_a_phone_then_the_web_then_email():
    assert search.contact_line(_found(phone="01670 383736", opening_times="Mon-Fri 9-5")) == "Tel 01670 383736 (Mon-Fri 9-5)."
    assert search.contact_line(_found(phone="01670 383736", url="https://example.org")) == "Tel 01670 383736."
    assert search.contact_line(_found(url="https://example.org", email="a@example.org")) == "Web: https://example.org"
    assert search.contact_line(_found(email="a@example.org")) == "Email: a@example.org"
    assert search.contact_line(_found()) == ""


def test_the_lines_words_come_from_the_domain(monkeypatch):
    """Changing a response in domain.yml changes the line: no words are left in Python."""
    from bot import texts

    domain = texts.domain()
    responses = {**domain["responses"], search.CONTACT_PHONE: [{"text": "Phone {service_phone}"}],
                 search.NOT_CHECKED: [{"text": "not looked at lately"}]}
    monkeypatch.setattr(texts, "domain", lambda: {**domain, "responses": responses})
    assert search.contact_line(_found(phone="01670 383736")) == "Phone 01670 383736"
    assert search.freshness(_found(None)) == "not looked at lately"


def test_an_entry_replaced_in_another_process_brings_its_successor_at_once(session_for, database_url):
    """The console and the action server are different processes: a replacement made in one is
    answered with its successor by the other's next search, not 30 seconds later."""
    import os
    import subprocess
    import sys

    from bot.directory import replies

    with session_for() as s, s.begin():
        data.load(s)
    stockton = areas.find_council("Stockton")
    with session_for() as s:  # this process remembers which entries are checked or replaced
        before = search.search_services(s, council=stockton, need="kinship_care", audience="family")
    assert "stockton-kinship" in ids(before) and "stockton-housing" not in ids(before)
    script = (
        "import sys\nfrom bot import db\nfrom bot.directory import editing\n"
        "with db.session_factory(sys.argv[1])() as s, s.begin():\n"
        "    editing.replace(s, 'stockton-kinship', 'stockton-housing', by='Ann', source='their site', user_id=None)\n"
    )
    subprocess.run([sys.executable, "-c", script, database_url], check=True, cwd=ROOT, timeout=120,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    with session_for() as s:
        page, broadened = replies.find_services(s, council=stockton, need="kinship_care", audience="family", offset=0)
    reply = replies.search_reply(page, place="Stockton-on-Tees", need="kinship_care", offset=0, more=False, broadened=broadened)
    offered = [m["service_name"] for m in reply.messages if m["response"] == "utter_directory_result"]
    assert "Org stockton-housing: Service stockton-housing" in offered
    assert not any("stockton-kinship" in name for name in offered)
