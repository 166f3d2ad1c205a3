"""Fault tests of the production shape (two Rasa servers behind nginx, PostgreSQL tracker
store, Redis lock store), every message sent through nginx as the web chat page sends it: a
Rasa server killed between messages and while answering (a call back being stored, too),
everything restarted, the action server down, our database down; and the abuse limits over
HTTP; and the console's calls to Rasa with a server down. Each checks what the person is told
and what the tracker store and the cases table kept."""
from __future__ import annotations

import asyncio
import dataclasses
import re
import threading
import time
import urllib.error
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, select

from bot import db, texts
from bot.channels.limits import RATE_LIMITED, TOO_LONG
from bot.channels.turn import CANNOT_ANSWER
from bot.handoff import RasaClient
from bot.referrals.models import Case
from bot.settings import Settings
from tools.tracker_check import tracker_problems

from tests.support.prod import set_connections

pytestmark = [pytest.mark.e2e, pytest.mark.prod]

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
PATTERNS = [
    (name, re.compile(".+?".join(re.escape(p) for p in re.split(r"{\w+}", item["text"])), re.S))
    for name, items in DOMAIN["responses"].items()
    for item in items
]
SORRY = texts.variants(CANNOT_ANSWER)[0]["text"].split("{")[0]


def names(texts: list[str]) -> list[str | None]:
    """The response each reply came from (None for text from no response)."""
    return [next((n for n, p in PATTERNS if p.fullmatch(t)), None) for t in texts]


class Conversation:
    """One web chat conversation; remembers what was sent (to check the tracker against)."""

    def __init__(self, stack, kind: str) -> None:
        self.stack, self.sender, self.sent = stack, stack.webchat_id(), []

    def say(self, message: str) -> list[str | None]:
        return names(self.texts(message))

    def texts(self, message: str) -> list[str]:
        self.sent.append(message)
        return self.stack.webchat(self.sender, message)

    def problems(self) -> list[str]:
        engine = create_engine(self.stack.tracker_store_url, future=True)
        try:
            with engine.connect() as connection:
                return tracker_problems(connection, self.sender, self.sent)
        finally:
            engine.dispose()


def cases_for(stack, sender: str) -> list[Case]:
    with db.session_factory(stack.database_url)() as session:
        return list(session.execute(select(Case).where(Case.sender_id == sender)).scalars())


REFERRAL_TO_CONFIRM = [
    ("how do i book a visit", "utter_visit_booking"),
    ("pls call me back", "utter_ask_referral_form_referral_consent"),
    ("yes thats ok", "utter_ask_referral_form_referral_name"),
    ("Sam", "utter_ask_referral_form_referral_phone"),
    ("0751 234 5678", "utter_ask_referral_form_referral_safe_to_call"),
    ("yes", "utter_ask_referral_form_referral_leave_message"),
    ("no", "utter_ask_referral_form_referral_best_time"),
    ('/inform{"best_time": "evening"}', "utter_ask_referral_form_area"),
    ("Stockton", "utter_ask_referral_form_referral_note"),
    ("no thanks", "utter_ask_referral_form_referral_confirmed"),
]


def up_to_confirm(conversation: Conversation) -> None:
    for message, expected in REFERRAL_TO_CONFIRM:
        assert conversation.say(message)[0] == expected, message


# --- (a) a Rasa server dies mid-conversation --------------------------------------------------------
def test_a_rasa_server_killed_between_messages_is_skipped_and_the_call_back_stored_once(stack):
    talk = Conversation(stack, "kill")
    assert talk.say("how do i tell my son his dad is in prison") == ["utter_tell_children_honesty", "utter_ask_child_age"]
    referral = Conversation(stack, "kill-ref")
    for message, expected in REFERRAL_TO_CONFIRM[:5]:
        assert referral.say(message)[0] == expected, message
    refused = stack.refusals(0)
    stack.kill_instance(0)
    try:
        # Every message now reaches the server left, whichever was next in turn: nginx tried
        # the dead one (refused), and went on to the other with the same request.
        assert "utter_tell_children_5_to_11" in talk.say("6")
        assert talk.say("who supports grandparent carers in Stockton")[0] == "utter_directory_local"
        for message, expected in REFERRAL_TO_CONFIRM[5:]:
            assert referral.say(message)[0] == expected, message
        sent = referral.texts("yes")
        assert names(sent) == ["utter_referral_sent"]
        assert stack.refusals(0) > refused
        [case] = cases_for(stack, referral.sender)
        assert case.reference in sent[0] and case.phone == "+447512345678"
        assert talk.problems() == [] and referral.problems() == []
    finally:
        stack.start_instance(0)


READING_SECONDS = 3  # how long a person takes to read an error before writing again
# The action server stores this name's call back slowly (tests/prod/slow_call_back.py, imported
# there only: importing it here would patch this process too).
SLOW_NAME, HOLD_SECONDS = "Slow Sam", 8.0


def send_while_watching(talk: Conversation, message: str, outcome: dict) -> threading.Thread:
    """Send `message` in the background; `outcome` gets its response names or its HTTP status."""
    def send() -> None:
        try:
            outcome["names"] = talk.say(message)
        except urllib.error.HTTPError as error:
            outcome["status"] = error.code

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def server_answering(stack, thread: threading.Thread, within: float = 5) -> int | None:
    """The Rasa server answering the one request in flight (None if it finished first)."""
    deadline = time.monotonic() + within
    while thread.is_alive() and time.monotonic() < deadline:
        busy = stack.busy_instances()
        if len(busy) == 1:
            return busy[0]
        time.sleep(0.005)
    return None


def test_a_server_killed_while_answering_loses_only_that_reply_and_says_so(stack):
    """Killed with a message in flight: that request fails (502: the page shows its error; never
    resent, so never handled twice); the conversation carries on once the dead server's lock expires."""
    talk = Conversation(stack, "inflight")
    assert talk.say("hello")[0] == "utter_greet"
    for _ in range(5):  # until a message is caught in flight (a directory search takes a moment)
        outcome: dict = {}
        thread = send_while_watching(talk, "who supports grandparent carers in Stockton", outcome)
        victim = server_answering(stack, thread)
        if victim is not None:
            break
        thread.join(60)
    assert victim is not None, "no message was caught in flight"
    stack.kill_instance(victim)
    thread.join(60)
    try:
        assert outcome == {"status": 502}  # the person is told: not a silent loss
        talk.sent.pop()  # never stored: Rasa saves a turn when it ends
        # The person reads the error and writes again. (Not within a second of the lost turn's
        # start: Rasa 3.6's ticket lock can then wait forever, docs/deployment.md.)
        time.sleep(READING_SECONDS)
        started = time.monotonic()
        assert talk.say("how do i book a visit")[0] == "utter_visit_booking"
        waited = time.monotonic() - started
        assert waited < 30, waited  # at most the lock's lifetime (TICKET_LOCK_LIFETIME=20 here)
        assert talk.problems() == []  # nothing stored twice, out of order, or lost after the server died
    finally:
        stack.start_instance(victim)


def test_a_server_killed_while_a_call_back_is_stored_gives_one_case_when_the_person_says_yes_again(stack):
    """The hardest moment: the action server is storing the call back when the Rasa server
    waiting on it dies. The person sees an error and confirms again (as the page invites them
    to): they get the reference, and the case is stored once."""
    referral = Conversation(stack, "inflight-ref")
    for message, expected in REFERRAL_TO_CONFIRM:
        assert referral.say(SLOW_NAME if message == "Sam" else message)[0] == expected, message
    outcome: dict = {}
    thread = send_while_watching(referral, "yes", outcome)
    victim = server_answering(stack, thread, within=HOLD_SECONDS)
    assert victim is not None
    time.sleep(1)  # well into the action's hold: the case is being stored
    stack.kill_instance(victim)
    thread.join(60)
    try:
        assert outcome == {"status": 502}
        referral.sent.pop()
        deadline = time.monotonic() + HOLD_SECONDS + 5
        while not cases_for(stack, referral.sender) and time.monotonic() < deadline:
            time.sleep(0.5)
        [case] = cases_for(stack, referral.sender)  # stored, though nobody heard back
        again = referral.texts("yes")
        assert names(again) == ["utter_referral_sent"] and case.reference in again[0]
        assert [c.id for c in cases_for(stack, referral.sender)] == [case.id]
        assert referral.problems() == []
    finally:
        stack.start_instance(victim)


def test_the_console_reaches_whichever_rasa_server_is_up(stack):
    """The console's client (bot.handoff.RasaClient) is given every Rasa server (RASA_URL): with
    the first killed, a worker's reply goes through the other and reaches the person once."""
    talk = Conversation(stack, "console")
    assert talk.say("hello")[0] == "utter_greet"
    settings = dataclasses.replace(Settings.from_env(), rasa_url=stack.env["RASA_URL"], rasa_auth_token=stack.auth_token)
    client = RasaClient.from_settings(settings)
    assert client.base_urls == [stack.instance_url(i) for i in range(stack.instances)]
    stack.kill_instance(0)
    try:
        asyncio.run(client.say(talk.sender, "Hello, this is Sam from the helpline", worker="sam"))
        assert client.servers()[-1] == stack.instance_url(0)  # refused: asked last for a while
        polled = stack.post("/webhooks/webchat/poll", {"sender": talk.sender})
        assert [r["text"] for r in polled] == ["Hello, this is Sam from the helpline"]
        assert stack.post("/webhooks/webchat/poll", {"sender": talk.sender}) == []  # once
        assert talk.problems() == []
    finally:
        stack.start_instance(0)


# --- (b) everything restarted ---------------------------------------------------------------------
def test_conversations_and_call_backs_survive_a_restart_of_everything(stack):
    referral = Conversation(stack, "restart-ref")
    up_to_confirm(referral)
    sent = referral.texts("yes")
    assert names(sent) == ["utter_referral_sent"]
    [case] = cases_for(stack, referral.sender)
    talk = Conversation(stack, "restart")
    assert talk.say("how do i tell my son his dad is in prison") == ["utter_tell_children_honesty", "utter_ask_child_age"]

    stack.stop()
    stack.start()

    # The question asked before the restart is answered after it: the tracker came back.
    assert "utter_tell_children_5_to_11" in talk.say("6")
    assert talk.problems() == [] and referral.problems() == []
    [again] = cases_for(stack, referral.sender)
    assert (again.id, again.reference, again.phone) == (case.id, case.reference, "+447512345678")
    assert again.reference in sent[0]


# --- (c) the action server down ---------------------------------------------------------------------
def test_the_action_server_down_gets_a_kind_reply_and_nothing_is_lost(stack):
    talk = Conversation(stack, "noactions")
    assert talk.say("how do i book a visit")[0] == "utter_visit_booking"
    referral = Conversation(stack, "noactions-ref")
    up_to_confirm(referral)
    stack.stop_actions()
    try:
        replies = talk.texts("who supports grandparent carers in Stockton")
        assert len(replies) == 1 and replies[0].startswith(SORRY)
        # Answers that need no action still come.
        assert talk.say("how do i book a visit")[0] == "utter_visit_booking"
        # Confirming a call back while the actions are down stores nothing and says so kindly.
        confirm = referral.texts("yes")
        assert confirm and all(t.startswith(SORRY) or n is not None for t, n in zip(confirm, names(confirm)))
        assert "utter_referral_sent" not in names(confirm)
        assert cases_for(stack, referral.sender) == []
    finally:
        stack.start_actions()
    assert talk.say("who supports grandparent carers in Stockton")[0] == "utter_directory_local"
    assert talk.problems() == [] and referral.problems() == []
    # The person can ask again and it is stored exactly once.
    again = Conversation(stack, "noactions-again")
    up_to_confirm(again)
    assert again.say("yes") == ["utter_referral_sent"]
    assert len(cases_for(stack, again.sender)) == 1


# --- (d) our database down -------------------------------------------------------------------------
def test_our_database_down_gets_a_kind_reply_then_recovers(stack):
    talk = Conversation(stack, "nodb")
    referral = Conversation(stack, "nodb-ref")
    up_to_confirm(referral)
    set_connections(stack.database_url, allowed=False)
    try:
        assert talk.say("who supports grandparent carers in Stockton")[0] == "utter_directory_unavailable"
        assert referral.say("yes") == ["utter_referral_not_saved"]
    finally:
        set_connections(stack.database_url, allowed=True)
    db.engine_for.cache_clear()
    assert cases_for(stack, referral.sender) == []
    assert talk.say("who supports grandparent carers in Stockton")[0] == "utter_directory_local"
    again = Conversation(stack, "nodb-again")
    up_to_confirm(again)
    assert again.say("yes") == ["utter_referral_sent"]
    assert len(cases_for(stack, again.sender)) == 1
    assert talk.problems() == [] and referral.problems() == [] and again.problems() == []


def test_the_tracker_store_down_gets_a_kind_reply_then_recovers(stack):
    talk = Conversation(stack, "notracker")
    assert talk.say("how do i book a visit")[0] == "utter_visit_booking"
    set_connections(stack.tracker_store_url, allowed=False)
    try:
        replies = stack.webchat(talk.sender, "what ID do I need to visit")  # not stored: Rasa could not load or save
        assert len(replies) == 1 and replies[0].startswith(SORRY)
    finally:
        set_connections(stack.tracker_store_url, allowed=True)
    # Each server's pooled connections were cut: its first message after may fail once more
    # (SQLAlchemy then renews the pool), with the same kind reply.
    for _ in range(4):
        replies = stack.webchat(talk.sender, "what ID do I need to visit")
        if names(replies)[0] == "utter_visit_rules":
            break
        assert len(replies) == 1 and replies[0].startswith(SORRY)
    assert names(replies)[0] == "utter_visit_rules"
    talk.sent.append("what ID do I need to visit")
    assert talk.problems() == []


# --- abuse limits, across both servers ----------------------------------------------------------------
def test_the_rate_limit_holds_across_servers_and_replies_kindly(stack):
    # Through nginx the 21 messages go to both servers in turn: the count is in Redis.
    talk = Conversation(stack, "flood")
    replies = [stack.webchat(talk.sender, "hello") for _ in range(21)]
    assert all(names(r)[0] == "utter_greet" for r in replies[:20])
    assert replies[20] == [texts.text(RATE_LIMITED, "webchat")]
    talk.sent = ["hello"] * 20  # the refused one never reached Rasa
    assert talk.problems() == []


def test_a_too_long_message_gets_a_kind_reply_not_a_cut(stack):
    talk = Conversation(stack, "long")
    assert stack.webchat(talk.sender, "x" * 2001) == [texts.text(TOO_LONG, "webchat", max_chars=2000)]
    assert talk.problems() == []  # nothing stored
