"""Answers for young people (slot audience = young_person), issue 14 item 3.

A young person who says their age ("im 14") should not get the answer written for an adult family
member. Each response below has a young_person variant at the top of its list; these tests check it is
there, fits one text message, and carries the fact it must carry. Where an answer differs by nation
(booking, ID, keeping in touch, finding a prison, help with costs), the young person gets their own
Scotland and Northern Ireland variants too. The last tests record the topic responses judged to read
right for a young person as they are, and that for every audience and nation one variant at most
matches. Sources are in the comment above each response in domain.yml (checked 2026-12-04).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from tests.support.domain import comment_above, render  # the comment lines above a response (its recorded source); Rasa's rendering

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_TEXT = (ROOT / "domain.yml").read_text()
DOMAIN = yaml.safe_load(DOMAIN_TEXT)
SAMPLE_SLOTS = {"helpline_phone": "0808 808 3444", "helpline_hours": "Mon-Fri 10am-5pm"}

CHILDLINE = "0800 1111"  # childline.org.uk/pages/about.aspx ("Call free on 0800 1111"), checked 2026-12-04
NATION_SAFE_FOR = "holds for every nation"

# response -> what the young person's answer must say (regular expressions, all must match)
KEY_FACTS = {
    # under-16s come with an adult (HMPPS Annex A; nidirect), 16-17 may go alone with their own ID
    "utter_visit_booking": [r"under-16s must come with an adult", r"16 or 17", r"own ID", r"check with the prison"],
    # ID by age: none of their own for accompanied under-16s in England and Wales; NI birth certificate; Scotland ask
    "utter_visit_rules": [r"under-16s with an adult don't need their own", r"PASS card with a reference number",
                          r"Northern Ireland: a child with an adult brings a birth certificate", r"Scotland: ask the prison"],
    "utter_visit_first": [r"under 16, you go in with the adult", r"searched, children too"],
    "utter_visit_first_2": [CHILDLINE],
    "utter_visit_children_2": [r"Schools can authorise time off for visits", r"under 16, the adult you come with looks after you"],
    "utter_keep_in_touch": [r"Writing letters", r"Email a Prisoner"],
    # Childline first, not the adults' GP-and-Samaritans answer
    "utter_own_wellbeing": [r"Childline", CHILDLINE, r"childline\.org\.uk", r"none of it is your fault"],
    "utter_own_wellbeing_2": [r"adult you trust", r"teacher"],
    "utter_bullying_2": [r"adult you trust", r"999"],
    "utter_arrest_2": [r"not your fault", CHILDLINE],
    "utter_find_prison": [r"adult you trust", r"solicitor"],
    "utter_release_prepare": [r"adult who looks after you"],
    "utter_release_prepare_2": [r"adult you trust", CHILDLINE],
    "utter_release_adjusting": [r"Mixed feelings are normal", r"adult you trust"],
    "utter_release_adjusting_2": [r"999", CHILDLINE],
    "utter_bad_news": [r"chaplain", CHILDLINE],
    "utter_death_in_custody": [r"family liaison officer", r"adult you trust", CHILDLINE],
    # adults' topics: a short pointer to a trusted adult (and Childline) instead of benefits advice
    "utter_money": [r"adult you trust", CHILDLINE],
    "utter_money_2": [r"Citizens Advice", r"\{helpline_phone\}", r"\{helpline_hours\}"],
    "utter_housing": [r"adult you trust", CHILDLINE],
    "utter_housing_2": [r"teacher you trust"],
    "utter_kinship_care": [r"grandparents", r"adult you trust", CHILDLINE],
    "utter_kinship_care_2": [r"teacher you trust"],
    # Help with Prison Visits: claimed by an adult for the children with them; 18 to claim (16 for a Scottish prison)
    "utter_visit_costs": [r"Ask the adult you visit with", r"Help with Prison Visits",
                          r"children who come with them can be included on their claim", r"from 18",
                          r"from 16 for a prison in Scotland", r"Northern Ireland's prisons have their own rules"],
    "utter_visit_costs_2": [r"tickets", r"within 28 days", r"gov\.uk/help-with-prison-visits", r"0300 063 2100",
                            r"adult you trust", CHILDLINE],
}
# (response, nation) -> what the young person's answer for a prison in that nation must say
NATION_KEY_FACTS = {
    ("utter_find_prison", "scotland"): [r"adult you trust", r"In Scotland", r"solicitor", r"Families Outside, free on 0800 254 0088"],
    ("utter_find_prison", "northern_ireland"): [r"adult you trust", r"Maghaberry, Magilligan and Hydebank Wood",
                                                r"solicitor", r"NIACRO \(niacro\.co\.uk\)"],
    # SPS: each prison books its own way; a convicted person books the visit; no national rule for young people
    ("utter_visit_booking", "scotland"): [r"In Scotland each prison books visits its own way", r"adult you trust",
                                          r"Rules for young people differ between prisons", r"0800 254 0088"],
    # nidirect: booking reference; 16 or 17 alone with a parent's or guardian's written consent
    ("utter_visit_booking", "northern_ireland"): [r"booking reference", r"Under-16s must come with an adult",
                                                  r"16 or 17", r"written consent", r"adult you trust"],
    ("utter_visit_rules", "scotland"): [r"photo ID", r"Young Scot card", r"differs between prisons"],
    ("utter_visit_rules", "northern_ireland"): [r"birth certificate or medical card", r"16 or 17", r"own ID",
                                                r"photographed and have a finger scanned"],
    ("utter_keep_in_touch", "scotland"): [r"Writing letters", r"prison number", r"you can't ring them",
                                          r"Email a Prisoner", r"Virtual Visit"],
    ("utter_keep_in_touch", "northern_ireland"): [r"Writing letters", r"virtual visits", r"niacro\.co\.uk/family-links"],
    ("utter_visit_costs", "scotland"): [r"Help with Prison Visits", r"From 16 you can claim yourself",
                                        r"included on the claim of the adult you visit with", r"0800 254 0088"],
    ("utter_visit_costs", "northern_ireland"): [r"works differently for Northern Ireland's prisons",
                                                r"ask the adult you visit with to ask the prison", r"niacro\.co\.uk/family-links"],
    ("utter_visit_costs_2", "scotland"): [r"tickets", r"gov\.uk/help-with-prison-visits", r"adult you trust", CHILDLINE],
    ("utter_visit_costs_2", "northern_ireland"): [r"lives in England, Wales or Scotland", r"gov\.uk/help-with-prison-visits",
                                                  r"adult you trust", CHILDLINE],
}
NATION_SOURCES = {"scotland": r"familiesoutside\.org\.uk|sps\.gov\.uk",
                  "northern_ireland": r"nidirect\.gov\.uk|niacro\.co\.uk|prisonersfamilies\.org/help-with-the-cost-of-prison-visits"}
# Responses that also have nation variants: the young person's answer must hold in every nation, because
# Rasa picks at random among the conditional variants that match.
WITH_NATION_VARIANTS = {"utter_visit_booking", "utter_visit_rules", "utter_keep_in_touch", "utter_find_prison", "utter_housing",
                        "utter_visit_costs"}
AUDIENCES = (None, "family", "young_person", "professional")
NATIONS = (None, "england", "wales", "scotland", "northern_ireland")
ADULT_ONLY_WORDS = re.compile(r"\bGP\b|Samaritans|Universal Credit|Housing Benefit|your child\b|the children\b|tenancy", re.I)


def is_young_person(item: dict) -> bool:
    return any(c.get("name") == "audience" and c.get("value") == "young_person" for c in item.get("condition", []))


def matches(item: dict, slots: dict) -> bool:
    """Rasa's test for a conditional variant: every condition equals the slot's value (unset is None)."""
    return bool(item.get("condition")) and all(slots.get(c["name"]) == c["value"] for c in item["condition"])


def matching(name: str, **slots) -> list[dict]:
    return [item for item in DOMAIN["responses"][name] if matches(item, slots)]


def young_person_variant(name: str, nation: str | None = None) -> dict:
    """The variant a young person gets, for a prison in `nation` (None: not known)."""
    found = matching(name, audience="young_person", nation=nation)
    assert len(found) == 1 and is_young_person(found[0]), (name, nation, len(found))
    return found[0]


def rendered(text: str) -> str:
    return text.format(**SAMPLE_SLOTS)


@pytest.mark.parametrize("name", sorted(KEY_FACTS))
def test_young_person_variant_exists_first_fits_an_sms_and_carries_its_fact(name):
    items = DOMAIN["responses"][name]
    # Conditional variants come before the unconditional default (Rasa picks among matching
    # conditions first; the order only keeps the file readable).
    first_default = next(i for i, item in enumerate(items) if not item.get("condition"))
    assert any(is_young_person(item) for item in items[:first_default]), f"{name}: the young person's variant goes above the default"
    text = young_person_variant(name)["text"]
    assert len(rendered(text)) <= 320, (name, len(rendered(text)))
    for fact in KEY_FACTS[name]:
        assert re.search(fact, text), (name, fact)
    assert not ADULT_ONLY_WORDS.search(text), name


@pytest.mark.parametrize("name", sorted(KEY_FACTS))
def test_young_person_variant_keeps_the_buttons_or_fitting_ones(name):
    default = [item for item in DOMAIN["responses"][name] if "condition" not in item][0]
    variant = young_person_variant(name)
    assert bool(default.get("buttons")) == bool(variant.get("buttons")), name
    if default.get("buttons"):
        assert len(variant["buttons"]) == len(default["buttons"]), name


@pytest.mark.parametrize("name", sorted(KEY_FACTS))
def test_each_changed_response_records_its_young_person_source(name):
    comments = comment_above(name).splitlines()
    assert any("young person:" in c and "checked 2026-12-04" in c for c in comments), name


@pytest.mark.parametrize("name, nation", sorted(NATION_KEY_FACTS))
def test_young_person_variant_for_scotland_and_northern_ireland_fits_an_sms_and_carries_its_fact(name, nation):
    text = young_person_variant(name, nation)["text"]
    assert text != young_person_variant(name)["text"], (name, nation)  # the nation's own, not the general one
    assert len(rendered(text)) <= 320, (name, nation, len(rendered(text)))
    for fact in NATION_KEY_FACTS[(name, nation)]:
        assert re.search(fact, text), (name, nation, fact)
    assert not ADULT_ONLY_WORDS.search(text), (name, nation)
    default = [item for item in DOMAIN["responses"][name] if "condition" not in item][0]
    assert young_person_variant(name, nation).get("buttons", []) == default.get("buttons", []), (name, nation)


@pytest.mark.parametrize("name, nation", sorted(NATION_KEY_FACTS))
def test_each_nation_variant_for_young_people_records_its_source(name, nation):
    comment = comment_above(name)
    young = [line for line in comment.splitlines() if "young person" in line and "checked 2026-12-04" in line]
    assert young and re.search(NATION_SOURCES[nation], " ".join(young)), (name, nation)


def test_the_young_persons_answer_is_the_same_for_england_wales_and_an_unknown_nation():
    for name in sorted({name for name, _ in NATION_KEY_FACTS}):
        texts = {young_person_variant(name, nation)["text"] for nation in (None, "england", "wales")}
        assert len(texts) == 1, name


def test_the_wellbeing_answer_for_young_people_is_childline_not_the_gp_and_samaritans():
    text = young_person_variant("utter_own_wellbeing")["text"] + young_person_variant("utter_own_wellbeing_2")["text"]
    assert text.index("Childline") < len(young_person_variant("utter_own_wellbeing")["text"])
    assert "Samaritans" not in text and "GP" not in text


def test_nation_variants_are_kept_and_the_young_persons_general_answer_names_no_single_nations_system():
    for name in WITH_NATION_VARIANTS:
        items = DOMAIN["responses"][name]
        nations = [c["value"] for item in items for c in item.get("condition", []) if c["name"] == "nation"]
        assert nations, name  # the nation variants are still there
        # the general answer is also what a young person gets when the nation isn't known: nothing that only
        # one nation's prisons use, unless the sentence says which nation it is about
        text = young_person_variant(name)["text"]
        assert not re.search(r"gov\.uk/|Prisoner Location Service|visitor list|visiting order", text), name


def test_cost_help_for_young_people_says_who_claims_and_the_age_for_each_nation():
    # HWPV guide on gov.uk (updated 21 Feb 2024): minimum age to apply 18, 16 for a prison in Scotland; eligible
    # children are included on the claim; different rules for Northern Ireland's prisons
    general = young_person_variant("utter_visit_costs")["text"]
    assert "adult you visit with" in general and "from 18" in general and "from 16 for a prison in Scotland" in general
    scotland = young_person_variant("utter_visit_costs", "scotland")["text"]
    assert "From 16" in scotland and "18" not in scotland
    northern_ireland = young_person_variant("utter_visit_costs", "northern_ireland")["text"]
    assert not re.search(r"\b1[68]\b", northern_ireland)  # no age claimed where the rules differ
    for nation in NATIONS:
        assert not re.search(r"Universal Credit|Pension Credit|HC2", young_person_variant("utter_visit_costs", nation)["text"])


def test_the_young_person_visit_booking_answer_says_under_16s_come_with_an_adult():
    text = young_person_variant("utter_visit_booking")["text"]
    assert "under-16s must come with an adult" in text
    assert "adult you trust" in text


# Topic responses a young person may ask about that need NO separate version: the shared text already
# reads right for someone under 18 (or already has a young_person variant of its own).
SHARED = {
    "utter_visit_booking_2": "visit entitlements (remand, sentenced, first visit timing) are the same for every visitor",
    "utter_visit_rules_2": "searches, lockers, never take anything in: the same for everyone, children included",
    "utter_visitors_centre": "describes the place; nothing adult-only",
    "utter_visit_children": "already has a young_person variant (16 or 17, own ID, under-16s with an adult)",
    "utter_keep_in_touch_2": "video calls, voicemail, Storybook Dads: reads right for a young person",
    "utter_send_money": "how money is sent; factual for anyone (debit card needed), nothing to change",
    "utter_child_feelings": "already has a young_person variant with Childline",
    "utter_child_feelings_2": "already has a young_person variant",
    "utter_bullying": "already has a young_person variant (telling friends, being judged)",
    "utter_school_young_person": "already written for young people; checked against seed 003 Annex 3 (no questions about the crime, authorised absence)",
    "utter_arrest": "explains police custody; includes the under-18 rule; nothing adult-only",
    "utter_court": "explains the courts; nothing adult-only",
    "utter_court_2": "already says a parent or guardian must go to youth court with anyone under 16",
    "utter_next_remand": "explains remand and visits; reads right",
    "utter_sentence": "explains release part-way through; reads right",
    "utter_sentence_2": "explains life, IPP and suspended sentences; reads right",
    "utter_next_sentenced": "the steps after sentence; reads right (the young person's own versions are behind its buttons)",
    "utter_youth_custody": "explains youth custody; reads right",
    "utter_youth_custody_2": "already says under-18s must come with an adult",
    "utter_bad_news_2": "Special Purpose Licence and the helpline: information the family needs, reads right",
    "utter_death_in_custody_2": "the Ombudsman investigates and contacts the family: reads right",
    "utter_death_in_custody_3": "INQUEST and the helpline for the family: reads right",
    "utter_risk_self": "already has a young_person variant",
    "utter_risk_child": "already has a young_person variant",
    "utter_express_distress": "already has a young_person variant",
}
@pytest.mark.parametrize("name", sorted(SHARED))
def test_shared_answers_need_no_young_person_version(name):
    items = DOMAIN["responses"][name]
    own = [item for item in items if is_young_person(item)]
    if "already has a young_person variant" in SHARED[name]:
        assert own, name
        return
    assert not own, f"{name} was judged shared: update SHARED if it now has its own version"
    # what a young person gets here is the shared text: nothing in it is only for adults
    for item in items:
        if "condition" not in item:
            assert not ADULT_ONLY_WORDS.search(item["text"]), name


def test_in_every_nation_a_young_person_gets_their_own_variant_and_adults_the_nations():
    """Rasa picks at random among matching variants: a young person whose prison is in Scotland or
    Northern Ireland gets that nation's young person's answer every time, and an adult there the nation's."""
    for name in sorted({name for name, _ in NATION_KEY_FACTS}):
        for nation in NATIONS:
            [young] = matching(name, audience="young_person", nation=nation)
            assert is_young_person(young), (name, nation)
            for audience in (None, "family", "professional"):
                found = matching(name, audience=audience, nation=nation)
                if nation in ("scotland", "northern_ireland"):
                    assert len(found) == 1 and {"type": "slot", "name": "nation", "value": nation} in found[0]["condition"], (name, audience, nation)
                    assert found[0]["text"] != young["text"]
                else:
                    assert found == [], (name, audience, nation)  # the unconditional default answers


def test_for_every_audience_and_nation_at_most_one_variant_matches():
    overlapping = set()
    for name in DOMAIN["responses"]:
        for audience in AUDIENCES:
            for nation in NATIONS:
                if len(matching(name, audience=audience, nation=nation)) > 1:
                    overlapping.add(name)
    assert not overlapping, sorted(overlapping)


@pytest.mark.parametrize("name", ["utter_visit_booking", "utter_visit_costs", "utter_visit_costs_2", "utter_housing"])
def test_rasa_sends_a_young_person_in_scotland_their_own_answer(name):
    # rendered by Rasa's own response generator, as a conversation would have the slots
    [young] = render(name, audience="young_person", nation="scotland")
    assert young == rendered(young_person_variant(name, "scotland")["text"])
    [adult] = render(name, audience="family", nation="scotland")
    assert adult != young
