"""The call-back form with a yes or a no to its open questions, through the real validation
and question actions, then sent to a real database (SQLite and PostgreSQL)."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.referral import ActionAskReferralNote, ActionSubmitReferral, ValidateReferralForm
from bot.referrals.consent import CONSENT_VERSION
from bot.referrals.models import Case

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
BEFORE_NOTE = {
    "referral_consent": "yes", "referral_consent_at": "2026-03-01T14:02:11+00:00", "referral_consent_version": CONSENT_VERSION,
    "referral_name": "Sam", "referral_phone": "+447512345678", "referral_safe_to_call": "yes",
    "referral_leave_message": "no", "referral_best_time": "evening", "area": "Stockton-on-Tees",
}


class Conversation:
    """One run of the form: the events Rasa would hold, answered one question at a time."""

    def __init__(self, slots=None):
        self.slots = dict(slots or {})
        self.events = [
            {"event": "user", "text": "can someone ring me", "message_id": "m0", "input_channel": "rest",
             "parse_data": {"intent": {"name": "request_callback"}, "entities": []}},
            {"event": "user", "text": "how do i book a visit", "message_id": "m1", "input_channel": "rest",
             "parse_data": {"intent": {"name": "ask_visit_booking"}, "entities": []}},
            {"event": "active_loop", "name": "referral_form"},
        ]
        self.count = 1

    def tracker(self):
        latest = next((e["parse_data"] for e in reversed(self.events) if e["event"] == "user"), {})
        return Tracker("open-answers", dict(self.slots), {**latest, "message_id": f"m{self.count}"}, list(self.events),
                       False, None, {"name": "referral_form"}, "action_listen")

    def ask(self, slot, action=None):
        """The form asks for `slot`; returns the responses sent."""
        self.slots["requested_slot"] = slot
        self.events.append({"event": "slot", "name": "requested_slot", "value": slot})
        if action is None:
            return []
        dispatcher = CollectingDispatcher()
        asyncio.run(action.run(dispatcher, self.tracker(), DOMAIN))
        return [m["response"] for m in dispatcher.messages]

    def answer(self, slot, text, intent="inform"):
        """They answer; returns (slots set by validation, responses sent)."""
        self.count += 1
        self.events += [{"event": "action", "name": "action_listen"},
                        {"event": "user", "text": text, "message_id": f"m{self.count}", "input_channel": "rest",
                         "parse_data": {"intent": {"name": intent}, "entities": []}},
                        {"event": "slot", "name": slot, "value": text}]
        self.slots[slot] = text
        dispatcher = CollectingDispatcher()
        events = asyncio.run(ValidateReferralForm().run(dispatcher, self.tracker(), DOMAIN))
        got = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
        for name, value in got.items():
            self.slots[name] = value
            self.events.append({"event": "slot", "name": name, "value": value})
        return got, [m["response"] for m in dispatcher.messages]


@pytest.fixture
def db_env(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


def test_yes_to_adding_words_asks_for_them_and_the_words_are_sent(db_env, session_for):
    talk = Conversation(BEFORE_NOTE)
    assert talk.ask("referral_note", ActionAskReferralNote()) == ["utter_ask_referral_form_referral_note"]
    got, said = talk.answer("referral_note", "yes", intent="affirm")
    assert got["referral_note"] is None and said == [] and "referral_outcome" not in got
    # The form asks again: this time for the words, not the yes-or-no question.
    assert talk.ask("referral_note", ActionAskReferralNote()) == ["utter_referral_note_go_ahead"]
    got, said = talk.answer("referral_note", "worried about the first visit next week")
    assert got["referral_note"] == "worried about the first visit next week" and said == []

    talk.slots["referral_confirmed"] = "yes"
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionSubmitReferral().run(dispatcher, talk.tracker(), DOMAIN))
    assert [m["response"] for m in dispatcher.messages] == ["utter_referral_sent"]
    with session_for() as s:
        case = s.execute(select(Case)).scalar_one()
        assert case.summary.endswith("In their words: worried about the first visit next week")
        assert "yes" not in case.summary.split("In their words:")[0].lower().split()


@pytest.mark.parametrize("answer", ["no", "no that's all thanks", "nah im fine"])
def test_no_to_adding_words_sends_no_note(db_env, session_for, answer):
    talk = Conversation(BEFORE_NOTE)
    talk.ask("referral_note", ActionAskReferralNote())
    got, said = talk.answer("referral_note", answer, intent="deny")
    assert got["referral_note"] == "" and said == []
    talk.slots["referral_confirmed"] = "yes"
    asyncio.run(ActionSubmitReferral().run(CollectingDispatcher(), talk.tracker(), DOMAIN))
    with session_for() as s:
        assert "In their words" not in s.execute(select(Case)).scalar_one().summary


def test_words_straight_away_are_saved(db_env, session_for):
    talk = Conversation(BEFORE_NOTE)
    talk.ask("referral_note", ActionAskReferralNote())
    got, _ = talk.answer("referral_note", "yes please, it's about money for the visits")
    assert got["referral_note"] == "yes please, it's about money for the visits"


def test_yes_three_times_gives_up_kindly():
    talk = Conversation(BEFORE_NOTE)
    talk.ask("referral_note", ActionAskReferralNote())
    for _ in range(2):
        got, _ = talk.answer("referral_note", "yes")
        assert "referral_outcome" not in got
        talk.ask("referral_note")
    got, _ = talk.answer("referral_note", "yes")
    assert got["referral_outcome"] == "gave_up"


def test_yes_to_the_name_question_asks_again_without_an_error():
    talk = Conversation({k: BEFORE_NOTE[k] for k in ("referral_consent", "referral_consent_at", "referral_consent_version")})
    talk.ask("referral_name")
    got, said = talk.answer("referral_name", "yes")
    assert got["referral_name"] is None and said == []
    got, said = talk.answer("referral_name", "Jo")
    assert got["referral_name"] == "Jo"


@pytest.mark.parametrize("answer", ["yes", "ok", "no"])
def test_yes_or_no_to_when_to_call_asks_again(answer):
    talk = Conversation({k: v for k, v in BEFORE_NOTE.items() if k not in ("referral_best_time", "area")})
    talk.ask("referral_best_time")
    got, said = talk.answer("referral_best_time", answer)
    assert got["referral_best_time"] is None and said == []


def test_yes_to_which_area_asks_once_and_no_skips():
    talk = Conversation({k: v for k, v in BEFORE_NOTE.items() if k != "area"})
    talk.ask("area")
    got, said = talk.answer("area", "yes")
    assert got["area"] is None and said == []  # the form asks the question again itself: once, not twice
    got, said = talk.answer("area", "no")
    assert got["area"] == ""
