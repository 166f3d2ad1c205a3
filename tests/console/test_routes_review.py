"""The review pages over real HTTP: the list (brought up to date from the tracker store when it is
viewed), a conversation's transcript with what each message was read as (every view audited by
the summary's key, never the sender id), tags and labels, bad input, and erasure."""
from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import select

from bot import conversations
from bot.insights import summary
from bot.insights.models import ConversationReview, ConversationSummary, ReviewLabel
from tests.support.console import audit_rows, log_in, post
from tests.support.conversations import engine, save_conversation

SENDER = "sms:+447700900123"
LISTEN = ("action", "action_listen")


@pytest.fixture
def stored(tracker_url):
    """A conversation the assistant did not understand, and one it answered well."""
    started = time.time() - 3600
    save_conversation(tracker_url, SENDER, [
        ("user", "hello", "greet"), LISTEN,
        ("user", "can i post him a birthday card", "nlu_fallback", 0.31),
        ("action", "utter_default"), ("bot", "Sorry, I didn't understand that.", {"utter_action": "utter_default"}), LISTEN,
    ], started=started, channel="twilio")
    save_conversation(tracker_url, "telegram:42", [("user", "how do i book a visit", "ask_visit_booking"),
                                                   ("action", "utter_visit_booking"), LISTEN], started=started, channel="telegram")
    return started


def ref_of(session_for, sender: str = SENDER) -> str:
    with session_for() as s:
        return s.execute(select(ConversationSummary.ref).where(ConversationSummary.sender_id == sender)).scalar_one()


def test_the_list_shows_what_to_review_and_filters(console, make_user, stored, session_for):
    make_user("sam", role="worker")
    client = log_in(console, "sam")
    page = client.get(console.url + "/review")
    assert page.status_code == 200
    ref = ref_of(session_for)  # the page brought the summaries up to date
    assert f'href="/review/{ref}"' in page.text and "not understood" in page.text
    assert ref_of(session_for, "telegram:42") not in page.text  # answered: nothing to review
    assert SENDER not in page.text and "birthday" not in page.text  # no sender ids, no words on the list
    assert ref not in client.get(console.url + "/review?reason=safety").text
    assert ref in client.get(console.url + "/review?channel=twilio&reviewed=no&tag=none").text
    odd = client.get(console.url + "/review?channel=pigeon&since=soon")
    assert odd.status_code == 200 and "not one of the choices" in odd.text and "needs a date" in odd.text
    assert ref in odd.text  # what could not be used is dropped, the rest still shown


def test_a_conversation_is_read_audited_by_its_key_tagged_and_relabelled(console, make_user, stored, session_for):
    user_id = make_user("sam", role="worker")
    client = log_in(console, "sam")
    client.get(console.url + "/review")
    ref = ref_of(session_for)
    page = client.get(console.url + f"/review/{ref}")
    assert page.status_code == 200
    assert "can i post him a birthday card" in page.text and "Read as <code>nlu_fallback</code> (31% sure)" in page.text
    assert "Should have been" in page.text and 'value="ask_send_property"' in page.text
    viewed = [row for row in audit_rows(session_for) if row[0] == "review_view"]
    assert viewed == [("review_view", user_id, None, f"conversation {ref}")]

    reply = post(client, console, f"/review/{ref}/tag", {"tag": "wrong_answer"}, page=f"/review/{ref}")
    assert reply.status_code == 200 and "Tag added." in reply.text and "wrong answer" in reply.text
    bad = post(client, console, f"/review/{ref}/tag", {"tag": "<b>odd</b>"}, page=f"/review/{ref}")
    assert "Choose one of the tags listed" in bad.text and "<b>odd</b>" not in bad.text

    timestamp = stored + 2  # the third event saved: the message not understood
    reply = post(client, console, f"/review/{ref}/label", {"timestamp": repr(timestamp), "intent": "ask_send_property"},
                 page=f"/review/{ref}")
    assert "Label saved" in reply.text and "labelled: ask_send_property" in reply.text
    assert "Choose one of the intents" in post(client, console, f"/review/{ref}/label", {"timestamp": repr(timestamp),
                                               "intent": "ask_anything"}, page=f"/review/{ref}").text
    assert "not in the conversation any more" in post(client, console, f"/review/{ref}/label", {"timestamp": "12.5",
                                                      "intent": "ask_visit_rules"}, page=f"/review/{ref}").text
    with session_for() as s:
        labels = [(l.sender_id, l.event_timestamp, l.intent, l.reviewer_id) for l in s.execute(select(ReviewLabel)).scalars()]
        tags = [(t.sender_id, t.tag, t.reviewer_id) for t in s.execute(select(ConversationReview)).scalars()]
        assert s.get(ConversationSummary, SENDER).reviewed
    assert labels == [(SENDER, timestamp, "ask_send_property", user_id)]
    assert tags == [(SENDER, "wrong_answer", user_id)]

    with session_for() as s:
        tag_id = s.execute(select(ConversationReview.id)).scalar_one()
    reply = post(client, console, f"/review/{ref}/untag", {"review_id": str(tag_id)}, page=f"/review/{ref}")
    assert "Tag taken off." in reply.text
    changes = [row for row in audit_rows(session_for) if row[0].startswith("review_") and row[0] != "review_view"]
    assert changes == [
        ("review_tag", user_id, None, f"conversation {ref}: wrong_answer"),
        ("review_label", user_id, None, f"conversation {ref}: a message labelled ask_send_property"),
        ("review_untag", user_id, None, f"conversation {ref}: wrong_answer taken off"),
    ]
    assert not any("+44" in row[3] or "07700" in row[3] for row in audit_rows(session_for))


def test_no_such_conversation_no_form_without_a_token_and_no_page_without_a_login(console, make_user, stored, session_for):
    make_user("sam")
    client = log_in(console, "sam")
    missing = client.get(console.url + "/review/not-a-key")
    assert missing.status_code == 404 and "No such conversation" in missing.text
    client.get(console.url + "/review")
    ref = ref_of(session_for)
    assert client.post(console.url + f"/review/{ref}/tag", data={"tag": "good"}).status_code == 403
    assert requests.get(console.url + f"/review/{ref}", allow_redirects=False).status_code in (302, 303)
    with session_for() as s:
        assert s.execute(select(ConversationReview)).all() == []


def test_an_erased_conversation_disappears_from_review(console, make_user, stored, session_for, tracker_url):
    make_user("sam")
    client = log_in(console, "sam")
    client.get(console.url + "/review")
    ref = ref_of(session_for)
    post(client, console, f"/review/{ref}/tag", {"tag": "good"}, page=f"/review/{ref}")
    # What bot.erasure does (tests/insights/test_summary.py runs it whole): here the tracker store
    # shares the test's SQLite file, so the steps run one at a time.
    conversations.erase(SENDER, engine=engine(tracker_url))
    with session_for() as s, s.begin():
        summary.forget([SENDER], session=s)
    assert client.get(console.url + f"/review/{ref}").status_code == 404
    assert ref not in client.get(console.url + "/review").text
    with session_for() as s:
        assert s.execute(select(ConversationReview)).all() == []
