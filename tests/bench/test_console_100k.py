"""bench.console_100k's synthetic helpline: the conversations it writes into a real tracker store
are read by the real summaries (bot.insights.summary) as the mix it means, and its cases fill
every measure. No servers, no timings."""
from __future__ import annotations

import random
from datetime import datetime

import pytest

from bench import console_100k
from bot import db
from bot.insights import measures, summary
from bot.settings import Settings

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_the_synthetic_mix_is_read_as_a_helpline_s_conversations(tmp_path, database_url, session_for):
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    kinds = console_100k.fill_tracker(tracker_url, 400, random.Random(3))
    assert set(kinds) == {"question", "fallback", "greeting", "person", "callback", "abandoned", "safety"}
    cases = console_100k.make_cases(database_url, kinds, 0.05, random.Random(3))
    assert cases == 20
    with session_for() as s:
        summary.update(tracker_engine=db.engine_for(tracker_url), session=s, now=datetime.utcnow())
    with session_for() as s:
        found = measures.measure(measures.Filters(), session=s, targets=measures.targets(Settings.from_env()))
    total = found.total
    assert total.conversations == 400
    assert total.escalated == len(kinds["person"]) + len(kinds["callback"]) + len(kinds["abandoned"])
    assert total.abandoned == len(kinds["abandoned"])
    assert total.fallbacks >= len(kinds["fallback"]) and total.contained > 0 and total.helpful > 0
    assert set(found.by_channel) == {"webchat", "twilio", "telegram"}
    assert len(found.by_week) >= 12 and "North East" in found.by_region
    assert sum(t.cases for t in found.to_claim) > 0 and found.outcomes

