"""Text-message manners: encodings and segments, splitting, numbered options, keywords."""
from __future__ import annotations

import re

import pytest

from bot.channels import sms

HELPLINE = "0808 808 3444"
HOURS = "Mon-Fri 10am-5pm"


# --- GSM-7 and UCS-2 ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, alphabet, units, segments",
    [
        ("", "GSM-7", 0, 0),
        ("Hello", "GSM-7", 5, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),  # 153 + 8
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("£5 for the café, é à ü", "GSM-7", 22, 1),  # all in the basic table
        ("€" * 80, "GSM-7", 160, 1),  # extension characters count two
        ("€" * 81, "GSM-7", 162, 2),
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),  # an escape pair is never split across segments
        ("I\u2019m here", "UCS-2", 8, 1),  # one curly apostrophe: UCS-2
        ("x" * 70 + "\u2019", "UCS-2", 71, 2),
        ("\U0001F600" * 35, "UCS-2", 70, 1),  # an emoji is two UTF-16 units
        ("\U0001F600" * 36, "UCS-2", 72, 2),
        ("a" * 66 + "\U0001F600" + "a" * 66, "UCS-2", 134, 3),  # a surrogate pair likewise
        ("Ça va? 你好", "UCS-2", 9, 1),
    ],
)
def test_encoding_and_segments(text, alphabet, units, segments):
    assert sms.encoding(text) == sms.Encoding(alphabet, units, segments)
    assert sms.segments(text) == segments


def test_curly_quotes_and_dashes_become_gsm7_and_save_segments():
    text = "You\u2019re not alone \u2014 \u201cit\u2019s\u201d normal\u2026 call\u00a0us. " * 3
    assert sms.encoding(text).alphabet == "UCS-2"
    plain = sms.normalise(text)
    assert plain.startswith("You're not alone - \"it's\" normal... call us.")
    assert sms.encoding(plain).alphabet == "GSM-7"
    assert sms.segments(plain) < sms.segments(text)


def test_emoji_is_kept_and_forces_ucs2():
    text = sms.normalise("Take care \u2764\ufe0f")
    assert "\u2764" in text
    assert sms.encoding(text).alphabet == "UCS-2"


# --- splitting -------------------------------------------------------------------------------
LONG_ANSWER = (
    "Most prisons let you book visits online with the government's prison visits service. "
    "Some take bookings by phone or email instead: check the prison's page first. "
    "You need to be on the person's visitor list, so ask them to add you. "
    "Bring photo ID, such as a passport or driving licence, for every adult. "
    "Children need to be named on the booking. "
    f"If you need help, call the Prisoners' Families Helpline free on {HELPLINE}. "
    "They can also tell you about help with travel costs through the Help with Prison Visits scheme. "
    "Arrive early: there are searches, and lockers for your things."
)


def test_a_short_answer_is_one_message():
    assert sms.split("Thanks. I'll remember that.") == ["Thanks. I'll remember that."]
    assert sms.split("   ") == []


def test_long_answer_splits_at_sentence_boundaries_into_at_most_three():
    parts = sms.split(LONG_ANSWER)
    assert 2 <= len(parts) <= 3
    assert all(len(p) <= 320 for p in parts)
    assert all(p.rstrip().endswith((".", ":")) for p in parts)
    assert " ".join(parts) == LONG_ANSWER
    assert any(HELPLINE in p for p in parts)  # the number is never cut


def test_never_more_than_three_messages_even_for_a_very_long_answer():
    text = " ".join(f"This is sentence number {i} of a long answer about visits and money." for i in range(30))
    parts = sms.split(text)
    assert len(parts) == 3
    assert " ".join(parts) == text
    assert all(re.search(r"money\.$", p) for p in parts)


def test_one_long_sentence_is_cut_between_words_never_inside_a_phone_number():
    words = "word " * 60
    text = f"{words}ring {HELPLINE} or +44 7700 900123 {words}the end"
    for limit in range(290, 340, 3):
        parts = sms.split(text, limit=limit)
        assert " ".join(parts) == text
        assert all(HELPLINE in p or "0808" not in p for p in parts)
        assert all("+44 7700 900123" in p or "+44" not in p for p in parts)
        assert all(not p.startswith(" ") and not p.endswith(" ") for p in parts)


def test_abbreviations_do_not_end_a_sentence():
    text = "Bring ID, e.g. a passport. " + "More words here. " * 30
    assert not any(p.endswith("e.g.") for p in sms.split(text))


def test_paragraphs_and_option_lines_keep_their_breaks():
    text = "First paragraph.\n\nSecond one.\nReply with a number:\n1 Visits\n2 Money"
    assert sms.split(text) == [text]
    long = ("A sentence that fills space. " * 8).strip() + "\n\n" + ("Another one here. " * 8).strip() + "\nReply 1 for Yes or 2 for No."
    parts = sms.split(long)
    assert "\n".join(parts).replace("\n\n", "\n") == long.replace("\n\n", "\n") or len(parts) > 1
    assert parts[-1].endswith("Reply 1 for Yes or 2 for No.")


# --- numbered options ------------------------------------------------------------------------
YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
TOPICS = [
    {"title": "Visiting", "payload": "/ask_visit_booking"},
    {"title": "Telling children", "payload": "/ask_tell_children"},
    {"title": "Money and housing help", "payload": "/ask_money"},
    {"title": "Release", "payload": "/ask_release_prepare"},
]


def test_short_options_go_on_one_line():
    assert sms.render_options(YES_NO) == "Reply 1 for Yes or 2 for No."
    assert sms.render_options(YES_NO[:1]) == "Reply 1 for Yes."
    three = YES_NO + [{"title": "Not sure", "payload": "/unsure"}]
    assert sms.render_options(three) == "Reply 1 for Yes, 2 for No or 3 for Not sure."


def test_many_or_long_options_go_one_a_line():
    assert sms.render_options(TOPICS) == (
        "Reply with a number:\n1 Visiting\n2 Telling children\n3 Money and housing help\n4 Release"
    )


def test_options_follow_the_text():
    assert sms.with_options("Shall I go on?", YES_NO) == "Shall I go on?\nReply 1 for Yes or 2 for No."
    assert sms.with_options("", YES_NO) == "Reply 1 for Yes or 2 for No."
    assert sms.with_options("Just text", []) == "Just text"


@pytest.mark.parametrize("reply, expected", [
    ("1", "/ask_visit_booking"), ("2", "/ask_tell_children"), (" 4 ", "/ask_release_prepare"), ("2.", "/ask_tell_children"),
    ("3)", "/ask_money"), ("option 2", "/ask_tell_children"), ("5", None), ("0", None), ("2 please", None), ("two", None), ("", None),
])
def test_a_number_picks_the_payload(reply, expected):
    assert sms.pick(reply, sms.payloads(TOPICS)) == expected


def test_no_options_no_pick():
    assert sms.pick("1", []) is None


# --- keywords -------------------------------------------------------------------------------
@pytest.mark.parametrize("text, word", [
    ("STOP", "STOP"), ("stop", "STOP"), (" Stop. ", "STOP"), ("unsubscribe!", "UNSUBSCRIBE"), ("Help", "HELP"),
    ("stop please", None), ("please stop", None), ("", None), ("2", "2"),
])
def test_keyword_is_a_single_word(text, word):
    assert sms.keyword(text) == word


def test_keywords_match_twilios_default_handling():
    assert {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"} <= sms.OPT_OUT_WORDS
    assert {"START", "UNSTOP"} <= sms.OPT_IN_WORDS
    assert {"HELP", "INFO"} <= sms.HELP_WORDS


def test_help_text_names_the_helpline_and_999_in_one_gsm7_message_or_two():
    text = sms.help_text("twilio")  # the helpline slots filled in
    assert HELPLINE in text and HOURS in text and "999" in text and "STOP" in text
    assert sms.encoding(text).alphabet == "GSM-7"
    assert sms.segments(text) <= 2
