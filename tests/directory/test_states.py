"""Entry states (verified, unchecked, replaced, closed): how they load, rank and are never
offered when retired, on the real seed file as well as on small made-up entries."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tests.support import directory_records as data
from bot import db
from bot.directory import areas, search
from bot.directory.models import CLOSED, REPLACED, STATES, UNCHECKED, VERIFIED, Service
from bot.directory.records import RecordError
from bot.directory.seed import load_seed, read_seed
from bot.directory.taxonomy import NEEDS
from bot.geo import gazetteer

ONE_SERVICE = """
sources:
  s1: {file: x.txt, title: Test document, date: "2011"}
organisations:
  - id: org
    name: Org
    services:
      - id: a
        name: A
        description: What A does.
        needs: [housing]
        areas: ["uk"]
        source: s1
        quote: q
%s
"""


def seed_file(tmp_path: Path, extra: str, more: str = "") -> Path:
    path = tmp_path / "seed.yml"
    lines = "".join(f"        {line}\n" for line in extra.strip().splitlines())
    path.write_text(ONE_SERVICE % lines + more)
    return path


def ids(page):
    return [f.id for f in page.results]


# --- loading and validating ------------------------------------------------------------
def test_the_seed_states_load_and_every_retired_entry_says_why(session_for):
    records = {r.id: r for r in read_seed()}
    assert {r.state for r in records.values()} == set(STATES)
    for r in records.values():
        if r.state != UNCHECKED:
            assert r.last_verified and r.checked_source, r.id
        if r.state == REPLACED:
            assert r.successor_id in records and records[r.successor_id].state == VERIFIED, r.id
        if r.state in (REPLACED, CLOSED):
            assert r.status == "inactive", r.id
    # What issue 13 names as changed since the seeds.
    assert records["noms-assisted-prison-visits-scheme"].successor_id == "help-with-prison-visits"
    assert records["parentline-plus-helpline"].successor_id == "family-lives-support"
    assert records["apf-booklets-and-books"].successor_id == "family-lives-support"
    assert records["eurochips-country-information"].successor_id == "cope-network"
    assert records["nepacs-acklington-castington-visitors-centre"].successor_id == "nepacs-northumberland-visitors-centre"
    assert records["hmp-wolds-family-learning"].state == CLOSED
    assert records["prison-service-website"].successor_id == "gov-uk-prison-visits"
    helpline = records["prisoners-families-helpline-support"]
    assert (helpline.state, helpline.phone, helpline.opening_times) == (VERIFIED, "0808 808 3444", "Mon-Fri 10am-5pm")
    assert helpline.checked_source == "https://www.prisonadvice.org.uk/pact-helpline"
    assert all("hmprisonservice" not in (r.url or "") + (r.organization_url or "") for r in records.values())
    assert all(r.organization_phone != "020 7490 3139" for r in records.values() if r.organization_id == "pact")
    with session_for() as s, s.begin():
        load_seed(s)
    with session_for() as s:
        stored = dict(s.execute(select(Service.id, Service.state)).all())
    assert stored == {i: r.state for i, r in records.items()}


@pytest.mark.parametrize(
    "extra, message",
    [
        ("state: stale", r"seed.yml: org: services\[0\] \(a\): state: 'stale' is not a state; use one of verified, unchecked, replaced, closed"),
        ('state: replaced\nchecked: "2026-12-03"\nchecked_source: https://example.org', r"\(a\): successor: a replaced entry must name its successor"),
        ('state: verified\nchecked: "2026-12-03"', r"\(a\): checked_source: a verified entry needs the date \(checked\) and source \(checked_source\)"),
        ("state: closed\nchecked_source: https://example.org", r"\(a\): checked: a closed entry needs the date"),
        ("successor: b", r"\(a\): successor: only a replaced entry has a successor; this one is unchecked"),
        ('state: replaced\nsuccessor: a\nchecked: "2026-12-03"\nchecked_source: https://example.org', r"\(a\): successor: an entry cannot succeed itself"),
        ("status: inactive", r"\(a\): status: an inactive entry must have state: closed or replaced"),
        ('state: verified\nchecked: "03/12/2026"\nchecked_source: https://example.org', r"\(a\): checked: '03/12/2026' is not a date"),
    ],
)
def test_a_bad_state_names_the_record_and_the_field(tmp_path, extra, message):
    with pytest.raises(RecordError, match=message):
        list(read_seed(seed_file(tmp_path, extra)))


def test_a_successor_that_is_missing_closed_or_a_loop_is_refused_by_name(tmp_path, session_for):
    replaced = 'state: replaced\nsuccessor: {}\nchecked: "2026-12-03"\nchecked_source: https://example.org'
    b = """
      - id: b
        name: B
        description: What B does.
        needs: [housing]
        areas: ["uk"]
        source: s1
        quote: q
        {}
"""
    cases = [
        (replaced.format("nowhere"), "", r"seed.yml: a: successor: 'nowhere' is not a service in the directory"),
        (replaced.format("b"), b.format('state: closed\n        checked: "2026-12-03"\n        checked_source: https://example.org'),
         r"seed.yml: a: successor: 'b' is closed; name the service that carries on"),
        (replaced.format("b"), b.format('state: replaced\n        successor: a\n        checked: "2026-12-03"\n        checked_source: https://example.org'),
         r"successor: the successors loop back"),
    ]
    for extra, more, message in cases:
        path = seed_file(tmp_path, extra, more)
        with pytest.raises(RecordError, match=message):
            with session_for() as s, s.begin():
                load_seed(s, path)
        with session_for() as s:  # and nothing was written
            assert s.execute(select(Service.id)).first() is None


# --- ranking -----------------------------------------------------------------------------
def test_verified_entries_rank_first_then_nearest(session_for):
    local = data.record("stockton-old", ["council:STT"], needs=["housing"])
    regional = data.record("ne-checked", ["region:North East"], needs=["housing"], last_verified=date(2026, 11, 2),
                           state=VERIFIED, checked_source="https://example.org/ne")
    national = data.record("uk-checked", ["uk"], needs=["housing"], last_verified=date(2026, 12, 1),
                           state=VERIFIED, checked_source="https://example.org/uk")
    with session_for() as s, s.begin():
        data.load(s, [national, local, regional])
    with session_for() as s:
        page = search.search_services(s, council=areas.find_council("Stockton"), need="housing")
    assert ids(page) == ["ne-checked", "uk-checked", "stockton-old"]
    assert [f.verified for f in page.results] == [True, True, False] and not page.all_unchecked
    assert page.local_count == 1


def test_closed_and_replaced_entries_give_way_to_the_successor_where_it_serves(session_for):
    check = dict(last_verified=date(2026, 12, 3), checked_source="https://example.org")
    old = data.record("old-name", ["council:STT"], needs=["housing"], state=REPLACED, successor_id="new-name", status="inactive", **check)
    new = data.record("new-name", ["region:North East"], needs=["parenting"], state=VERIFIED, **check)
    gone = data.record("gone", ["council:STT"], needs=["housing"], state=CLOSED, status="inactive", **check)
    kent_old = data.record("kent-old", ["county:KEN"], needs=["housing"], state=REPLACED, successor_id="new-name", status="inactive", **check)
    with session_for() as s, s.begin():
        data.load(s, [old, new, gone, kent_old])
    with session_for() as s:
        stockton = search.search_services(s, council=areas.find_council("Stockton"), need="housing")
        maidstone = search.search_services(s, council=areas.find_council("Maidstone"), need="housing")
    # The successor carries on the old entry's work even under a need it is not filed under.
    assert ids(stockton) == ["new-name"] and stockton.results[0].scope == areas.REGION
    assert ids(maidstone) == []  # the successor does not serve Kent: nothing offered in its place


# --- never offered, anywhere -------------------------------------------------------------
@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """The real seed file in one SQLite database, shared by the exhaustive checks."""
    url = f"sqlite:///{tmp_path_factory.mktemp('seeded') / 'seed.db'}"
    db.upgrade(url)
    sessions = db.session_factory(url)
    with sessions() as s, s.begin():
        load_seed(s)
    yield sessions
    db.engine_for(url).dispose()
    db.engine_for.cache_clear()


def test_no_closed_or_replaced_entry_is_offered_for_any_council_or_need(seeded):
    with seeded() as s:
        services = {sv.id: sv for sv in s.execute(select(Service).options(
            selectinload(Service.areas), selectinload(Service.taxonomy_terms))).scalars()}
        retired = {i for i, sv in services.items() if sv.state in (CLOSED, REPLACED)}
        replaced = [sv for sv in services.values() if sv.state == REPLACED]
        assert retired and replaced
        successor_of = {sv.id: search.current_successor(s, sv.id) for sv in replaced}
        councils = gazetteer().current_councils()
        assert {c.nation for c in councils} == {"England", "Wales", "Scotland", "Northern Ireland"}
        checked_successors = 0
        for council in councils:
            keys = areas.keys_covering(council)
            for audience in (None, "professional"):
                for need in [None, *NEEDS]:
                    if audience == "professional" and need is not None:
                        continue  # professionals' searches differ only in what is offered to them
                    page = search.search_services(s, council=council, need=need, audience=audience, limit=500)
                    offered = set(ids(page))
                    assert not offered & retired, (council.name, need, offered & retired)
                    assert not page.has_more
                    for old in replaced:
                        would_have = any(a.area_key in keys for a in old.areas) and (
                            need is None or need in {t.id for t in old.taxonomy_terms})
                        if old.professionals_only and audience != "professional":
                            would_have = False
                        new = successor_of[old.id]
                        serves = new is not None and any(a.area_key in keys for a in new.areas)
                        suits = new is not None and (audience == "professional" or not new.professionals_only)
                        if would_have and serves and suits:
                            assert new.id in offered, (council.name, need, old.id)
                            checked_successors += 1
        assert checked_successors > 1000  # the successor rule was really exercised


def test_a_scottish_council_gets_scottish_services_and_nothing_only_for_england_and_wales(seeded):
    with seeded() as s:
        e_and_w = {sv.id for sv in s.execute(select(Service)).scalars() if {a.area_key for a in sv.areas} <= {"england_and_wales", "nation:England", "nation:Wales"} or
                   any(a.area_key.startswith(("council:", "county:", "region:")) for a in sv.areas)}
        for place in ("Glasgow", "Highland", "Orkney Islands"):
            page = search.search_services(s, council=areas.find_council(place), limit=200)
            offered = set(ids(page))
            assert "families-outside-helpline" in offered and not offered & e_and_w, place
        belfast = set(ids(search.search_services(s, council=areas.find_council("Belfast"), limit=200)))
        assert "niacro-family-links" in belfast and "help-with-prison-visits" not in belfast
        cardiff_housing = ids(search.search_services(s, council=areas.find_council("Cardiff"), need="housing"))
        assert cardiff_housing[0] == "shelter-cymru-housing-advice"
        swansea_abuse = ids(search.search_services(s, council=areas.find_council("Swansea"), need="domestic_abuse"))
        assert swansea_abuse[0] == "live-fear-free-helpline"
        durham_abuse = ids(search.search_services(s, council=areas.find_council("Durham"), need="domestic_abuse", limit=50))
        assert "live-fear-free-helpline" not in durham_abuse


def test_no_closed_or_replaced_entry_is_offered_at_any_prison(seeded):
    with seeded() as s:
        retired = set(s.execute(select(Service.id).where(Service.state.in_((CLOSED, REPLACED)))).scalars())
        for prison in gazetteer().prisons.values():
            found = search.services_at_prison(s, prison.id, limit=50)
            assert not {f.id for f in found} & retired, prison.display_name
        acklington = search.services_at_prison(s, search.prison_id_for("HMP Acklington"))
        wolds = search.services_at_prison(s, search.prison_id_for("HMP Wolds"))
    assert [f.id for f in acklington] == ["nepacs-northumberland-visitors-centre"]
    assert wolds == []


def test_remembered_checked_entries_never_offer_one_closed_since_and_a_new_check_shows_at_once(session_for):
    from bot.directory.records import mark_verified

    check = dict(last_verified=date(2026, 12, 3), checked_source="https://example.org")
    with session_for() as s, s.begin():
        data.load(s, [data.record("checked", ["council:STT"], needs=["housing"], state=VERIFIED, **check),
                      data.record("later", ["council:STT"], needs=["housing"])])
    stockton = areas.find_council("Stockton")
    with session_for() as s:
        assert ids(search.search_services(s, council=stockton, need="housing")) == ["checked", "later"]
    with session_for() as s, s.begin():  # closed behind the remembered list's back (another process)
        s.get(Service, "checked").state = CLOSED
    with session_for() as s:
        assert ids(search.search_services(s, council=stockton, need="housing")) == ["later"]
    with session_for() as s, s.begin():
        mark_verified(s, "later", by="Sam", source="https://example.org/later")
    with session_for() as s:
        page = search.search_services(s, council=stockton, need="housing")
    assert ids(page) == ["later"] and page.results[0].verified
