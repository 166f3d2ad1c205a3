"""End to end over REST: short follow-ups that lean on the last answer (issue 14, item 2; more to come)."""
from __future__ import annotations

import uuid

import pytest

from test_rest import response_name, talk, texts

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("follow_up", ["Sunderland", "and in Sunderland?", "what about Sunderland"])
def test_a_place_alone_after_a_directory_answer_searches_there(servers, follow_up):
    sender = f"follow-{uuid.uuid4().hex[:8]}"
    first = texts(talk(servers, "who supports grandparent carers in Stockton", sender=sender))
    assert response_name(first[0]) == "utter_directory_local" and "Stockton-on-Tees" in first[0]
    again = texts(talk(servers, follow_up, sender=sender))
    # the same kind of help, searched again in Sunderland (which has no grandparent carers' group
    # of its own in the directory, so the wider area's services follow)
    assert response_name(again[0]) in ("utter_directory_local", "utter_directory_nothing_local")
    assert "Sunderland" in again[0] and "Stockton" not in " ".join(again)
