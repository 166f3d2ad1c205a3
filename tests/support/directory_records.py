"""Small, made-up directory entries for tests (the seed entries have their own tests)."""
from __future__ import annotations

from bot.directory.records import LocationRecord, ServiceRecord, ensure_taxonomy, upsert


def record(id, areas, needs=("emotional_support",), eligibility=("families",), **extra) -> ServiceRecord:
    fields = dict(
        id=id, name=f"Service {id}", description=f"What {id} does.", organization_id=f"org-{id}",
        organization_name=f"Org {id}", phone="0191 000 0000", needs=list(needs), eligibility=list(eligibility),
        area_keys=list(areas), source_id="test-source", source_title="Test data", source_published="2024-05",
    )
    fields.update(extra)
    return ServiceRecord(**fields)


STOCKTON_KINSHIP = record("stockton-kinship", ["council:STT"], needs=["kinship_care"], eligibility=["grandparents_kinship_carers"])
NORTH_EAST_KINSHIP = record("ne-kinship", ["region:North East"], needs=["kinship_care"], eligibility=["grandparents_kinship_carers"])
NATIONAL_KINSHIP = record("national-kinship", ["england_and_wales"], needs=["kinship_care"], eligibility=["families"])
STOCKTON_HOUSING = record("stockton-housing", ["council:STT"], needs=["housing"])
KENT_COUNTY = record("kent-county", ["county:KEN"], needs=["kinship_care"])
PROFESSIONALS_ONLY = record("stockton-training", ["council:STT"], needs=["kinship_care"], eligibility=["professionals"])
DURHAM_VISITORS = record(
    "durham-visitors", ["council:DUR"], needs=["visiting"],
    locations=[LocationRecord(id="prison-DMI", name="HMP Durham", address="Old Elvet, Durham", postcode="DH1 3HU", prison_id="DMI")],
)
ALL = [STOCKTON_KINSHIP, NORTH_EAST_KINSHIP, NATIONAL_KINSHIP, STOCKTON_HOUSING, KENT_COUNTY, PROFESSIONALS_ONLY, DURHAM_VISITORS]


def load(session, records=ALL) -> None:
    ensure_taxonomy(session)
    for r in records:
        upsert(session, r)
