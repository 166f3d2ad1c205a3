"""Conversation review: the list and its filters over the summaries, tags, labels checked against
the domain and the stored conversation, and the export as Rasa NLU YAML that Rasa's own
importer and validator accept together with the project's data."""
from __future__ import annotations

import shutil
import warnings
from datetime import date, datetime, timedelta

import pytest
import yaml
from sqlalchemy import select

from bot import conversations
from bot.conversations import epoch
from bot.insights import nlu_export, review, summary
from bot.insights.models import ConversationReview, ConversationSummary, ReviewLabel
from bot.settings import ROOT
from tests.support.conversations import engine, save_conversation

START = datetime(2026, 11, 24, 10, 0)
LISTEN = ("action", "action_listen")
MISSED = [("action", "utter_default"), ("bot", "Sorry, I didn't get that", {"utter_action": "utter_default"}), LISTEN]


def add_summary(session, sender: str, last_at: datetime, channel: str = "twilio", **flags) -> ConversationSummary:
    row = ConversationSummary(sender_id=sender, channel=channel, started_at=last_at - timedelta(minutes=5), last_at=last_at,
                              week="2026-11-23", messages=3, **flags)
    session.add(row)
    return row


@pytest.fixture
def listed(session_for):
    """Summaries of every kind: one per reason, two on other channels, one with nothing to review."""
    with session_for() as s, s.begin():
        add_summary(s, "fallback", START + timedelta(hours=5), fallbacks=2)
        add_summary(s, "person", START + timedelta(hours=4), asked_for_person=True)
        add_summary(s, "form", START + timedelta(hours=3), channel="telegram", asked_for_person=True, form_abandoned=True)
        add_summary(s, "safety", START + timedelta(days=3), channel="webchat", safety=True)
        add_summary(s, "fine", START + timedelta(hours=6), contained=True)
    return session_for


def senders(session, **filters) -> list[str]:
    rows, _ = review.listing(review.Filters(**filters), session=session)
    refs = {row.ref: row.sender_id for row in session.execute(select(ConversationSummary)).scalars()}
    return [refs[row.ref] for row in rows]


def test_the_list_holds_conversations_worth_reviewing_latest_first_and_filters(listed):
    with listed() as s:
        assert senders(s) == ["safety", "fallback", "person", "form"]  # "fine": nothing to review
        assert senders(s, reason="fallback") == ["fallback"]
        assert senders(s, reason="asked_for_person") == ["person", "form"]
        assert senders(s, reason="form_abandoned") == ["form"]
        assert senders(s, reason="safety") == ["safety"]
        assert senders(s, channel="telegram") == ["form"]
        assert senders(s, since=date(2026, 11, 25)) == ["safety"]
        assert senders(s, until=date(2026, 11, 24)) == ["fallback", "person", "form"]
        rows, more = review.listing(review.Filters(), session=s)
        assert rows[2].reasons == ("asked_for_person",) and rows[3].reasons == ("asked_for_person", "form_abandoned")
        assert not more and not any(row.reviewed for row in rows)
    with listed() as s, s.begin():
        review.tag("person", "wrong_answer", None, session=s)
    with listed() as s:
        assert senders(s, tag="wrong_answer") == ["person"]
        assert senders(s, tag="none") == ["safety", "fallback", "form"]
        assert senders(s, reviewed="yes") == ["person"]
        assert senders(s, reviewed="no") == ["safety", "fallback", "form"]
        assert review.listing(review.Filters(tag="wrong_answer"), session=s)[0][0].tags == ("wrong_answer",)


def test_the_list_is_paged(session_for, monkeypatch):
    monkeypatch.setattr(review, "PAGE_SIZE", 3)
    with session_for() as s, s.begin():
        for i in range(7):
            add_summary(s, f"c{i}", START + timedelta(minutes=i), fallbacks=1)
    with session_for() as s:
        pages = [review.listing(review.Filters(page=page), session=s) for page in (1, 2, 3)]
    assert [len(rows) for rows, _ in pages] == [3, 3, 1]
    assert [more for _, more in pages] == [True, True, False]
    assert len({row.ref for rows, _ in pages for row in rows}) == 7


def test_filters_from_the_query_string_drop_what_cannot_be_used_and_say_so():
    filters, problems = review.Filters.from_args({"reason": "safety", "channel": "pigeon", "since": "yesterday", "page": "x"})
    assert (filters.reason, filters.channel, filters.since, filters.page) == ("safety", "", None, 1)
    assert len(problems) == 2
    filters, problems = review.Filters.from_args({"tag": "none", "until": "2026-12-01", "page": "2"})
    assert not problems and filters.query() == {"tag": "none", "until": "2026-12-01", "page": "2"}


def test_tags_are_given_once_each_and_taken_off(listed):
    with listed() as s, s.begin():
        first = review.tag("fallback", "wrong_answer", None, session=s)
        assert review.tag("fallback", "wrong_answer", None, session=s).id == first.id
        review.tag("fallback", "missing_topic", None, session=s)
        with pytest.raises(review.ReviewError):
            review.tag("fallback", "rubbish", None, session=s)
    with listed() as s, s.begin():
        assert [t.tag for t in review.tags_of("fallback", session=s)] == ["wrong_answer", "missing_topic"]
        assert s.get(ConversationSummary, "fallback").reviewed
        assert review.untag("person", first.id, session=s) is None  # another conversation's tag
        assert review.untag("fallback", first.id, session=s) == "wrong_answer"
    with listed() as s:
        assert [t.tag for t in review.tags_of("fallback", session=s)] == ["missing_topic"]


@pytest.fixture
def reviewed(tracker_url, session_for):
    """A conversation with two misunderstood messages, read into the summaries."""
    save_conversation(tracker_url, "sms:+447700900123", [
        ("user", "hi", "greet"), LISTEN,
        ("user", "can i bring my lad's xbox on a visit", "nlu_fallback", 0.31), *MISSED,
        ("user", "what do i wear to see him", "ask_visit_booking", 0.52), ("action", "utter_visit_booking"), LISTEN,
        ("user", "the [bus] from Leeds", "nlu_fallback", 0.2), *MISSED,
        ("user", "/ask_human", "ask_human"), LISTEN,
    ], started=epoch(START))
    with session_for() as s:
        summary.update(tracker_engine=engine(tracker_url), session=s, now=START + timedelta(days=1))
    return [line for line in conversations.transcript("sms:+447700900123", engine=engine(tracker_url)) if line.who == "user"]


def test_messages_not_understood_and_labels(reviewed, tracker_url, session_for):
    sender = "sms:+447700900123"
    assert [(m.intent, m.confidence) for m in reviewed[:3]] == [("greet", 1.0), ("nlu_fallback", 0.31), ("ask_visit_booking", 0.52)]
    assert review.not_understood(sender, engine=engine(tracker_url)) == {reviewed[1].timestamp, reviewed[3].timestamp}
    tracker = engine(tracker_url)
    with session_for() as s, s.begin():
        review.label(sender, reviewed[1].timestamp, "ask_visit_rules", None, session=s, tracker_engine=tracker)
        review.label(sender, reviewed[1].timestamp, "ask_send_property", None, session=s, tracker_engine=tracker)  # replaces
        with pytest.raises(review.ReviewError) as bad:
            review.label(sender, reviewed[2].timestamp, "ask_for_a_unicorn", None, session=s, tracker_engine=tracker)
        assert bad.value.code == "intent"
        with pytest.raises(review.ReviewError) as gone:
            review.label(sender, reviewed[2].timestamp + 0.5, "ask_visit_rules", None, session=s, tracker_engine=tracker)
        assert gone.value.code == "message"
        review.label(sender, reviewed[2].timestamp, "ask_visit_rules", None, session=s, tracker_engine=tracker)
        review.label(sender, reviewed[2].timestamp, "", None, session=s)  # taken off again
    with session_for() as s:
        labels = review.labels_of(sender, session=s)
        assert [(label.intent, label.event_timestamp) for label in labels] == [("ask_send_property", reviewed[1].timestamp)]
        assert s.get(ConversationSummary, sender).reviewed
    assert "ask_visit_rules" in review.intents() and "nlu_fallback" not in review.intents()
    assert not any(name.startswith("EXTERNAL_") for name in review.intents())


def label_all(session_for, reviewed, tracker_url) -> None:
    with session_for() as s, s.begin():
        sender = "sms:+447700900123"
        for message, intent in ((reviewed[1], "ask_send_property"), (reviewed[3], "ask_visit_costs"),
                                (reviewed[4], "ask_human"), (reviewed[0], "greet")):
            review.label(sender, message.timestamp, intent, None, session=s, tracker_engine=engine(tracker_url))


def test_export_writes_nlu_yaml_of_the_labelled_messages_once(reviewed, tracker_url, session_for):
    label_all(session_for, reviewed, tracker_url)
    with session_for() as s, s.begin():
        done = nlu_export.export_labels(tracker_engine=engine(tracker_url), session=s, now=START + timedelta(days=2))
    assert (done.examples, done.no_text, done.known, done.erased) == (2, 1, 1, 0)  # "/ask_human" a button; "hi" known
    parsed = yaml.safe_load(done.yaml)
    assert parsed["version"] == "3.1"
    assert parsed["nlu"] == [
        {"intent": "ask_send_property", "examples": "- can i bring my lad's xbox on a visit\n"},
        {"intent": "ask_visit_costs", "examples": "- the (bus) from Leeds\n"},
    ]
    assert done.yaml.startswith("# Reviewed messages") and "1 skipped: already in the training data" in done.yaml
    with session_for() as s, s.begin():
        assert nlu_export.export_labels(tracker_engine=engine(tracker_url), session=s).examples == 0  # exported already
        again = nlu_export.export(tracker_engine=engine(tracker_url), session=s, everything=True)
    assert "xbox" in again and yaml.safe_load(again)["nlu"]
    with session_for() as s:
        assert all(label.exported_at for label in s.execute(select(ReviewLabel)).scalars() if label.intent.startswith("ask_send"))


def test_an_erased_conversation_gives_no_words_and_is_counted(reviewed, tracker_url, session_for):
    label_all(session_for, reviewed, tracker_url)
    conversations.erase("sms:+447700900123", engine=engine(tracker_url))  # words gone before the purge's forget
    with session_for() as s, s.begin():
        done = nlu_export.export_labels(tracker_engine=engine(tracker_url), session=s)
    assert (done.examples, done.erased) == (0, 4)
    assert yaml.safe_load(done.yaml) == {"version": "3.1", "nlu": []}
    assert "4 skipped: conversation erased or past its retention" in done.yaml
    with session_for() as s, s.begin():
        summary.forget(["sms:+447700900123"], session=s)
    with session_for() as s:
        assert s.execute(select(ReviewLabel)).all() == [] and s.execute(select(ConversationReview)).all() == []
        assert review.listing(review.Filters(), session=s) == ([], False)


@pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)
def test_rasa_reads_and_validates_the_export_with_the_projects_data(reviewed, tracker_url, session_for, tmp_path):
    """Rasa's own importer reads the exported file beside data/, and the checks `rasa data validate
    --fail-on-warnings` makes of NLU data (intents in the domain, no example under two intents) pass."""
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.validator import Validator

    label_all(session_for, reviewed, tracker_url)
    with session_for() as s, s.begin():
        exported = nlu_export.export(tracker_engine=engine(tracker_url), session=s)
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    (data / "nlu" / "reviewed.yml").write_text(exported)
    importer = TrainingDataImporter.load_from_config(str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(data)])
    read = {(m.get("text"), m.get("intent")) for m in importer.get_nlu_data().intent_examples}
    assert {("can i bring my lad's xbox on a visit", "ask_send_property"), ("the (bus) from Leeds", "ask_visit_costs")} <= read
    validator = Validator.from_importer(importer)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert validator.verify_intents(ignore_warnings=False)
        assert validator.verify_example_repetition_in_intents(ignore_warnings=False)
    assert not [w for w in caught if "xbox" in str(w.message) or "bus" in str(w.message)]
