"""Conversation summaries kept from Rasa's own tracker store (conversations saved through Rasa's
SQLTrackerStore): each column's meaning, reading in small batches gives what one read gives,
two updaters never count an event twice, and erased or purged conversations are forgotten."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

from sqlalchemy import select

from bot import conversations, db, erasure, retention
from bot.conversations import epoch
from bot.insights import summary
from bot.insights.models import ConversationReview, ConversationSummary, ConversationTopic, ReviewLabel, SummaryWatermark
from bot.referrals import cases
from bot.referrals.models import UsageCount
from tests.support.conversations import engine, save_conversation

START = datetime(2026, 11, 24, 10, 0)  # a Tuesday
WEEK = "2026-11-23"
LATER = START + timedelta(days=1)  # every conversation below has ended by then

FALLBACK = [("action", "utter_default"), ("bot", "Sorry, I didn't understand", {"utter_action": "utter_default"})]
LISTEN = ("action", "action_listen")
# The call-back form as Rasa stores it: started, asked, answered, ended, sent or stopped.
FORM_START = [("user", "can someone call me", "request_callback"), ("action", "referral_form"), ("loop", "referral_form"),
              ("bot", "Can we keep your details?", {"utter_action": "utter_ask_referral_form_referral_consent"}), LISTEN,
              ("user", "yes", "affirm"), ("action", "referral_form")]
FORM_SENT = FORM_START + [("loop", None), ("slot", "requested_slot", None), ("action", "action_submit_referral"),
                          ("bot", "Sent", {"utter_action": "utter_referral_sent"}), LISTEN]
FORM_STOPPED = FORM_START + [LISTEN, ("user", "forget it", "stop_referral"), ("action", "action_deactivate_loop"),
                             ("loop", None), ("action", "action_stop_referral"),
                             ("bot", "Nothing kept", {"utter_action": "utter_referral_stopped"}), LISTEN]
FORM_DECLINED = FORM_START + [("loop", None), ("action", "action_submit_referral"),
                              ("bot", "OK", {"utter_action": "utter_referral_declined"}), LISTEN]

CONVERSATIONS = {
    "fallbacks": [("user", "hiya", "greet"), ("user", "blah blah", "nlu_fallback", 0.2), *FALLBACK, LISTEN,
                  ("slot", "area", "Stockton-on-Tees"), ("slot", "audience", "family"),
                  ("user", "how do i book a visit", "ask_visit_booking"), ("action", "utter_visit_booking"), LISTEN,
                  ("user", "what about the bus thing", "nlu_fallback", 0.3), *FALLBACK, LISTEN],
    "out_of_scope": [("user", "what's the weather", "out_of_scope"), ("action", "utter_out_of_scope"),
                     ("bot", "I can't help with that", {"utter_action": "utter_out_of_scope"}), LISTEN],
    "reread": [("user", "book a visit", "ask_visit_booking"), LISTEN, ("user", "and my daughter?", "nlu_fallback", 0.4),
               ("reread", "and my daughter?", "ask_visit_children"), ("action", "utter_visit_children"), LISTEN],
    "ask_human": [("user", "can i talk to a person", "ask_human"), ("action", "utter_human"), LISTEN],
    "live_chat": [("user", "hi", "greet"), ("action", "action_handoff"), LISTEN],
    "form_sent": FORM_SENT,
    "form_stopped": FORM_STOPPED,
    "form_declined": FORM_DECLINED,
    "form_left_open": FORM_START,
    "safety": [("user", "i want to end it", "risk_self"), ("action", "utter_risk_self"),
               ("bot", "Please call", {"utter_action": "utter_risk_self"}), LISTEN],
    "contained": [("user", "how much are visits", "ask_visit_costs"), ("action", "utter_visit_costs"), LISTEN,
                  ("user", "yes", "feedback_helpful"), LISTEN, ("user", "no", "feedback_not_helpful"), LISTEN,
                  ("user", "thanks", "thank"), LISTEN],
    "quiet": [("action", "action_session_start"), LISTEN],  # nothing from the person: no row
}


def save_all(tracker_url: str, channel: str | None = "twilio") -> None:
    for i, (sender, turns) in enumerate(CONVERSATIONS.items()):
        save_conversation(tracker_url, sender, turns, started=epoch(START) + i * 100, channel=channel)


def rows(session_for) -> dict[str, dict]:
    """Every summary as a dict (without its random ref), with its topics."""
    found = {}
    with session_for() as s:
        for row in s.execute(select(ConversationSummary)).scalars():
            values = {c.name: getattr(row, c.name) for c in ConversationSummary.__table__.columns if c.name != "ref"}
            values["topics"] = {t.topic: t.questions for t in s.execute(
                select(ConversationTopic).where(ConversationTopic.sender_id == row.sender_id)).scalars()}
            found[row.sender_id] = values
    return found


def run_update(tracker_url: str, session_for, now: datetime, batch: int = 5000) -> int:
    with session_for() as s:
        return summary.update(tracker_engine=engine(tracker_url), session=s, now=now, batch=batch)


def test_each_column_means_what_the_docstring_says(tracker_url, session_for):
    save_all(tracker_url)
    assert run_update(tracker_url, session_for, LATER) > 0
    found = rows(session_for)
    assert "quiet" not in found
    fb = found["fallbacks"]
    assert (fb["messages"], fb["questions"], fb["fallbacks"], fb["last_unanswered"]) == (4, 1, 2, True)
    assert json.loads(fb["not_understood_topics"]) == {"": 1, "ask_visit_booking": 1}
    assert (fb["channel"], fb["council_code"], fb["audience"], fb["week"]) == ("twilio", "STT", "family", WEEK)
    assert fb["started_at"] == START and fb["last_at"] > START and not fb["contained"]
    assert fb["topics"] == {"ask_visit_booking": 1}
    oos = found["out_of_scope"]
    assert (oos["fallbacks"], oos["last_unanswered"], oos["topics"]) == (1, True, {"out_of_scope": 1})
    reread = found["reread"]  # the follow-up read again in context was understood in the end
    assert (reread["messages"], reread["fallbacks"], reread["last_unanswered"]) == (2, 0, False)
    assert reread["topics"] == {"ask_visit_booking": 1, "ask_visit_children": 1} and reread["contained"]
    assert found["ask_human"]["asked_for_person"] and not found["ask_human"]["contained"]
    assert found["live_chat"]["asked_for_person"]
    assert found["form_sent"]["asked_for_person"] and not found["form_sent"]["form_abandoned"]
    assert found["form_stopped"]["form_abandoned"] and found["form_declined"]["form_abandoned"]
    assert found["form_left_open"]["form_abandoned"]  # open a day with nothing happening
    assert found["safety"]["safety"] and not any(found[s]["safety"] for s in found if s != "safety")
    contained = found["contained"]
    assert contained["contained"] and (contained["helpful"], contained["not_helpful"]) == (1, 1)
    assert (contained["messages"], contained["questions"], contained["fallbacks"]) == (4, 1, 0)
    assert not contained["asked_for_person"] and not contained["reviewed"]


def test_flags_that_depend_on_time_are_judged_again_as_time_passes(tracker_url, session_for):
    save_conversation(tracker_url, "open-form", FORM_START, started=epoch(START))
    save_conversation(tracker_url, "answered", [("user", "visit times?", "ask_visit_booking"), LISTEN], started=epoch(START))
    run_update(tracker_url, session_for, START + timedelta(minutes=10))
    found = rows(session_for)
    assert not found["answered"]["contained"] and not found["open-form"]["form_abandoned"]  # may go on
    run_update(tracker_url, session_for, START + timedelta(minutes=45))  # no new events: judged again
    found = rows(session_for)
    assert found["answered"]["contained"] and not found["open-form"]["form_abandoned"]
    run_update(tracker_url, session_for, START + timedelta(hours=2))
    assert rows(session_for)["open-form"]["form_abandoned"]
    # The person comes back the next day: the conversation goes on, not contained while it may go on.
    save_conversation(tracker_url, "answered", [("user", "visit times?", "ask_visit_booking"), LISTEN,
                                               ("user", "and today?", "nlu_fallback", 0.1), *FALLBACK],
                      started=epoch(START))
    run_update(tracker_url, session_for, START + timedelta(hours=2, minutes=1))
    answered = rows(session_for)["answered"]
    assert not answered["contained"] and answered["last_unanswered"] and answered["fallbacks"] == 1


def test_reading_in_small_batches_gives_what_one_read_gives(tracker_url, session_for, tmp_path):
    """The conversations arrive in pieces, interleaved; one database is updated after each piece in
    batches of 2 events and judged at two times; another reads everything at once at the end."""
    pieces = {sender: [turns[: len(turns) // 3], turns[: 2 * len(turns) // 3], turns] for sender, turns in CONVERSATIONS.items()}
    later = START + timedelta(hours=3)
    for step in range(3):
        for i, (sender, parts) in enumerate(pieces.items()):
            save_conversation(tracker_url, sender, parts[step], started=epoch(START) + i * 100, channel="telegram")
            run_update(tracker_url, session_for, START + timedelta(minutes=20 * step), batch=2)
    run_update(tracker_url, session_for, later, batch=2)
    whole_url = f"sqlite:///{tmp_path / 'whole.db'}"
    db.upgrade(whole_url)
    whole = db.session_factory(whole_url)
    with whole() as s:
        summary.update(tracker_engine=engine(tracker_url), session=s, now=later, batch=100_000)
    incremental, everything = rows(session_for), rows(whole)
    assert set(incremental) == set(CONVERSATIONS) - {"quiet"}
    assert incremental == everything
    # The judging at `later` is the same as judging once at that time.
    assert incremental["form_left_open"]["form_abandoned"] and incremental["contained"]["contained"]


def test_two_updaters_at_once_count_each_event_once(tracker_url, session_for, tmp_path):
    save_all(tracker_url)
    errors: list[BaseException] = []

    def updater() -> None:
        try:
            for _ in range(40):
                run_update(tracker_url, session_for, LATER, batch=3)
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=updater) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    run_update(tracker_url, session_for, LATER)
    whole_url = f"sqlite:///{tmp_path / 'whole.db'}"
    db.upgrade(whole_url)
    with db.session_factory(whole_url)() as s:
        summary.update(tracker_engine=engine(tracker_url), session=s, now=LATER)
    assert rows(session_for) == rows(db.session_factory(whole_url))


def test_events_after_a_recent_gap_wait_for_the_missing_ones(tracker_url, session_for):
    now = datetime.utcnow()
    save_conversation(tracker_url, "first", [("user", "hi", "greet")], started=epoch(now) - 100)
    save_conversation(tracker_url, "gone", [("user", "hello", "greet"), LISTEN], started=epoch(now) - 50)
    save_conversation(tracker_url, "after", [("user", "visits?", "ask_visit_booking")], started=epoch(now) - 3)
    conversations.erase("gone", engine=engine(tracker_url))  # a gap in the ids, just before a recent event
    run_update(tracker_url, session_for, now)
    assert set(rows(session_for)) == {"first"}
    run_update(tracker_url, session_for, now + timedelta(seconds=summary.SETTLE_SECONDS + 1))
    assert set(rows(session_for)) == {"first", "after"}


def test_forget_removes_summaries_topics_tags_and_labels(tracker_url, session_for):
    save_all(tracker_url)
    run_update(tracker_url, session_for, LATER)
    with session_for() as s, s.begin():
        s.add(ConversationReview(sender_id="fallbacks", tag="wrong_answer"))
        s.add(ReviewLabel(sender_id="fallbacks", event_timestamp=epoch(START) + 1, intent="ask_visit_booking"))
        s.add(ConversationReview(sender_id="contained", tag="good"))
        assert summary.forget(["fallbacks", "reread", "not-there"], session=s) == 2
    with session_for() as s:
        assert s.execute(select(ConversationSummary.sender_id).where(ConversationSummary.sender_id.in_(("fallbacks", "reread")))).all() == []
        assert s.execute(select(ConversationTopic).where(ConversationTopic.sender_id == "fallbacks")).all() == []
        assert [r.sender_id for r in s.execute(select(ConversationReview)).scalars()] == ["contained"]
        assert s.execute(select(ReviewLabel)).all() == []
        assert s.get(ConversationSummary, "contained") is not None


def test_an_erased_conversation_is_forgotten_and_the_ids_sqlite_gives_again_are_read(tracker_url, session_for):
    now = datetime.utcnow()
    save_conversation(tracker_url, "stays", [("user", "hi", "greet"), LISTEN], started=epoch(now) - 600)
    save_conversation(tracker_url, "sms:+447700900123", [("user", "delete my details", "delete_my_data"), LISTEN],
                      started=epoch(now) - 300)
    run_update(tracker_url, session_for, now)
    with session_for() as s, s.begin():
        cases.request_erasure("sms:+447700900123", session=s)
        s.add(ConversationReview(sender_id="sms:+447700900123", tag="good"))
    with session_for() as s, s.begin():
        erasure.process_erasures(tracker_engine=engine(tracker_url), session=s, settle_seconds=0)
    assert set(rows(session_for)) == {"stays"}
    with session_for() as s:
        assert s.execute(select(ConversationReview)).all() == []
    # The erased events were the newest: SQLite gives their ids to the next conversation's events.
    save_conversation(tracker_url, "next", [("user", "visits?", "ask_visit_booking"), LISTEN], started=epoch(now) - 60)
    run_update(tracker_url, session_for, now + timedelta(minutes=1))
    assert set(rows(session_for)) == {"stays", "next"}


def test_a_pending_erasure_is_not_read_back_in(tracker_url, session_for):
    save_conversation(tracker_url, "leaving", [("user", "delete my details", "delete_my_data")], started=epoch(START))
    with session_for() as s, s.begin():
        cases.request_erasure("leaving", session=s)
    run_update(tracker_url, session_for, LATER)
    assert rows(session_for) == {}


def test_the_purge_forgets_old_conversations_and_keeps_their_counts(tracker_url, session_for):
    save_all(tracker_url)
    run_update(tracker_url, session_for, LATER)
    with session_for() as s:
        purged = retention.purge_conversations(30, tracker_engine=engine(tracker_url), session=s, now=START + timedelta(days=31))
        s.commit()
    assert purged == len(CONVERSATIONS)
    assert rows(session_for) == {}
    with session_for() as s:
        assert s.execute(select(UsageCount)).all()  # anonymous counts kept, as before
        assert s.get(SummaryWatermark, summary.WATERMARK).last_event_id == 0  # everything was deleted


def test_ensure_fresh_updates_only_when_the_summaries_are_a_minute_old(tracker_url, session_for):
    save_conversation(tracker_url, "a", [("user", "hi", "greet")], started=epoch(START))
    with session_for() as s:
        assert summary.ensure_fresh(tracker_engine=engine(tracker_url), session=s, now=LATER)
        assert set(rows(session_for)) == {"a"}
        save_conversation(tracker_url, "b", [("user", "hi", "greet")], started=epoch(START) + 10)
        assert not summary.ensure_fresh(tracker_engine=engine(tracker_url), session=s, now=LATER + timedelta(seconds=30))
        assert set(rows(session_for)) == {"a"}
        assert summary.ensure_fresh(tracker_engine=engine(tracker_url), session=s, now=LATER + timedelta(seconds=61))
        assert not s.in_transaction()
    assert set(rows(session_for)) == {"a", "b"}


def test_no_events_table_yet_reads_nothing(tmp_path, session_for):
    empty = f"sqlite:///{tmp_path / 'no-rasa-yet.db'}"
    with session_for() as s:
        assert summary.update(tracker_engine=db.engine_for(empty), session=s) == 0
