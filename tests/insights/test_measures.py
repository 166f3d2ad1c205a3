"""The measures a helpline reports, added up in the database from conversation summaries, cases
and the counts kept from purged data (rows written here directly, as bot.insights.summary and
bot.referrals would write them), on SQLite and PostgreSQL."""
from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta

from bot.insights import measures
from bot.insights.measures import Counts, Filters
from bot.insights.models import ConversationSummary, ConversationTopic
from bot.referrals.models import Case, UsageCount

TARGETS = {"urgent": 15, "high": 60, "normal": 1440}
NOW = datetime(2026, 12, 9, 12, 0)
_ids = itertools.count(1)


def add_conversation(s, week="2026-11-23", council="STT", channel="webchat", audience="family", messages=4, fallbacks=0,
                     asked=False, abandoned=False, contained=True, helpful=0, not_helpful=0, topics=None, missed=None):
    """One summary row (and its topic rows) as bot.insights.summary keeps them."""
    sender = f"sender-{next(_ids)}"
    topics = {"ask_visiting": 1} if topics is None else topics
    start = datetime.fromisoformat(week) + timedelta(hours=10)
    s.add(ConversationSummary(
        sender_id=sender, channel=channel, started_at=start, last_at=start, week=week, council_code=council, audience=audience,
        messages=messages, questions=sum(topics.values()), fallbacks=fallbacks, asked_for_person=asked, form_abandoned=abandoned,
        contained=contained, helpful=helpful, not_helpful=not_helpful, not_understood_topics=json.dumps(missed or {}),
    ))
    s.flush()
    for topic, n in topics.items():
        s.add(ConversationTopic(sender_id=sender, topic=topic, questions=n))
    return sender


def add_case(s, kind="callback", created=datetime(2026, 11, 24, 9, 0), priority="normal", first=None, called_back=None,
             status="new", closed=None, outcome=None, council="STT", channel="webchat", audience="family", topic="ask_visiting"):
    n = next(_ids)
    s.add(Case(reference=f"FC-{n:05d}", kind=kind, status=status, sender_id=f"case-{n}", channel=channel, created_at=created,
               updated_at=created, priority=priority, priority_rank={"urgent": 0, "high": 1, "normal": 2}[priority],
               first_response_at=first, called_back_at=called_back, closed_at=closed, outcome_code=outcome,
               council_code=council, audience=audience, topic=topic))


def measure(session_for, **filters) -> measures.Measures:
    with session_for() as s:
        return measures.measure(Filters(**filters), session=s, targets=TARGETS, now=NOW)


def test_each_measure_is_added_up_from_the_summaries(session_for):
    with session_for() as s, s.begin():
        add_conversation(s, messages=5, contained=True, helpful=1, topics={"ask_visiting": 2, "ask_visit_costs": 1})
        add_conversation(s, messages=3, fallbacks=2, contained=False, asked=True, not_helpful=1,
                         missed={"ask_visiting": 1, "": 1})
        add_conversation(s, messages=2, fallbacks=1, contained=False, abandoned=True, asked=True, missed={"ask_visiting": 1},
                         channel="twilio", council="HPL", audience="professional", week="2026-11-30")
        add_conversation(s, messages=0, topics={})  # a conversation where the person said nothing: not counted
    m = measure(session_for)
    assert m.total == Counts(conversations=3, measured=3, questions=5, referrals=0, messages=10, fallbacks=3, contained=1,
                             escalated=2, abandoned=1, helpful=1, not_helpful=1)
    assert m.by_week["2026-11-23"].conversations == 2 and m.by_week["2026-11-30"].abandoned == 1
    assert m.by_council["STT"].conversations == 2 and m.by_council["HPL"].fallbacks == 1
    assert m.by_region == {"North East": m.total}  # Stockton-on-Tees and Hartlepool
    assert m.by_channel["twilio"].escalated == 1 and m.by_channel["webchat"].contained == 1
    assert m.by_audience["professional"].conversations == 1
    assert (m.by_topic["ask_visiting"].conversations, m.by_topic["ask_visiting"].questions) == (3, 4)
    assert (m.by_topic["ask_visit_costs"].conversations, m.by_topic["ask_visit_costs"].questions) == (1, 1)
    assert m.not_understood == {"ask_visiting": 2, "": 1}
    assert m.options["channel"] == ["twilio", "webchat"] and m.options["council"] == ["HPL", "STT"]
    assert "North East" in m.options["region"]


def test_empty_weeks_between_are_listed(session_for):
    with session_for() as s, s.begin():
        add_conversation(s, week="2026-11-02")
        add_conversation(s, week="2026-11-23")
    assert list(sorted(measure(session_for).by_week)) == ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"]


def test_filters_choose_conversations_and_cases(session_for):
    with session_for() as s, s.begin():
        add_conversation(s, week="2026-11-16", council="STT", channel="webchat", audience="family", topics={"ask_visiting": 1})
        add_conversation(s, week="2026-11-23", council="HPL", channel="twilio", audience="family", topics={"ask_school": 2})
        add_conversation(s, week="2026-11-30", council="MAN", channel="telegram", audience="professional", topics={"ask_visiting": 3})
        add_conversation(s, week="2026-11-30", council="", channel="webchat", audience="", topics={})
        add_case(s, created=datetime(2026, 11, 17, 9), council="STT", channel="webchat", topic="ask_visiting")
        add_case(s, created=datetime(2026, 12, 1, 9), council="MAN", channel="telegram", audience="professional", topic="ask_school")
    assert measure(session_for).total.conversations == 4
    between = measure(session_for, week_from="2026-11-23", week_to="2026-11-23").total
    assert (between.conversations, between.referrals) == (1, 0)
    assert measure(session_for, week_from="2026-11-30").total.referrals == 1
    north_east = measure(session_for, region="North East").total
    assert (north_east.conversations, north_east.questions, north_east.referrals) == (2, 3, 1)
    assert measure(session_for, region="North West").total.conversations == 1
    assert measure(session_for, region="Not given").total.conversations == 1
    assert measure(session_for, council="HPL").total.conversations == 1
    topic = measure(session_for, topic="ask_visiting")
    assert (topic.total.conversations, topic.total.questions, topic.total.referrals) == (2, 4, 1)
    assert list(topic.by_topic) == ["ask_visiting"]
    assert measure(session_for, audience="professional").total.referrals == 1
    channel = measure(session_for, channel="twilio").total
    assert (channel.conversations, channel.questions, channel.referrals) == (1, 2, 0)
    assert measure(session_for, channel="telegram", topic="ask_school").total.conversations == 0


def test_counts_kept_from_purged_data_are_not_lost(session_for):
    with session_for() as s, s.begin():
        add_conversation(s, week="2026-11-23", contained=True)
        # Kept when older conversations and cases were deleted (bot.retention, bot.referrals.counts):
        s.add(UsageCount(week="2026-08-03", council_code="STT", topic="", audience="family", conversations=40, questions=0, referrals=0))
        s.add(UsageCount(week="2026-08-03", council_code="STT", topic="ask_visiting", audience="family", conversations=30, questions=45, referrals=3))
        s.add(UsageCount(week="2026-08-03", council_code="STT", topic="ask_visit_costs", audience="family", conversations=5, questions=6, referrals=0))
    m = measure(session_for)
    assert (m.total.conversations, m.total.questions, m.total.referrals) == (41, 52, 3)
    assert m.total.measured == 1 and m.total.contained == 1  # the rates cover what is still held
    assert m.by_week["2026-08-03"].conversations == 40 and m.by_week["2026-08-03"].measured == 0
    assert m.by_council["STT"].conversations == 41 and m.by_channel[""].conversations == 40
    assert (m.by_topic["ask_visiting"].conversations, m.by_topic["ask_visiting"].questions) == (31, 46)
    topic = measure(session_for, topic="ask_visiting").total
    assert (topic.conversations, topic.questions, topic.referrals) == (31, 46, 3)
    assert measure(session_for, week_to="2026-08-03").total.conversations == 40
    assert measure(session_for, channel="webchat").total.conversations == 1  # no channel was kept for them


def test_referrals_are_call_backs_from_cases(session_for):
    with session_for() as s, s.begin():
        add_case(s, kind="callback", created=datetime(2026, 11, 24, 9))
        add_case(s, kind="callback", created=datetime(2026, 11, 29, 23), channel="twilio", topic=None)
        add_case(s, kind="live", created=datetime(2026, 11, 24, 9))
    m = measure(session_for)
    assert m.total.referrals == 2 and m.total.conversations == 0
    assert m.by_week["2026-11-23"].referrals == 2  # Sunday 29 November is in the week of Monday 23rd
    assert m.by_channel["twilio"].referrals == 1 and m.by_council["STT"].referrals == 2
    assert m.by_topic["ask_visiting"].referrals == 1


def test_times_to_claim_and_call_back_by_priority(session_for):
    made = datetime(2026, 12, 1, 9, 0)
    with session_for() as s, s.begin():
        for minutes in (2, 4, 6, 8, 10, 30):  # urgent: target 15 minutes
            add_case(s, kind="live", priority="urgent", created=made, first=made + timedelta(minutes=minutes), status="closed")
        add_case(s, kind="live", priority="urgent", created=NOW - timedelta(minutes=40))  # waiting, past its target
        add_case(s, kind="live", priority="urgent", created=NOW - timedelta(minutes=5))  # waiting, still within it
        add_case(s, kind="live", priority="urgent", created=made, status="cancelled", closed=made + timedelta(minutes=3))
        add_case(s, kind="callback", priority="high", created=made, first=made + timedelta(minutes=50),
                 called_back=made + timedelta(minutes=90), status="called_back")
        add_case(s, kind="callback", priority="high", created=made, first=made + timedelta(minutes=70),
                 called_back=made + timedelta(minutes=130), status="closed")
    m = measure(session_for)
    urgent, high, normal = m.to_claim
    assert (urgent.priority, urgent.cases, urgent.median, urgent.p90, urgent.target) == ("urgent", 6, 7, 30, 15)
    assert (urgent.judged, urgent.within) == (7, 5)  # five of six answered in time, and one still waiting past it
    assert (high.cases, high.median, high.judged, high.within) == (2, 60, 2, 1)
    assert (normal.cases, normal.median, normal.p90) == (0, None, None)
    back = {t.priority: t for t in m.to_call_back}
    assert (back["high"].cases, back["high"].median, back["high"].p90, back["high"].target) == (2, 110, 130, None)
    assert back["urgent"].cases == 0


def test_outcomes_are_counted_by_kind(session_for):
    with session_for() as s, s.begin():
        add_case(s, kind="live", outcome="helped", status="closed")
        add_case(s, kind="live", outcome="helped", status="closed")
        add_case(s, kind="callback", outcome="signposted", status="closed")
        add_case(s, kind="live", status="closed")
    assert measure(session_for).outcomes == {("live", "helped"): 2, ("callback", "signposted"): 1}


def test_percentile_is_nearest_rank():
    assert measures.percentile([], 0.9) is None
    assert measures.percentile([5], 0.9) == 5
    assert measures.percentile(list(range(1, 11)), 0.9) == 9
    assert measures.percentile(list(range(1, 12)), 0.9) == 10
    assert measures.percentile([3, 1, 2], 0.5) == 2


def test_targets_come_from_the_settings():
    import dataclasses

    from bot.settings import Settings

    settings = dataclasses.replace(Settings.from_env(), target_minutes_urgent=10, target_minutes_high=45, target_minutes_normal=600)
    assert measures.targets(settings) == {"urgent": 10, "high": 45, "normal": 600}
