"""A worker's reply to a WhatsApp conversation (bot/console/routes_live.py): sent as written
within WhatsApp's 24 hours of the person's last message; after it, refused with the reason and
the text kept when there is no approved template, else sent (the channel sends the template)
and the worker told when it will arrive. The window is read from the tracker store's events."""
from __future__ import annotations

import json
import time

from bot import conversations, db
from tests.support.console import audit_rows, log_in, post

SENDER = "wa:+447700900123"
HOUR = 3600.0
TEMPLATE = "HX" + "0123456789abcdef" * 2


def they_wrote(tracker_url: str, hours_ago: float, *, then: list[tuple[str, float]] = ()) -> None:
    """The person's WhatsApp message `hours_ago`, answered then, and bot messages (text, hours ago) after."""
    at = time.time() - hours_ago * HOUR
    events = [{"event": "user", "timestamp": at, "text": "is anyone there", "input_channel": "whatsapp"},
              {"event": "bot", "timestamp": at + 1, "text": "A worker will join soon."}]
    events += [{"event": "bot", "timestamp": time.time() - ago * HOUR, "text": text} for text, ago in then]
    with db.engine_for(tracker_url).begin() as connection:
        for event in events:
            connection.execute(conversations.events.insert().values(
                sender_id=SENDER, type_name=event["event"], timestamp=event["timestamp"], data=json.dumps(event),
            ))


def claimed_chat(console, make_user, make_live):
    make_user("sam")
    case_id = make_live(SENDER)
    client = log_in(console)
    post(client, console, f"/cases/{case_id}/claim")
    return client, case_id


def replies_sent(fake_rasa) -> list[str]:
    return [body[0]["text"] for path, _, body in fake_rasa.posts if path.endswith("/tracker/events")]


def test_within_the_window_the_reply_goes_as_usual(console, fake_rasa, make_user, make_live, tracker_url, session_for):
    client, case_id = claimed_chat(console, make_user, make_live)
    they_wrote(tracker_url, 23)
    sent = post(client, console, f"/cases/{case_id}/reply", {"text": "Hello, I'm Sam."})
    assert sent.status_code == 200 and "Reply sent." in sent.text
    assert replies_sent(fake_rasa) == ["Hello, I'm Sam."]


def test_after_the_window_without_a_template_the_reply_is_refused_with_the_reason(
    console, fake_rasa, make_user, make_live, tracker_url, session_for,
):
    client, case_id = claimed_chat(console, make_user, make_live)
    they_wrote(tracker_url, 26)
    refused = post(client, console, f"/cases/{case_id}/reply", {"text": "Hello, I'm Sam & I'm here."})
    assert refused.status_code == 409
    assert "WhatsApp only lets us message someone within 24 hours of their last message." in refused.text
    assert "Their last message was 26 hours ago." in refused.text and "TWILIO_WHATSAPP_TEMPLATE_SID" in refused.text
    assert ">Hello, I&#39;m Sam &amp; I&#39;m here.</textarea>" in refused.text  # nothing lost
    assert replies_sent(fake_rasa) == []  # Rasa never asked
    assert ("reply", case_id, "reply not sent: outside WhatsApp's 24-hour window, no template") in [
        (a, c, d) for a, _, c, d in audit_rows(session_for)]


def test_after_the_window_with_a_template_the_reply_goes_and_the_worker_is_told_when_it_arrives(
    make_console, fake_rasa, make_user, make_live, tracker_url, session_for,
):
    console = make_console(twilio_whatsapp_template_sid=TEMPLATE)
    client, case_id = claimed_chat(console, make_user, make_live)
    they_wrote(tracker_url, 50)
    held = post(client, console, f"/cases/{case_id}/reply", {"text": "Hello, I'm Sam."})
    assert held.status_code == 200 and replies_sent(fake_rasa) == ["Hello, I'm Sam."]
    assert "Their last message was 50 hours ago." in held.text
    assert "We have sent them our approved message asking them to reply" in held.text


def test_a_second_reply_after_the_window_says_they_were_already_asked(
    make_console, fake_rasa, make_user, make_live, tracker_url, session_for,
):
    console = make_console(twilio_whatsapp_template_sid=TEMPLATE)
    client, case_id = claimed_chat(console, make_user, make_live)
    they_wrote(tracker_url, 100, then=[("Hello, I'm Sam.", 2)])  # held, the template went with it
    again = post(client, console, f"/cases/{case_id}/reply", {"text": "Are you there?"})
    assert again.status_code == 200 and "Their last message was 4 days ago." in again.text
    assert "They have already been sent our approved message" in again.text
    assert "reply held: outside WhatsApp's 24-hour window, they were already asked to reply" in [
        d for a, _, c, d in audit_rows(session_for) if c == case_id]
