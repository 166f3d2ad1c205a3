"""bot.profile: what the conversation keeps, worked out from a message's entities."""
from __future__ import annotations

from bot import profile


def ents(*pairs):
    return [{"entity": e, "value": v} for e, v in pairs]


def test_who_is_asking():
    assert profile.audience_from(ents(("profession", "teacher"))) == "professional"
    assert profile.audience_from(ents(("relationship", "child"))) == "young_person"
    assert profile.audience_from(ents(("relationship", "grandparent"))) == "family"
    assert profile.audience_from(ents(("audience", "family"), ("audience", "young_person"))) == "young_person"
    assert profile.audience_from(ents(("stage", "remand"))) is None


def test_age_bands():
    assert profile.child_age_group_from(ents(("child_age", "3"))) == "under_5"
    assert profile.child_age_group_from(ents(("child_age", "3"), ("child_age", "9"))) == "mixed"
    assert profile.child_age_group_from(ents(("child_age", "12"), ("child_age", "16"))) == "12_plus"


def test_a_bare_number_counts_as_an_age_only_up_to_18():
    assert profile.child_age_group_from(ents(("number", "6"))) == "5_to_11"
    assert profile.child_age_group_from(ents(("number", "45"))) is None
    # An age said outright wins over a stray number.
    assert profile.child_age_group_from(ents(("child_age", "15"), ("number", "2"))) == "12_plus"


def test_stage_outranks_everything_else_in_one_message():
    found = ents(("stage", "remand"), ("area", "Stockton-on-Tees"), ("relationship", "parent"))
    assert profile.last_noted_from(found) == "stage"
    assert profile.last_noted_from(ents(("number", "40"))) is None


def test_prison_address_from_the_register():
    assert profile.prison_address("HMP Durham") == "Old Elvet, Durham, DH1 3HU"
    assert profile.prison_address("HMP Nowhere") is None
    assert profile.prison_address(None) is None
