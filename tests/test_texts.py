"""The words Python puts together come from domain.yml (bot/texts.py): every response the code
names is there, the loader picks and fills a response as Rasa does, no module spells out the
helpline's number or hours, and a channel does not start without the domain."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from bot import texts

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
RESPONSES = DOMAIN["responses"]
# String constants shaped like a response name that are not one: Rasa's metadata key.
NOT_RESPONSES = {"utter_action"}


def python_files() -> list[Path]:
    return sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "actions").rglob("*.py")])


def names_in_code() -> dict[str, set[str]]:
    """Every string constant in bot/ and actions/ shaped like a response name, and where."""
    found: dict[str, set[str]] = {}
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"utter_\w+", node.value):
                found.setdefault(node.value, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_response_the_code_names_is_in_the_domain():
    named = names_in_code()
    assert len(named) > 50
    missing = sorted(
        f"{name} ({', '.join(sorted(where))})" for name, where in named.items()
        if name not in NOT_RESPONSES and name not in RESPONSES
        and not (name.endswith("_") and any(r.startswith(name) for r in RESPONSES))  # a prefix: utter_known_<slot>
    )
    assert missing == []


def test_every_text_the_code_reads_is_in_the_domain():
    """The names each module reads through bot.texts, taken from the modules themselves."""
    from bot.channels import limits, sms, telegram, turn
    from bot.directory import search
    from bot.referrals import form

    read = [*limits.REPLIES, turn.CANNOT_ANSWER, *sms.TEXTS, *telegram.MENU.values(),
            search.CONTACT_PHONE, search.CONTACT_PHONE_HOURS, search.CONTACT_WEB, search.CONTACT_EMAIL,
            search.CHECKED, search.LAST_CHECKED, search.NOT_CHECKED_SINCE, search.NOT_CHECKED,
            form.SUMMARY_TOPIC, form.SUMMARY_TOPICS, form.SUMMARY_PROFESSIONAL, form.SUMMARY_RELATIONSHIP,
            form.SUMMARY_STAGE, form.SUMMARY_NOTE, form.BEST_TIME_WORDS, form.DETAILS, form.NOT_GIVEN]
    assert [name for name in read if name not in RESPONSES] == []
    texts.require(*read)
    assert len(form.topic_intents()) > 40  # the topics' words too


def test_no_module_spells_out_the_helpline_number_or_hours():
    """The number and hours live in the domain's slots, so staff correct them in one place."""
    digits = re.sub(r"\D", "", DOMAIN["slots"]["helpline_phone"]["initial_value"]).lstrip("0")
    number = re.compile(r"[\s-]*".join(digits))  # 0808 808 3444, 08088083444, +44 808 808 3444...
    hours = re.compile(re.escape(DOMAIN["slots"]["helpline_hours"]["initial_value"]), re.I)
    found = [str(p.relative_to(ROOT)) for p in python_files() if number.search(p.read_text()) or hours.search(p.read_text())]
    assert found == []
    assert number.search("call +44 808 808 3444") and number.search("0808-808-3444")  # the check can fail


def test_the_loader_gives_the_number_and_hours_of_the_domain():
    assert texts.helpline_phone() == DOMAIN["slots"]["helpline_phone"]["initial_value"]
    assert texts.helpline_hours() == DOMAIN["slots"]["helpline_hours"]["initial_value"]


# --- the same choice and filling as Rasa's -----------------------------------------------------------
PLACEHOLDERS = {name for items in RESPONSES.values() for item in items for name in re.findall(r"{(\w+)}", item.get("text", ""))}


def slot_combinations(name: str) -> list[dict]:
    """No slot set, and each variant's own conditions."""
    found = [{}]
    for item in RESPONSES[name]:
        if item.get("condition"):
            found.append({c["name"]: c["value"] for c in item["condition"]})
    return found


@pytest.mark.parametrize("channel", ["webchat", "twilio", "telegram"])
def test_the_loader_picks_and_fills_every_response_as_rasa_does(channel):
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.core.nlg.generator import ResponseVariationFilter

    nlg = TemplatedNaturalLanguageGenerator(RESPONSES)
    variation = ResponseVariationFilter(RESPONSES)
    compared = 0
    for name in RESPONSES:
        for slots in slot_combinations(name):
            values = {**texts.slot_defaults(), **{p: f"[{p}]" for p in PLACEHOLDERS}, **slots}
            if len(variation.responses_for_utter_action(name, channel, values)) != 1:
                continue  # Rasa picks at random among several (none here reads such a response)
            expected = nlg.generate_from_slots(name, values, channel)["text"]
            assert texts.text(name, channel, **values) == expected, (name, slots)
            compared += 1
    assert compared > len(RESPONSES)


def test_a_channel_variant_is_chosen_for_its_channel_as_rasa_chooses_it(monkeypatch):
    """No reply needs one yet; a wording for one channel is a domain edit, nothing more."""
    from rasa.core.nlg.generator import ResponseVariationFilter

    on = [{"type": "slot", "name": "audience", "value": "young_person"}]
    made_up = {"utter_test_notice": [
        {"text": "any channel"}, {"text": "by SMS", "channel": "twilio"},
        {"text": "young, any channel", "condition": on}, {"text": "young, by Telegram", "channel": "telegram", "condition": on},
    ]}
    monkeypatch.setattr(texts, "domain", lambda: {**DOMAIN, "responses": made_up})
    variation = ResponseVariationFilter(made_up)
    for channel in ("twilio", "telegram", "webchat"):
        for audience in (None, "young_person", "family"):
            [rasa] = variation.responses_for_utter_action("utter_test_notice", channel, {"audience": audience})
            assert texts.text("utter_test_notice", channel, audience=audience) == rasa["text"], (channel, audience)
    assert texts.text("utter_test_notice", "twilio") == "by SMS"


def test_filling_keeps_doubled_braces_and_refuses_a_missing_value():
    assert texts.fill('/inform{{"best_time": "{when}"}}', {"when": "morning"}) == '/inform{"best_time": "morning"}'
    assert texts.fill("{a} and {b}", {"a": "{b}", "b": "x"}) == "{b} and x"  # a value is not a template
    with pytest.raises(KeyError):
        texts.fill("Tel {service_phone}.", {})


def test_a_conditional_response_with_no_fitting_variant_has_no_text():
    assert texts.find("utter_referral_summary_stage", stage=None) is None
    assert texts.find("utter_referral_summary_stage", stage="remand") == "The person is on remand."
    with pytest.raises(LookupError):
        texts.text("utter_referral_summary_stage", stage=None)


# --- no domain, no start ----------------------------------------------------------------------------------
@pytest.fixture
def unreadable_domain(tmp_path, monkeypatch):
    monkeypatch.setattr(texts, "DOMAIN_PATH", tmp_path / "missing.yml")
    texts.domain.cache_clear()
    yield tmp_path / "missing.yml"
    monkeypatch.undo()
    texts.domain.cache_clear()


def test_a_channel_does_not_start_without_the_domain(unreadable_domain, monkeypatch):
    from bot.channels.telegram import TelegramConfig, TelegramInput
    from bot.channels.twilio import TwilioConfig, TwilioInput
    from bot.channels.webchat import WebChatInput
    from bot.settings import Settings

    monkeypatch.delenv("LOCK_STORE_URL", raising=False)
    settings = Settings.from_env()
    with pytest.raises(texts.DomainUnreadable):
        WebChatInput("sqlite://", secret="s" * 32)
    with pytest.raises(texts.DomainUnreadable):
        TwilioInput(TwilioConfig.from_settings(settings))
    with pytest.raises(texts.DomainUnreadable):
        TelegramInput(TelegramConfig.from_settings(settings))
    with pytest.raises(texts.DomainUnreadable):
        texts.helpline_phone()  # and no number written in Python to fall back on


def test_a_domain_without_a_needed_response_or_the_helpline_stops_it_too(unreadable_domain):
    domain = {**DOMAIN, "responses": {k: v for k, v in RESPONSES.items() if k != "utter_channel_cannot_answer"}}
    unreadable_domain.write_text(yaml.safe_dump(domain))
    with pytest.raises(texts.DomainUnreadable, match="utter_channel_cannot_answer"):
        texts.require("utter_channel_busy", "utter_channel_cannot_answer")
    slots = {**DOMAIN["slots"], "helpline_phone": {**DOMAIN["slots"]["helpline_phone"], "initial_value": None}}
    unreadable_domain.write_text(yaml.safe_dump({**DOMAIN, "slots": slots}))
    texts.domain.cache_clear()
    with pytest.raises(texts.DomainUnreadable, match="helpline_phone"):
        texts.require("utter_channel_busy")
