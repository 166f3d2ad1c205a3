"""Content rules for every response: text-message length, real buttons, sourced facts."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_TEXT = (ROOT / "domain.yml").read_text()
DOMAIN = yaml.safe_load(DOMAIN_TEXT)

# Every number the assistant may give, who answers it, and where it was checked.
KNOWN_NUMBERS = yaml.safe_load((ROOT / "tests" / "known_numbers.yml").read_text())
SAMPLE_SLOTS = {
    "helpline_phone": "0808 808 3444",
    "helpline_hours": "Mon-Fri 10am-5pm",
    "area": "Kings Lynn and West Norfolk",
    "prison": "HMP Wormwood Scrubs",
    "prison_address": "Du Cane Road, London, W12 0AE",
    "prison_page": "https://www.gov.uk/guidance/kirklevington-grange-prison",  # the longest (bot/geo/pages.py)
    # the call-back form's answers (bot/referrals/form.py)
    "referral_safe_to_call": "yes",
    "referral_leave_message": "no",
    "referral_best_time": "x" * 60,  # form.MAX_TIME
    "referral_note": "x" * 300,  # form.MAX_NOTE
}
# Values actions pass to a response (action_search_services), at their longest.
ACTION_VALUES = {
    "service_name": "Prisoners' Families Helpline: Visitors' centres and play areas at HMP Low Newton",
    "service_description": "x" * 140,  # seed descriptions are at most 140 characters
    "service_contact": "Tel 0191 332 3450.",
    "service_freshness": "details from May 2011, may have changed",
    "service_scope": "national",
    "need_name": "someone to talk to and support groups",
    # the referral form and its replies (actions/referral.py, bot/referrals/form.py)
    "retention_days": "365",
    # action_what_you_know: everything it can list, at its longest (bot.profile.known_facts)
    "known": "you're a young person with someone in prison; your area is Kings Lynn and West Norfolk; the prison is "
             "HMP Wormwood Scrubs; they're due to be released; the children are different ages; you've asked for a "
             "call back, with a name and number for it",
    "referral_summary": "x" * 160,  # form.SUMMARY_SHOWN_LIMIT
    "referral_details": "x" * 200,  # form.DETAILS_LIMIT
    "reference": "FC-XXXXXX",
    "phone_display": "07700 900123",
    "best_time_words": "at the time you gave (" + "x" * 60 + ")",  # form.MAX_TIME
    # the words bot/ puts together itself (bot/texts.py): channel notices, SMS options, directory
    # lines, the call-back summary
    "max_chars": "2000",  # MAX_MESSAGE_CHARS
    "option_1": "x" * 24, "option_2": "x" * 24, "option_3": "x" * 24,  # bot/channels/sms.py INLINE_TITLE_CHARS
    "options": "1 Visiting\n2 Telling children\n3 Money and housing help\n4 Release",
    "service_phone": "0191 332 3450",
    "service_opening_times": "Mon-Fri 9am-5pm",
    "service_url": "https://www.prisonersfamilies.org/",
    "service_email": "info@prisonersfamilies.org",
    "checked_on": "30 Nov 2026",
    "checked_month": "Nov 2026",
    "topic": "figures about prisoners' families",
    "topics": "figures about prisoners' families, pregnancy or a baby in prison, closed visits or a visit ban",
    "last_topic": "someone's safety in prison",
    # the answers cut short for the list to confirm (bot/referrals/form.py details)
    "shown_name": "x" * 24, "shown_best_time": "x" * 24, "shown_area": "x" * 24, "shown_summary": "x" * 38,
    # a concern for someone inside, read back before the list (bot/referrals/concern_form.py details_values)
    "shown_prison": "Hydebank Wood Secure College and Women's Prison",  # the register's longest name
    "shown_concern_name": "x" * 24, "concern_kind_words": "threats or bullying", "shown_last_heard": "x" * 24,
}
# Responses that state no facts: greetings, questions back, acknowledgements.
NO_FACTS = {
    "utter_greet", "utter_capabilities", "utter_thank", "utter_affirm", "utter_deny",
    "utter_out_of_scope", "utter_default", "utter_what_can_i_help", "utter_noted",
    "utter_noted_area", "utter_noted_audience", "utter_noted_child_age", "utter_ask_audience",
    "utter_ask_child_age", "utter_ask_stage", "utter_goodbye",
    # a fact put right, and what the chat holds (from the person's own words)
    "utter_noted_area_changed", "utter_noted_prison_changed", "utter_noted_audience_changed",
    "utter_what_you_know", "utter_what_you_know_nothing", "utter_known_audience", "utter_known_area",
    "utter_known_prison", "utter_known_stage", "utter_known_child_age_group", "utter_known_callback",
    # the directory's replies: each service's source is recorded with its entry
    "utter_ask_directory_area", "utter_directory_local", "utter_directory_nothing_local",
    "utter_directory_no_need_match", "utter_directory_result", "utter_directory_more", "utter_prison_services",
    # words bot/ puts together itself (bot/texts.py): options, menus, lines, the call-back summary
    "utter_sms_options_2", "utter_sms_options_3", "utter_sms_options_list", "utter_telegram_menu_help",
    "utter_directory_contact_phone_hours", "utter_directory_contact_web", "utter_directory_contact_email",
    "utter_directory_last_checked", "utter_directory_not_checked_since", "utter_directory_not_checked",
    "utter_referral_summary_topics", "utter_referral_summary_professional", "utter_referral_summary_relationship",
    "utter_referral_summary_stage", "utter_referral_summary_note",
}
# Plain words for a value, one response each (bot/referrals/form.py topic_words): no facts.
NO_FACTS_PREFIXES = ("utter_referral_topic_",)


def variants():
    for name, items in DOMAIN["responses"].items():
        for item in items:
            yield name, item


def interpolated(text: str) -> str:
    """What Rasa's response interpolator makes of a string with no slot placeholders."""
    from rasa.core.nlg.interpolator import interpolate_text

    return interpolate_text(text, {})


def rendered(text: str) -> str:
    return text.format(**SAMPLE_SLOTS, **ACTION_VALUES)


def as_sms(item: dict) -> str:
    """What a text message shows: the text, then buttons as numbered options."""
    text = rendered(item["text"])
    for i, button in enumerate(item.get("buttons", []), start=1):
        text += f"\n{i} {button['title']}"
    return text


def test_every_reply_fits_in_two_text_messages_and_most_in_one():
    lengths = [len(as_sms(item)) for _, item in variants()]
    assert max(lengths) <= 640
    short = sum(length <= 320 for length in lengths) / len(lengths)
    assert short >= 0.8, f"only {short:.0%} of replies fit in 320 characters"


def test_every_reply_text_alone_is_within_320():
    too_long = [(name, len(rendered(item["text"]))) for name, item in variants() if len(rendered(item["text"])) > 320]
    assert too_long == []


def test_templates_only_use_slots_and_values_actions_pass():
    known = set(DOMAIN["slots"]) | set(ACTION_VALUES)
    for name, item in variants():
        for field in re.findall(r"{(\w+)}", item["text"]):
            assert field in known, (name, field)


def test_buttons_send_real_intents_and_entities():
    intents = set(DOMAIN["intents"])
    entities = set(DOMAIN["entities"])
    for name, item in variants():
        for button in item.get("buttons", []):
            payload = interpolated(button["payload"])
            match = re.fullmatch(r"/(\w+)(\{.*\})?", payload)
            assert match, (name, button)
            assert match.group(1) in intents, (name, button)
            if match.group(2):
                for key, value in yaml.safe_load(match.group(2)).items():
                    assert key in entities, (name, key)
            assert len(button["title"]) <= 24, (name, button["title"])
            assert len(payload.encode()) <= 64, (name, payload)  # Telegram's callback_data limit


def test_every_phone_number_is_a_known_one():
    for name, item in variants():
        text = item["text"]
        for number in re.findall(r"\b0\d{3} ?\d{3,4} ?\d{3,4}\b|\b116 123\b|\b999\b|\bpress 55\b", text):
            number = number.replace("press ", "")
            assert number in KNOWN_NUMBERS, (name, number)


def test_every_factual_response_names_its_source():
    lines = DOMAIN_TEXT.splitlines()
    start = lines.index("responses:")
    missing = []
    for i in range(start, len(lines)):
        match = re.fullmatch(r"  (utter_\w+):", lines[i])
        if not match:
            continue
        name = match.group(1)
        if name in NO_FACTS or name.startswith(NO_FACTS_PREFIXES) or re.search(r"_2$", name):
            continue  # a second message shares the first one's source
        if not lines[i - 1].strip().startswith("#"):
            missing.append(name)
    assert missing == []


@pytest.mark.parametrize("name, item", list(variants()))
def test_no_reply_asks_about_the_offence(name, item):
    text = item["text"].lower()
    assert not re.search(r"what (did|was) (he|she|they) (do|done|convicted|charged)|what (was|is) the (crime|offence)", text)


def test_no_typed_answer_in_a_form_is_taken_from_a_safety_message():
    """Every slot filled from typed text refuses the safety intents (domain.yml's &not_an_answer
    list, bot.nlp.safety.SAFETY_INTENTS): a crisis message is never stored as a name or a phone."""
    from bot.nlp.safety import SAFETY_INTENTS

    for name, slot in DOMAIN["slots"].items():
        for mapping in slot.get("mappings", []):
            if mapping.get("type") == "from_text":
                assert set(SAFETY_INTENTS) <= set(mapping.get("not_intent", [])), name
