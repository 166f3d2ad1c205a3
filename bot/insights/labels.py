"""Names people read for the codes the statistics group by: a council's name and region from its
code, a topic from its intent, a channel from Rasa's input channel name. Shared by the measures
(bot.insights.measures) and the console's statistics page, so the core never needs the console."""
from __future__ import annotations

from bot.geo import gazetteer

NOT_GIVEN = "Not given"
NO_TOPIC = "no topic yet"  # a message not understood before any topic was asked about

# Rasa's input channel names (bot/channels) as staff call them.
CHANNELS = {"twilio": "SMS", "whatsapp": "WhatsApp", "telegram": "Telegram", "webchat": "Web chat", "rest": "REST API"}


def council_name(code: str) -> str:
    """A council's name from its code ("Not given" for none)."""
    if not code:
        return NOT_GIVEN
    try:
        return gazetteer().council(code).name
    except KeyError:
        return code


def region_of(code: str) -> str:
    """The English region, or the nation outside England, of a council code."""
    if not code:
        return NOT_GIVEN
    try:
        council = gazetteer().council(code)
    except KeyError:
        return NOT_GIVEN
    return council.region if council.nation == "England" and council.region else council.nation


def topic_label(topic: str) -> str:
    """An intent as a topic people read ("ask_visit_costs" -> "visit costs")."""
    if not topic:
        return NOT_GIVEN
    return topic.removeprefix("ask_").replace("_", " ")


def channel_label(channel: str) -> str:
    """A channel as staff call it ("twilio" -> "SMS"; "Not given" for none)."""
    if not channel:
        return NOT_GIVEN
    return CHANNELS.get(channel, channel)
