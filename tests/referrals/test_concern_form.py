"""The concern questions the call-back form adds (bot/referrals/concern_form.py): which prison
(from the register), a name for the person inside, the kind of worry, when they last heard;
what is read back and stored; and the concern's consent wording tied to its version."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.referrals import concern_form as cf
from bot.referrals import consent
from bot.referrals.models import CONCERN_KINDS

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
FORM_SLOTS = DOMAIN["forms"]["referral_form"]["required_slots"]


def test_only_a_concern_asks_the_concern_questions_right_after_consent():
    assert cf.required_slots(FORM_SLOTS, concern=False) == [
        "referral_consent", "referral_name", "referral_phone", "referral_safe_to_call", "referral_leave_message",
        "referral_best_time", "area", "referral_note", "referral_confirmed",
    ]  # the ordinary call back, as it was
    assert cf.required_slots(FORM_SLOTS, concern=True)[:6] == [
        "referral_consent", "referral_concern_prison", "referral_concern_name", "referral_concern_kind",
        "referral_concern_last_heard", "referral_name",
    ]


@pytest.mark.parametrize("text, prison_id, name", [
    ("HMP Durham", "DMI", "HMP Durham"),
    ("durham", "DMI", "HMP Durham"),
    ("he's in durham", "DMI", "HMP Durham"),
    ("hes at the scrubs", "WSI", "HMP Wormwood Scrubs"),
    ("Strangeways", "MRI", "HMP Manchester"),
    ("barlinnie", "SPS-BAR", "HMP Barlinnie"),
    ("DMI", "DMI", "HMP Durham"),  # the slot's own value, checked again when the form starts with it
])
def test_a_prison_the_register_knows_sets_the_prison_and_its_page(text, prison_id, name):
    answer = cf.read_prison(text)
    assert not answer.retry and answer.values[cf.PRISON] == prison_id and answer.values["prison"] == name


def test_the_prison_sets_the_conversations_prison_page_and_nation():
    values = cf.read_prison("leeds").values
    assert values["prison_page"] == "https://www.gov.uk/guidance/leeds-prison" and values["nation"] == "england"
    assert cf.read_prison("maghaberry").values["nation"] == "northern_ireland"
    assert cf.read_prison("maghaberry").values["prison_page"] is None  # no GOV.UK page in Northern Ireland


def test_the_nlu_prison_entity_is_taken_first():
    assert cf.read_prison("that one in yorkshire", entity="HMP Leeds").values[cf.PRISON] == "LEI"


@pytest.mark.parametrize("text", ["not sure", "I don't know", "no idea which one", "/deny", "no"])
def test_not_sure_is_an_answer(text):
    assert cf.read_prison(text) == cf.Answer({cf.PRISON: cf.UNKNOWN_PRISON})


def test_a_prison_nobody_knows_is_asked_again_kindly():
    assert cf.read_prison("narnia") == cf.Answer(retry=True, response="utter_referral_concern_prison_unknown")
    assert cf.read_prison("yes") == cf.Answer(retry=True)  # "yes" is not a prison: the question again, no scolding
    text = DOMAIN["responses"]["utter_referral_concern_prison_unknown"][0]["text"]
    assert text.startswith("Sorry") and "not sure" in text


@pytest.mark.parametrize("text, name", [
    ("Jamie", "Jamie"), ("his name is Jamie Reed", "Jamie Reed"), ("she's called Kim", "Kim"), ("its Dave", "Dave"),
    ("skip", ""), ("/deny", ""), ("rather not say", ""),
])
def test_a_name_for_the_person_inside_or_skip(text, name):
    assert cf.read_name(text) == cf.Answer({cf.NAME: name})


@pytest.mark.parametrize("text, response", [("A1234BC", "utter_referral_concern_name_invalid"), ("yes", None),
                                            ("what do you need his name for?", "utter_referral_concern_name_invalid")])
def test_not_a_name_is_asked_again(text, response):
    assert cf.read_name(text) == cf.Answer(retry=True, response=response)


@pytest.mark.parametrize("text, kind", [
    ("self_harm", "self_harm"), ("health", "health"),
    ("he's being bullied", "threats_or_bullying"), ("someone threatened him over a debt", "threats_or_bullying"),
    ("he's been hurting himself", "self_harm"), ("he's not well, needs his meds", "health"),
    ("haven't heard from him in a week", "not_heard_from"), ("not heard from him since he was ill", "not_heard_from"),
    ("something else", "other"),
])
def test_the_kind_of_worry_from_a_button_or_in_words(text, kind):
    assert cf.read_kind(text) == cf.Answer({cf.KIND: kind})


def test_the_button_entity_is_taken_first_and_every_button_is_a_kind():
    assert cf.read_kind('/inform{"concern_kind": "not_heard_from"}', entity="not_heard_from").values[cf.KIND] == "not_heard_from"
    buttons = DOMAIN["responses"]["utter_ask_referral_form_referral_concern_kind"][0]["buttons"]
    kinds = [yaml.safe_load(b["payload"].replace("{{", "{").replace("}}", "}")[len("/inform"):])["concern_kind"] for b in buttons]
    assert kinds == list(CONCERN_KINDS)


def test_an_unclear_kind_is_asked_again():
    assert cf.read_kind("blah") == cf.Answer(retry=True, response="utter_referral_concern_kind_invalid")
    assert cf.read_kind("yes") == cf.Answer(retry=True)


@pytest.mark.parametrize("text, heard", [("yesterday", "yesterday"), ("  two   weeks ago ", "two weeks ago"), ("skip", ""),
                                         ("not sure", "not sure")])
def test_when_they_last_heard_in_their_words(text, heard):
    assert cf.read_last_heard(text) == cf.Answer({cf.LAST_HEARD: heard})


def test_a_long_last_heard_is_asked_again_shorter():
    assert cf.read_last_heard("x" * 61) == cf.Answer(retry=True, response="utter_referral_concern_last_heard_invalid")
    assert cf.read_last_heard("yes") == cf.Answer(retry=True)


def test_read_sends_each_question_to_its_reader():
    assert cf.read(cf.PRISON, "hull").values[cf.PRISON] == "HLI"
    assert cf.read(cf.NAME, "Jo").values == {cf.NAME: "Jo"}
    assert cf.read(cf.KIND, "/inform", entities={"concern_kind": "health"}).values == {cf.KIND: "health"}
    assert cf.read(cf.LAST_HEARD, "today").values == {cf.LAST_HEARD: "today"}


def test_what_is_read_back_before_sending():
    shown = cf.details_values({cf.PRISON: "DMI", cf.NAME: "Jamie Reed", cf.KIND: "threats_or_bullying", cf.LAST_HEARD: "yesterday"})
    assert shown == {"shown_prison": "HMP Durham", "shown_concern_name": "Jamie Reed",
                     "concern_kind_words": "threats or bullying", "shown_last_heard": "yesterday"}
    unknown = cf.details_values({cf.PRISON: cf.UNKNOWN_PRISON, cf.NAME: ""})
    assert unknown == {"shown_prison": "not known", "shown_concern_name": "not given", "concern_kind_words": "not given",
                       "shown_last_heard": "not given"}
    assert {cf.kind_words(kind) for kind in CONCERN_KINDS} == {
        "self-harm", "threats or bullying", "their health", "not heard from them", "something else"}


def test_what_is_stored_with_the_case():
    slots = {cf.CONCERN: True, cf.PRISON: "DMI", cf.NAME: "", cf.KIND: "health", cf.LAST_HEARD: "today"}
    assert cf.case_fields(slots) == {"concern": True, "concern_prison_id": "DMI", "concern_person_name": None,
                                     "concern_kind": "health", "concern_last_heard": "today"}
    assert cf.case_fields({**slots, cf.PRISON: cf.UNKNOWN_PRISON})["concern_prison_id"] is None
    assert cf.case_fields({cf.PRISON: "DMI"}) == {}  # an ordinary call back stores no concern


def test_the_prison_already_named_in_the_conversation():
    assert cf.known_prison("HMP Hull") == "HLI" and cf.known_prison(None) is None and cf.known_prison("Narnia") is None


def test_a_town_named_as_the_prison_leaves_the_callers_area_as_it_was():
    events = [
        {"event": "slot", "name": "area", "value": "Stockton-on-Tees"},
        {"event": "user", "text": "yes"},
        {"event": "slot", "name": "area", "value": "Leeds"},  # after "yes": still before the latest message
        {"event": "user", "text": "durham"},
        {"event": "slot", "name": "area", "value": "County Durham"},
    ]
    assert cf.value_before_latest_message(events, "area") == "Leeds"
    assert cf.value_before_latest_message(events[3:], "area") is None


# --- the concern's consent wording -----------------------------------------------------------

def test_the_concern_consent_wording_has_not_changed_without_a_new_version():
    variants = DOMAIN["responses"][consent.CONCERN_CONSENT_RESPONSE]
    assert consent.consent_digest(variants) == consent.WORDING_SHA256[consent.CONCERN_CONSENT_VERSION], (
        "The concern consent wording changed: give it a new CONCERN_CONSENT_VERSION in bot/referrals/consent.py"
    )
    assert consent.version_for(True) == "concern-1" and consent.version_for(False) == consent.CONSENT_VERSION
    assert consent.response_for(True) == consent.CONCERN_CONSENT_RESPONSE


def test_the_concern_consent_says_what_whom_the_prison_how_long_and_the_way_out():
    text = DOMAIN["responses"][consent.CONCERN_CONSENT_RESPONSE][0]["text"]
    for part in ("your name", "number", "your worry", "helpline team", "prison's Safer Custody team", "{retention_days} days",
                 "cancel", "delete"):
        assert part in text, part
    assert [b["payload"] for b in DOMAIN["responses"][consent.CONCERN_CONSENT_RESPONSE][0]["buttons"]] == ["/affirm", "/deny"]


@pytest.mark.parametrize("text, names", [
    ("self-harm", True), ("Self harm", True), ("hes being bullied", True), ("his health", True), ("not heard from him", True),
    ("I want to hurt myself", False), ("is he self harming?", False), ("something else", False), ("", False),
    ("he told me on the phone last week that he wants to end it all", False),  # too long to be a pick: the safety reply
])
def test_names_the_worry(text, names):
    assert cf.names_the_worry(text) is names
