"""The seed entries: every service the seed documents name, each traceable to its source."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.directory import areas, search
from bot.directory.models import Service
from bot.directory.records import RecordError
from bot.directory.seed import SEED_FILE, load_seed, read_seed

# The seed documents live beside the checkout (../shared/seeds), as in CI; a worktree one level
# deeper (/work/wt/<branch>) finds them too. Without them this test fails: it is the only check
# that every quote in the directory is really in its source.
SEEDS = next((p / "shared" / "seeds" for p in Path(__file__).resolve().parents[3:5] if (p / "shared" / "seeds").exists()),
             Path(__file__).resolve().parents[3] / "shared" / "seeds")


def test_every_entry_has_its_source_a_quote_and_somewhere_it_serves():
    records = list(read_seed())
    assert len(records) >= 100
    for r in records:
        assert r.source_id and r.source_title and r.quote and r.area_keys and r.needs, r.id


def test_every_quote_is_in_its_seed_document():
    assert SEEDS.is_dir(), f"the seed documents should be at {SEEDS} (../shared/seeds beside this checkout)"
    texts = {p.name: " ".join(p.read_text(encoding="utf-8", errors="replace").split()) for p in SEEDS.glob("*.txt")}
    for r in read_seed():
        if r.source_reference.startswith("http"):
            continue  # a current web page (issue 13): its quote and check date are beside it in the seed file
        assert " ".join(r.quote.split()) in texts[r.source_reference], r.id


def test_loading_twice_changes_nothing(session_for):
    with session_for() as s, s.begin():
        first = load_seed(s)
    with session_for() as s, s.begin():
        second = load_seed(s)
    assert first["created"] == second["unchanged"] and second["created"] == second["updated"] == 0


def test_dead_contacts_are_kept_but_never_offered(session_for):
    with session_for() as s, s.begin():
        load_seed(s)
    with session_for() as s:
        inactive = set(s.execute(select(Service.id).where(Service.status == "inactive")).scalars())
        assert inactive
        offered = search.search_services(s, council=areas.find_council("Darlington"), audience="professional", limit=200)
    assert not inactive & {f.id for f in offered.results}


def test_a_bad_seed_entry_names_itself(tmp_path):
    bad = tmp_path / "seed.yml"
    bad.write_text(SEED_FILE.read_text().replace('areas: ["council:Stockton-on-Tees"]', 'areas: ["council:Nowhere"]', 1))
    with pytest.raises(RecordError, match=r"areas\[0\]: unknown area 'council:Nowhere'"):
        list(read_seed(bad))


def test_the_seed_answers_the_questions_families_ask(session_for):
    with session_for() as s, s.begin():
        load_seed(s)
    with session_for() as s:
        stockton = search.search_services(s, council=areas.find_council("TS18 1AB"), audience="family")
        kingston = search.search_services(s, council=areas.find_council("Kingston"), audience="family", limit=20)
        count = s.execute(select(func.count()).select_from(Service)).scalar_one()
    assert count == len(list(read_seed()))
    assert stockton.results[0].verified and stockton.local_count > 0  # checked entries first; local ones there too
    assert any("Families Apart" in f.name for f in kingston.results)


def test_reloading_the_seed_keeps_what_staff_changed_and_audits_the_conflict_once(session_for):
    from datetime import date

    from bot.directory import editing
    from bot.staff.models import AuditEntry

    with session_for() as s, s.begin():
        load_seed(s)
        service = s.get(Service, "nepacs-frankland-visitors-centre")  # unchecked in the seed: any staff change is newer
        seed_phones = [p.number for p in service.phones]
        editing.edit_contact(s, service.id, {**editing.contact_values(service), "phones": "0191 332 3810\n0800 012 1539"}, user_id=None)
    for _ in range(2):  # as every `make run` does
        kept: list = []
        with session_for() as s, s.begin():
            counts = load_seed(s, kept=kept)
        assert counts["conflicts"] == 1 and [(c.service_id, c.field) for c in kept] == [("nepacs-frankland-visitors-centre", "phones")]
    with session_for() as s:
        assert [p.number for p in s.get(Service, "nepacs-frankland-visitors-centre").phones] == ["0191 332 3810", "0800 012 1539"] != seed_phones
        audited = [e.detail for e in s.execute(select(AuditEntry).where(AuditEntry.action == "directory_import_conflict")).scalars()]
    assert audited == [f"seed_services.yml: nepacs-frankland-visitors-centre: kept staff's phones (staff {date.today().isoformat()}; "
                       "imported record checked never)"]
