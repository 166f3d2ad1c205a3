"""Property-based fuzzing (hypothesis) of what comes in from the public: the web chat's
clean_message, SMS splitting and numbered options (bot/channels/sms.py), UK phone parsing
(bot/referrals/form.py), and the web chat webhook over real HTTP with random bodies
(never a 500)."""
from __future__ import annotations

import json
import re
import string
import urllib.error
import urllib.request

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from bot.channels import sms
from bot.senders import issue as issue_id
from bot.channels.webchat import BLOCKED_COMMANDS, MAX_MESSAGE_CHARS, WebChatInput, clean_message
from bot.referrals.form import Phone, PhoneError, parse_uk_phone
from tests.support.channel_fakes import ChannelServer, FakeRasa

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


# --- clean_message ------------------------------------------------------------------------------
@FUZZ
@given(st.one_of(st.text(), st.text(alphabet="/ \n\trestartback_sesion", max_size=40), json_values))
@example("/restart")
@example("  /session_start please")
@example("/action_listen")
@example("x" * 5000)
def test_clean_message_never_passes_a_command_and_stays_within_the_cap(value):
    cleaned = clean_message(value)
    if cleaned is None:
        return
    assert isinstance(cleaned, str) and cleaned
    assert len(cleaned) <= MAX_MESSAGE_CHARS
    assert not BLOCKED_COMMANDS.match(cleaned)


# --- SMS splitting and numbered options -----------------------------------------------------------
words = st.text(alphabet=string.ascii_letters + "£€'\"-", min_size=1, max_size=12)
@FUZZ
@given(
    st.lists(st.lists(words, min_size=1, max_size=40).map(" ".join), min_size=1, max_size=20).map(". ".join),
    st.integers(min_value=40, max_value=400),
    st.integers(min_value=1, max_value=5),
)
def test_sms_split_keeps_every_word_in_order_in_at_most_max_parts(text, limit, max_parts):
    parts = sms.split(text, limit=limit, max_parts=max_parts)
    assert 1 <= len(parts) <= max_parts
    assert all(p and p == p.strip() for p in parts)
    assert " ".join(parts).split() == text.split()


@FUZZ
@given(st.text(max_size=2000))
def test_sms_split_and_segments_never_fail_on_any_text(text):
    parts = sms.split(sms.normalise(text))
    assert len(parts) <= sms.MAX_PARTS
    for part in parts:
        assert sms.segments(part) >= 1
    assert sms.normalise(sms.normalise(text)) == sms.normalise(text)


buttons = st.lists(
    st.fixed_dictionaries({"title": st.text(min_size=1, max_size=40).filter(str.strip), "payload": st.text(min_size=1, max_size=30)}),
    min_size=1, max_size=9,
)


@FUZZ
@given(buttons)
def test_numbered_options_answer_with_the_right_payload(options):
    rendered = sms.render_options(options)
    assert rendered.startswith("Reply")
    payloads = sms.payloads(options)
    for number, payload in enumerate(payloads, 1):
        assert f"{number}" in rendered
        assert sms.pick(str(number), payloads) == payload
        assert sms.pick(f" {number}. ", payloads) == payload
    assert sms.pick(str(len(payloads) + 1), payloads) is None
    assert sms.pick("0", payloads) is None


# --- UK phone numbers ---------------------------------------------------------------------------
@FUZZ
@given(st.text(max_size=60))
@example("+33 6 12 34 56 78")
@example("0800 123 4567")
@example("999")
def test_phone_parsing_returns_a_uk_number_or_a_reason_never_a_crash(text):
    try:
        phone = parse_uk_phone(text)
    except PhoneError as error:
        assert error.reason in {"not_a_number", "not_uk", "invalid", "not_personal"}
        return
    assert isinstance(phone, Phone) and re.fullmatch(r"\+44\d{9,10}", phone.e164)


@FUZZ
@given(st.integers(min_value=0, max_value=999_999), st.sampled_from(["0{}", "+44{}", "0044{}", "+44 (0){}", "(0{})"]),
       st.sampled_from(["", " ", "-", "  "]))
def test_any_way_of_writing_a_uk_mobile_gives_the_same_number(digits, form, separator):
    national = f"7512{digits:06d}"
    spaced = separator.join([national[:4], national[4:7], national[7:]])
    phone = parse_uk_phone(form.format(spaced))
    assert phone.e164 == f"+44{national}"


# --- the web chat webhook over HTTP -------------------------------------------------------------


@pytest.fixture(scope="module")
def webchat(tmp_path_factory):
    database = tmp_path_factory.mktemp("fuzz") / "fc.db"
    with ChannelServer(WebChatInput(f"sqlite:///{database}", secret=FUZZ_KEY), FakeRasa()) as server:
        yield server


def post(url: str, body: bytes, content_type: str = "application/json") -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            json.loads(response.read())
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


FUZZ_KEY = "fuzz-webchat-key"
sender_ids = st.one_of(
    st.text(max_size=70), st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True), json_values,
    st.builds(lambda _: issue_id(FUZZ_KEY), st.none()),
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"sender": sender_ids, "message": st.one_of(st.text(max_size=3000), json_values)}).map(lambda v: json.dumps(v).encode()),
))
def test_the_webchat_webhook_never_answers_500(webchat, body):
    status = post(webchat.webhook_url, body)
    assert status in (200, 400, 403), status


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=3000).filter(str.strip))
def test_a_good_sender_always_gets_an_answer_or_a_kind_refusal(webchat, message):
    assume(clean_message(message) is not None)
    sender = issue_id(FUZZ_KEY)
    request = urllib.request.Request(
        webchat.webhook_url, data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        replies = json.loads(response.read())
    assert replies and all(r["text"] for r in replies)
