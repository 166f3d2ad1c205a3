"""Answers for professionals (issue 14, item 3: "Who is asking shapes every answer").

When the asker is a professional (slot audience = professional: teachers, school staff, social
workers, health visitors, youth workers, probation), the topic answers written for a parent get a
professional variant. Each test names the key fact the variant must carry; domain.yml records the
source above each response ("professionals: ..., checked 2026-12-04").
"""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
import yaml
from tests.support.domain import comment_above  # the comment lines above a response: its recorded source

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_TEXT = (ROOT / "domain.yml").read_text()
DOMAIN = yaml.safe_load(DOMAIN_TEXT)
SLOTS = {"helpline_phone": "0808 808 3444", "helpline_hours": "Mon-Fri 10am-5pm"}
CHILDLINE = "0800 1111"  # nspcc.org.uk/what-is-child-abuse, checked 2026-12-04


PROFESSIONAL = {"type": "slot", "name": "audience", "value": "professional"}
NATIONS = (None, "england", "wales", "scotland", "northern_ireland")


def matching(name: str, **slots) -> list[dict]:
    """The conditional variants Rasa would choose among (every condition equals the slot; unset is None)."""
    return [
        item for item in DOMAIN["responses"][name]
        if item.get("condition") and all(slots.get(c["name"]) == c["value"] for c in item["condition"])
    ]


def professional_variant(name: str, nation: str | None = None) -> dict:
    """The variant a professional gets (for a prison in `nation`; None: not known)."""
    found = matching(name, audience="professional", nation=nation)
    assert len(found) == 1 and PROFESSIONAL in found[0]["condition"], \
        f"{name} ({nation}): expected one professional variant, found {len(found)}"
    return found[0]


def default_variant(name: str) -> dict:
    [item] = [item for item in DOMAIN["responses"][name] if "condition" not in item]
    return item


# response -> patterns its professional variant must contain (the key facts it has to carry)
KEY_FACTS = {
    "utter_child_feelings": [r"Listen without judging", r"don't ask about the crime", r"named adult"],
    "utter_child_feelings_2": [r"early help assessment", r"family's consent", r"safeguarding procedures",
                               r"Childline.*" + CHILDLINE],
    "utter_tell_children_honesty": [r"from their parent or carer", r"family's news to share",
                                    r"rather than telling the child yourself", r"don't ask about the crime"],
    "utter_tell_children": [r"help a parent or carer", r"not the child's fault", r"\{helpline_phone\} \(\{helpline_hours\}\)"],
    "utter_bullying": [r"By law, state schools must have a behaviour policy", r"PSHE", r"information-sharing"],
    "utter_bullying_2": [r"crime", r"police", r"999"],
    "utter_visit_children": [r"best interests", r"child's views", r"Under-16s must come with an adult",
                             r"ask the prison before you offer to take a child"],
    "utter_visit_children_2": [r"authorise absence", r"letters or recorded messages"],
    "utter_release_adjusting": [r"crisis or a fresh start", r"probation", r"children's social care"],
    "utter_release_adjusting_2": [r"safeguarding procedures", r"999", r"\{helpline_phone\} \(\{helpline_hours\}\)"],
    "utter_own_wellbeing": [r"\{helpline_phone\} \(\{helpline_hours\}\)", r"116 123", r"Childline on " + CHILDLINE],
    "utter_own_wellbeing_2": [r"early help assessment", r"consent", r"referrals from professionals"],
    "utter_money": [r"the family should tell Universal Credit"],
    "utter_money_2": [r"Citizens Advice", r"StepChange", r"\{helpline_phone\} \(\{helpline_hours\}\)"],
    "utter_housing": [r"Universal Credit or Housing Benefit", r"housing advice early"],
    "utter_housing_2": [r"tenancy", r"\{helpline_phone\} \(\{helpline_hours\}\)"],
    # kinship care statutory guidance for England (11 October 2024): a kinship local offer, support by the child's needs
    "utter_kinship_care": [r"grandparents or other relatives", r"council's children's services",
                           r"In England each council should publish this as a kinship local offer",
                           r"based on the child's needs, not the legal arrangement"],
    "utter_kinship_care_2": [r"school and GP", r"Citizens Advice", r"Kinship \(kinship\.org\.uk\)",
                             r"in England and Wales", r"\{helpline_phone\} \(\{helpline_hours\}\)"],
    "utter_release_prepare": [r"resettlement team and probation", r"in Scotland, a criminal justice social worker",
                              r"the date, the address, the licence conditions", r"Help the parent or carer plan what to tell the children"],
    "utter_release_prepare_2": [r"With the family's consent", r"school knows the date", r"domestic abuse",
                                r"children's services can help prepare the children for contact",
                                r"\{helpline_phone\} \(\{helpline_hours\}\)"],
    "utter_licence": [r"supervised by the Probation Service", r"written licence", r"where they live", r"a curfew",
                      r"exclusion zones", r"people they mustn't contact"],
    "utter_licence_2": [r"recall", r"in Scotland, a criminal justice social worker", r"limits on contact",
                        r"safeguarding procedures", r"999"],
}


@pytest.mark.parametrize("name", sorted(KEY_FACTS))
def test_professional_variant_exists_fits_one_text_and_carries_its_key_fact(name):
    item = professional_variant(name)
    text = item["text"]
    assert len(text.format(**SLOTS)) <= 320, (name, len(text.format(**SLOTS)))
    for pattern in KEY_FACTS[name]:
        assert re.search(pattern, text), (name, pattern)
    assert text != default_variant(name)["text"]


@pytest.mark.parametrize("name", sorted(KEY_FACTS))
def test_professional_variant_is_first_and_keeps_the_buttons(name):
    items = DOMAIN["responses"][name]
    first_default = next(i for i, item in enumerate(items) if not item.get("condition"))
    assert any(item is professional_variant(name) for item in items[:first_default])  # above the default
    default_payloads = [b["payload"] for b in default_variant(name).get("buttons", [])]
    payloads = [b["payload"] for b in professional_variant(name).get("buttons", [])]
    assert payloads == default_payloads, name


@pytest.mark.parametrize("name", sorted(KEY_FACTS))
def test_each_professional_variant_records_its_source_and_date(name):
    comment = comment_above(name)
    assert "professionals:" in comment and "checked 2026-12-04" in comment, name


def test_no_professional_variant_talks_to_the_asker_as_the_parent():
    for name in KEY_FACTS:
        text = professional_variant(name)["text"]
        assert not re.search(r"\byour (child|children|partner|benefit claim)\b|you're not alone", text), name


def test_the_wellbeing_answer_is_about_the_family_not_the_professional():
    text = professional_variant("utter_own_wellbeing")["text"]
    assert text.startswith("Families often feel")
    assert "GP" not in text and "your GP" not in professional_variant("utter_own_wellbeing_2")["text"]


def test_the_housing_variant_holds_in_every_nation():
    # It is what a professional gets in Wales too (the Wales variant is for the other audiences), so it
    # names no body that exists in only one nation.
    text = professional_variant("utter_housing")["text"]
    assert not re.search(r"Shelter|council|Housing Executive|0808 800 4444", text)
    assert professional_variant("utter_housing", "wales") is professional_variant("utter_housing")


# Professional variants with no nation variants beside them answer every nation: what differs by nation is
# said with the nation's name.
HOLDS_IN_EVERY_NATION = {"utter_kinship_care", "utter_kinship_care_2", "utter_release_prepare",
                         "utter_release_prepare_2", "utter_licence_2"}


def test_professional_variants_that_answer_every_nation_name_the_nation_for_what_differs():
    for name in sorted(HOLDS_IN_EVERY_NATION):
        assert all(professional_variant(name, nation) is professional_variant(name) for nation in NATIONS), name
        text = professional_variant(name)["text"]
        for phrase in ("kinship local offer", "Probation Service", "Kinship (kinship.org.uk)"):
            if phrase in text:
                assert re.search(r"In England|in England and Wales", text), (name, phrase)
        if re.search(r"probation", text, re.I):
            assert "in Scotland, a criminal justice social worker" in text, name


def test_for_every_nation_a_professional_gets_exactly_one_variant():
    """Rasa picks at random among matching variants. Where the answer has Scotland and Northern Ireland
    variants (licence), those answer professionals there (nation before audience); elsewhere the
    professional variant does."""
    for name in sorted(KEY_FACTS):
        # nations whose variant has no audience condition: it answers everyone there, professionals too
        for_everyone = {item["condition"][0]["value"] for item in DOMAIN["responses"][name]
                        if [c["name"] for c in item.get("condition", [])] == ["nation"]}
        for nation in NATIONS:
            found = matching(name, audience="professional", nation=nation)
            assert len(found) == 1, (name, nation, len(found))
            assert (PROFESSIONAL in found[0]["condition"]) == (nation not in for_everyone), (name, nation)
    licence = {nation: matching("utter_licence", audience="professional", nation=nation)[0]["text"] for nation in NATIONS}
    assert licence["scotland"].startswith("In Scotland") and "Northern Ireland" in licence["northern_ireland"]
    assert licence[None] == licence["england"] == licence["wales"] == professional_variant("utter_licence")["text"]


def render(name: str, **slots: str) -> str:
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.from_yaml(DOMAIN_TEXT)
    tracker = DialogueStateTracker.from_events("pro", [SlotSet(k, v) for k, v in slots.items()], slots=domain.slots)
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    return asyncio.run(nlg.generate(name, tracker, CollectingOutputChannel.name()))["text"]


@pytest.mark.parametrize("name", ["utter_child_feelings", "utter_child_feelings_2", "utter_bullying",
                                  "utter_visit_children", "utter_own_wellbeing", "utter_kinship_care",
                                  "utter_release_prepare_2", "utter_licence", "utter_licence_2"])
def test_rasa_sends_the_professional_variant_and_others_keep_theirs(name):
    pro = render(name, audience="professional")
    assert pro == professional_variant(name)["text"].format(**SLOTS)
    assert render(name, audience="family") == default_variant(name)["text"].format(**SLOTS)


def test_rasa_sends_a_professional_in_scotland_the_scotland_licence_answer():
    text = render("utter_licence", audience="professional", nation="scotland")
    assert "criminal justice social worker" in text
    assert render("utter_licence", audience="professional", nation="wales") == professional_variant("utter_licence")["text"]


# Topic responses judged to need NO professional version: the shared answer already reads right.
SHARED_FOR_PROFESSIONALS = {
    # age-specific words for the child; the professional variant of utter_tell_children (sent just
    # before) introduces them as words to share with the parent or carer
    "utter_tell_children_under_5", "utter_tell_children_5_to_11", "utter_tell_children_12_plus",
    "utter_tell_children_mixed",
    # plain description of visitors' centres, addressed to no one in particular
    "utter_visitors_centre",
    # facts on who is responsible for children on a visit; true whoever brings them
    "utter_visit_childcare",
    # already sends a worried adult to the NSPCC helpline or children's services, and children to Childline
    "utter_risk_child",
    # figures for anyone who asks; written with professionals in mind
    "utter_statistics", "utter_statistics_2",
    # written for professionals already
    "utter_refer_family_safeguarding",
    # the professional intents: answers already written for professionals (checked, left as they are)
    "utter_school_professional", "utter_school_professional_2", "utter_info_sharing", "utter_info_sharing_2",
    "utter_hidden_sentence", "utter_hidden_sentence_2", "utter_early_help", "utter_early_help_2",
    "utter_think_family", "utter_think_family_2",
}


def test_responses_judged_shared_for_professionals_are_recorded_and_have_no_professional_variant():
    for name in sorted(SHARED_FOR_PROFESSIONALS):
        assert name in DOMAIN["responses"], name
        conditions = [c for item in DOMAIN["responses"][name] for c in item.get("condition", [])]
        assert not any(c.get("name") == "audience" and c.get("value") == "professional" for c in conditions), name
    assert not SHARED_FOR_PROFESSIONALS & set(KEY_FACTS)
