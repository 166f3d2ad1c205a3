"""What a short follow-up means, given the conversation so far (issue 14, item 2).

bot.nlp.follow_up marks a message shaped like a follow-up with the aspect it asks about (its
facet: the children, money, travel, visiting times, how long, someone nearby, the asker).
Here the facet meets the conversation: the last topic asked about, and what we know (stage,
prison, area, the kind of help last searched for). The result is the intent the person meant
("what about my daughter?" after the ID answer is a question about children on visits), which
action_follow_up writes back over the message, so that intent's own rules answer it, and the
next follow-up leans on it in turn.

Events are Rasa's JSON events (rasa_sdk's tracker.events), newest first where noted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from bot.nlp.follow_up import CHILDREN, DURATION, ME, MONEY, NEARBY, TIMES, TRAVEL

ENTITY = "follow_up"  # set by the NLU (bot.nlp.follow_up): the message is a follow-up of this facet
FACET_ENTITY = "facet"  # kept on the message once it has been read in context
REREAD = "follow_up"  # metadata "reread" on the rewritten message: transcripts show the message once

# How far back a follow-up can reach: the topic of one of the last few messages.
LOOK_BACK = 4

VISITING = frozenset({
    "ask_visit_booking", "ask_visit_rules", "ask_visit_first", "ask_visitors_centre", "ask_closed_visits",
    "ask_visit_costs", "ask_prison_info", "ask_visit_childcare", "ask_visit_children",
})
JUSTICE = frozenset({
    "ask_arrest", "ask_court", "ask_sentence", "ask_remand_length", "ask_legal_advice", "ask_pre_sentence_report",
    "ask_what_next", "ask_find_prison",
})
RELEASE = frozenset({"ask_release_prepare", "ask_release_adjusting", "ask_release_housing", "ask_licence", "ask_hdc", "ask_tag_problem"})
# Asking for a person, for more results or what the assistant does are not topics to lean on.
NOT_TOPICS = frozenset({"ask_human", "ask_live_chat", "ask_more_results", "ask_capabilities", "ask_statistics"})

# The kind of help (bot.directory.taxonomy.NEEDS) a topic is about, for "is there anyone nearby?".
TOPIC_NEEDS: dict[str, str] = {
    **{topic: "visiting" for topic in VISITING},
    **{topic: "court_support" for topic in ("ask_arrest", "ask_court", "ask_sentence", "ask_remand_length", "ask_pre_sentence_report")},
    **{topic: "release_resettlement" for topic in RELEASE - {"ask_release_housing"}},
    "ask_legal_advice": "legal_advice",
    "ask_keep_in_touch": "keeping_in_touch",
    "ask_send_money": "money_benefits",
    "ask_money": "money_benefits",
    "ask_tell_children": "telling_children",
    "ask_child_feelings": "children_wellbeing",
    "ask_bullying": "children_wellbeing",
    "ask_school": "school",
    "ask_kinship_care": "kinship_care",
    "ask_housing": "housing",
    "ask_release_housing": "housing",
    "ask_prisoner_tenancy": "housing",
    "ask_own_wellbeing": "emotional_support",
    "ask_bad_news": "emotional_support",
    "ask_death_in_custody": "emotional_support",
}

# For each facet: (topics, what the follow-up then asks), first match wins; then the default.
_BY_TOPIC: dict[str, list[tuple[frozenset[str], str]]] = {
    CHILDREN: [
        (VISITING, "ask_visit_children"),
        (frozenset({"ask_tell_children"} | JUSTICE), "ask_tell_children"),
        (frozenset({"ask_school", "ask_info_sharing"}), "ask_school"),
        (frozenset({"ask_bullying"}), "ask_bullying"),
        (frozenset({"ask_kinship_care", "ask_money"}), "ask_kinship_care"),
        (frozenset({"ask_release_prepare", "ask_licence", "ask_hdc"}), "ask_release_prepare"),
        (frozenset({"ask_release_adjusting"}), "ask_release_adjusting"),
        (frozenset({"ask_keep_in_touch"}), "ask_keep_in_touch"),
    ],
    MONEY: [
        (VISITING, "ask_visit_costs"),
        (frozenset({"ask_keep_in_touch", "ask_send_property"}), "ask_send_money"),
        (frozenset({"ask_legal_advice", "ask_court"}), "ask_legal_advice"),
    ],
    DURATION: [
        (frozenset({"ask_remand_length"}), "ask_remand_length"),
        (frozenset({"ask_licence"}), "ask_licence"),
        (frozenset({"ask_hdc", "ask_tag_problem"}), "ask_hdc"),
        (frozenset({"ask_parole"}), "ask_parole"),
    ],
    ME: [
        (frozenset({"ask_child_feelings", "ask_tell_children", "ask_bullying", "ask_school"}), "ask_own_wellbeing"),
    ],
}
DEFAULTS: dict[str, str] = {
    CHILDREN: "ask_child_feelings",
    MONEY: "ask_money",
    TRAVEL: "ask_prison_info",  # the prison we know: address, its page (times, getting there), help with fares
    TIMES: "ask_visit_booking",  # with a prison known, its rule adds that prison's page
    DURATION: "ask_sentence",
    NEARBY: "ask_find_service",
    ME: "ask_own_wellbeing",
}


@dataclass(frozen=True)
class Reading:
    """What a follow-up asks: an intent, and entities to add to the message (facet, need)."""

    intent: str
    entities: dict[str, str] = field(default_factory=dict)


def is_topic(intent: str | None) -> bool:
    return bool(intent) and intent.startswith("ask_") and intent not in NOT_TOPICS


def last_topic(newest_first: Iterable[Mapping[str, Any]]) -> str | None:
    """The topic of the latest earlier message that had one, within LOOK_BACK messages.

    The first user event met is the follow-up itself and is skipped; a new session ends the search.
    """
    seen = 0
    for event in newest_first:
        kind = event.get("event")
        if kind in ("session_started", "restart"):
            return None
        if kind != "user":
            continue
        seen += 1
        if seen == 1:
            continue
        if seen > LOOK_BACK + 1:
            return None
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if is_topic(intent):
            return intent
    return None


def resolve(facet: str, topic: str | None, slots: Mapping[str, Any], guess: str | None = None, own_need: str | None = None) -> Reading:
    """The intent a follow-up of this facet means after this topic, knowing these slots.

    `guess` is the classifier's reading of the message alone; `own_need` a kind of help the
    message names itself ("support groups near me").
    """
    entities = {FACET_ENTITY: facet}
    if facet == NEARBY:
        need = own_need or (TOPIC_NEEDS.get(topic) if topic else None) or slots.get("need")
        if need:
            entities["need"] = need
        return Reading("ask_find_service", entities)
    if facet == DURATION and topic is None and slots.get("stage") == "remand":
        return Reading("ask_remand_length", entities)
    for topics, intent in _BY_TOPIC.get(facet, []):
        if topic in topics:
            return Reading(intent, entities)
    if facet == CHILDREN and topic is None and is_topic(guess) and guess in _child_topics():
        return Reading(guess, entities)  # "what about my son at school?" with nothing before it
    return Reading(DEFAULTS[facet], entities)


def _child_topics() -> frozenset[str]:
    return frozenset(intent for _, intent in _BY_TOPIC[CHILDREN]) | {"ask_child_feelings"}


def is_reread(event: Mapping[str, Any]) -> bool:
    """A user event that says the message before it again, read in context (transcripts and
    counts take the message once)."""
    return (event.get("metadata") or {}).get("reread") == REREAD


def facet_of(parse_data: Mapping[str, Any]) -> str | None:
    for entity in parse_data.get("entities") or []:
        if entity.get("entity") == ENTITY and entity.get("value"):
            return str(entity["value"])
    return None


def reread_events(events: list[Mapping[str, Any]], reading: Reading) -> list[dict[str, Any]]:
    """Events that replace the latest user message with the same words read as `reading`.

    Rasa's own way of re-reading a message (as its two-stage fallback does): revert the
    message, listen again, then say it again with the new intent. The slots the message set are set again
    after it, since Rasa extracts slots only from a message it receives.
    """
    at = max(i for i, event in enumerate(events) if event.get("event") == "user")
    original = events[at]
    parse = dict(original.get("parse_data") or {})
    entities = [e for e in parse.get("entities") or [] if e.get("entity") not in (ENTITY, *reading.entities)]
    end = len(original.get("text") or "")
    entities += [{"entity": name, "value": value, "start": 0, "end": end, "extractor": "action_follow_up"}
                 for name, value in reading.entities.items()]
    top = {"name": reading.intent, "confidence": 1.0}
    ranking = [top] + [r for r in parse.get("intent_ranking") or [] if r.get("name") != reading.intent]
    parse.update(intent=top, entities=entities, intent_ranking=ranking)
    said_again = {
        # Rasa stamps it now: the message is the same (text, message_id), its reading is new.
        **{key: value for key, value in original.items() if key not in ("parse_data", "timestamp")},
        "parse_data": parse,
        "metadata": {**(original.get("metadata") or {}), "reread": REREAD},
    }
    slots_set = [dict(event) for event in events[at + 1:] if event.get("event") == "slot"]
    # A rewind takes back the message and the action_listen before it (Rasa's DialogueStateTracker),
    # so the listen is said again too: the rules then see the message as just received.
    return [{"event": "rewind"}, {"event": "action", "name": "action_listen"}, said_again, *slots_set]
