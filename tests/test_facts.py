"""The facts the replies state, checked against current official guidance (issue 13, item 2).

Each test names the rule and where it comes from; domain.yml records the source and the date it
was checked above each response. The conditional replies are rendered by Rasa's own response
generator, with the slots as a conversation would have them.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.support.domain import comment_above, render

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_TEXT = (ROOT / "domain.yml").read_text()
DOMAIN = yaml.safe_load(DOMAIN_TEXT)
KNOWN_NUMBERS = yaml.safe_load((ROOT / "tests" / "known_numbers.yml").read_text())

HELPLINE = "0808 808 3444"  # prisonadvice.org.uk/pact-helpline, checked 2026-12-03
HOURS = "Mon-Fri 10am-5pm"  # the same page: Monday to Friday, 10am to 5pm
OLD_HELPLINE = "0808 808 2003"  # seeds 002 and 003; no longer the helpline's number


def texts(name: str) -> list[str]:
    """Every variant's text of one response."""
    return [item["text"] for item in DOMAIN["responses"][name]]


def all_variants():
    for name, items in DOMAIN["responses"].items():
        for item in items:
            yield name, item["text"]


# --- the national helpline: its number and its hours ------------------------------------------
def test_the_helpline_slot_gives_the_current_number_and_hours():
    assert DOMAIN["slots"]["helpline_phone"]["initial_value"] == HELPLINE
    assert DOMAIN["slots"]["helpline_hours"]["initial_value"] == HOURS
    assert HELPLINE in KNOWN_NUMBERS and "pact-helpline" in KNOWN_NUMBERS[HELPLINE]["source"]
    assert OLD_HELPLINE not in KNOWN_NUMBERS


def test_the_old_helpline_number_is_gone_from_replies_code_and_readme():
    assert OLD_HELPLINE not in yaml.safe_dump([DOMAIN["responses"], DOMAIN["slots"]])  # (comments may cite it)
    places = [ROOT / "README.md", *sorted((ROOT / "bot" / "channels").glob("*.py"))]
    stale = [str(p.relative_to(ROOT)) for p in places if OLD_HELPLINE in p.read_text()]
    assert stale == []


def test_the_code_gives_the_domains_number_and_hours():
    """Python has no number of its own (tests/test_texts.py): it reads the domain's slots."""
    from bot import texts
    from bot.channels import limits, sms, turn

    assert texts.helpline_phone() == HELPLINE and texts.helpline_hours() == HOURS
    for notice in (limits.RATE_LIMITED, limits.BUSY, turn.CANNOT_ANSWER):
        assert f"{HELPLINE} ({HOURS})" in texts.text(notice)
    assert f"{HELPLINE} ({HOURS})" in sms.help_text()


def names_the_helpline(text: str) -> bool:
    return "{helpline_phone}" in text or "Prisoners' Families Helpline" in text


def test_every_reply_naming_the_helpline_gives_its_number_and_hours():
    named = [(name, text) for name, text in all_variants() if names_the_helpline(text)]
    assert len(named) > 20
    missing = [name for name, text in named if "{helpline_phone}" not in text or "{helpline_hours}" not in text]
    assert missing == []


def test_no_sentence_naming_the_helpline_reads_as_open_all_hours():
    all_hours = re.compile(r"any ?time|24 hours|24/7|day or night|round the clock|whenever", re.I)
    wrong = []
    for name, text in all_variants():
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            if names_the_helpline(sentence) and all_hours.search(sentence):
                wrong.append((name, sentence))
    assert wrong == []


def test_goodbye_keeps_the_assistant_and_the_helpline_hours_apart():
    [text] = render("utter_goodbye")
    assert "any time, day or night" in text  # this assistant
    assert f"{HELPLINE}, {HOURS}" in text  # the helpline, with its hours
    assert "116 123" in text  # someone to talk to outside those hours


def test_the_rendered_reply_fills_in_number_and_hours():
    [text] = render("utter_arrest_2")
    assert f"free on {HELPLINE} ({HOURS})" in text and "{" not in text


# --- visiting ----------------------------------------------------------------------------------
def test_id_rule_everyone_but_accompanied_under_16s_and_two_lists_without_photo_id():
    text = " ".join(texts("utter_visit_rules") + texts("utter_visit_rules_2"))
    assert re.search(r"everyone visiting must show ID, except children under 16 who come with an adult", text, re.I)
    assert "list B" in text and "list C" in text and "one document from list B" in text
    assert "Freedom Pass" in text and "birth certificate" in text
    assert not re.search(r"18 or over needs ID", text)
    assert "Annex A" in comment_above("utter_visit_rules") and "checked 2026-12-03" in comment_above("utter_visit_rules")


def test_visit_entitlements_on_remand_and_after_sentence():
    text = " ".join(texts("utter_visit_booking_2"))
    assert "three 1-hour visits a week" in text and "at least two 1-hour visits every 4 weeks" in text
    assert "three 1-hour visits a week" in " ".join(texts("utter_next_remand") + texts("utter_court_2"))
    assert "visitor list" in " ".join(texts("utter_visit_booking"))


def test_help_with_prison_visits_eligibility_and_time_limit():
    text = " ".join(texts("utter_visit_costs") + texts("utter_visit_costs_2"))
    assert "Help with Prison Visits" in text and "gov.uk/help-with-prison-visits" in text
    for needed in ("18 or over", "Universal Credit", "Pension Credit", "Income Support", "income-based JSA",
                   "income-related ESA", "HC2 or HC3", "partner", "close relative", "next of kin",
                   "only visitor in the last 4 weeks", "bringing their child", "within 28 days"):
        assert needed in text, needed


def test_assisted_prison_visits_scheme_is_only_named_as_the_old_name():
    for name, text in all_variants():
        if re.search(r"assisted prison visits", text, re.I):
            assert "Help with Prison Visits" in text, name


# --- court and custody -------------------------------------------------------------------------
def test_youth_courts_are_closed_a_parent_goes_and_remanded_children_go_to_youth_custody():
    text = " ".join(texts("utter_court") + texts("utter_court_2"))
    assert "youth court" in text.lower()
    assert "Youth courts aren't open to the public" in text
    assert "parent or guardian must go with anyone under 16" in text
    assert "under-18s to a secure centre for young people, not an adult prison" in text
    assert not re.search(r"you can usually sit in the public gallery", text, re.I)


def test_ipp_is_explained():
    text = " ".join(texts("utter_sentence_2"))
    assert "imprisonment for public protection" in text and "2012" in text and "Parole Board" in text


# --- money -------------------------------------------------------------------------------------
def test_no_reply_offers_cash_cheques_or_postal_orders_as_a_way_to_send_money():
    for name, text in all_variants():
        if re.search(r"postal order|cheque|\bcash\b", text, re.I):
            assert "No prison takes cash, cheques, postal orders" in text, name
    text = " ".join(texts("utter_send_money"))
    assert "gov.uk/send-prisoner-money" in text and "exemption" in text and "3 working days" not in text


# --- release -----------------------------------------------------------------------------------
def test_probation_not_the_prison_checks_a_curfew_address():
    text = " ".join(texts("utter_hdc") + texts("utter_hdc_2"))
    assert "probation (not the prison) checks the address" in text
    assert "the prison checks the address" not in text


def test_the_resettlement_team_is_explained():
    text = " ".join(texts("utter_release_housing"))
    assert re.search(r"resettlement team \(staff who help people plan for release", text)


# --- words for children that do not presume guilt ----------------------------------------------
TELLING = ["utter_tell_children_under_5", "utter_tell_children_5_to_11", "utter_tell_children_12_plus"]


def test_no_telling_children_reply_says_the_parent_did_wrong():
    for name in ["utter_tell_children", "utter_tell_children_mixed", *TELLING]:
        for text in texts(name):
            assert not re.search(r"did something wrong|did something bad|broke the law", text, re.I), name


@pytest.mark.parametrize("name", TELLING)
def test_on_remand_the_children_hear_that_nobody_has_been_found_guilty(name):
    [on_remand] = render(name, stage="remand")
    [sentenced] = render(name, stage="sentenced")
    assert re.search(r"haven't been convicted|hasn't been found guilty|not found guilty", on_remand)
    assert on_remand != sentenced
    assert not re.search(r"convicted|found guilty", sentenced)


def test_remand_is_explained_as_not_convicted():
    assert "They haven't been convicted of anything." in " ".join(texts("utter_next_remand"))


# --- every changed fact records its source and when it was checked -----------------------------
CHECKED = [
    "utter_human", "utter_goodbye", "utter_arrest", "utter_arrest_2", "utter_court", "utter_court_2",
    "utter_next_remand", "utter_sentence_2", "utter_next_sentenced", "utter_find_prison", "utter_visit_booking",
    "utter_visit_booking_2", "utter_visit_rules", "utter_visit_children", "utter_visit_costs", "utter_keep_in_touch",
    "utter_keep_in_touch_2", "utter_send_money", "utter_hdc", "utter_release_housing",
]


@pytest.mark.parametrize("name", CHECKED)
def test_each_changed_reply_names_its_source_and_the_date_checked(name):
    comment = comment_above(name)
    assert "checked 2026-12-03" in comment and re.search(r"gov\.uk|prisonadvice|service\.gov\.uk", comment), name
