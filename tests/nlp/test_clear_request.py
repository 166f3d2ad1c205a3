"""Sensitive flows start only on a clear request (bot/nlp/clear_request.py)."""
import pytest

from bot.nlp.clear_request import SENSITIVE_INTENTS, is_clear
from tests.support.nlu_examples import examples


@pytest.mark.parametrize("intent", sorted(SENSITIVE_INTENTS))
def test_every_training_example_of_a_sensitive_flow_is_a_clear_request(intent):
    texts = [text for name, text in examples() if name == intent]
    assert len(texts) > 20
    unclear = [text for text in texts if not is_clear(intent, text)]
    assert unclear == []


@pytest.mark.parametrize("intent, text", [
    # CLINC150 queries the classifier once took for these flows
    ("delete_my_data", "can you delete my todo list please"),
    ("delete_my_data", "please change my name to tom"),
    ("delete_my_data", "can you please freeze my account"),
    ("delete_my_data", "don't sync to my phone anymore"),
    ("delete_my_data", "i want your volume lowered"),
    ("request_callback", "i want you to call me a different name so can you call me charchar"),
    ("request_callback", "please call an uber for me"),
    ("request_callback", "call aj"),
    ("request_callback", "can you please set up a meeting for 3:00 on wednesday"),
    ("ask_live_chat", "please use whisper mode"),
    ("ask_live_chat", "talk to me in a speedier manner from here on out"),
    ("cancel_callback", "can you delete my todo list please"),
])
def test_an_everyday_request_is_not_a_clear_request(intent, text):
    assert not is_clear(intent, text)


@pytest.mark.parametrize("intent, text", [
    ("delete_my_data", "delete"),
    ("delete_my_data", "pls wipe what i told u about my son"),
    ("delete_my_data", "i dont want you to keep my number"),
    ("request_callback", "can sum1 ring me tmrw"),
    ("request_callback", "call me back please"),
    ("ask_live_chat", "can i chat to a real person on here"),
    ("cancel_callback", "cancel it"),
    ("greet", "hiya"),  # not a sensitive flow: nothing to check
    ("delete_my_data", "/delete_my_data"),  # a button names its intent
])
def test_a_clear_request_stands(intent, text):
    assert is_clear(intent, text)
