"""WhatsApp through Twilio. The one signed Twilio webhook (bot/channels/twilio.py) takes messages
whose `From` is `whatsapp:+44…`; this module answers them, and sends every WhatsApp message,
a helpline worker's replies included.

- Conversation id `wa:+44…`, Rasa input channel `whatsapp` (bot/channels/whatsapp_window.py):
  never the SMS conversation of the same phone. No message text or number is logged.
- Replies go from TWILIO_WHATSAPP_NUMBER to `whatsapp:+44…` through Twilio's REST API, with
  buttons as numbered options ("Reply 1 for …"; a reply of "1" is the first) as by SMS. A
  message goes whole up to Twilio's 1600 characters (WhatsApp bills conversations, not
  segments, and one message reads better than pieces), else split between sentences. Text is
  sent as written: WhatsApp shows every character, so no GSM-7 plainness. STOP, HELP and the
  like are ordinary words here: Twilio acts on them only for SMS (a WhatsApp user blocks us).
- A photo, voice note, video, file, sticker or location with no words gets a kind reply
  (`utter_whatsapp_media_only`) and Rasa is not called. With words, the words are read and a
  short note (`utter_whatsapp_media_with_text`) goes before the answer, so that the answer's
  options come last.
- The 24-hour window: within it, our words go as written. After it, the approved template
  (TWILIO_WHATSAPP_TEMPLATE_SID, sent with `content_sid` and `content_variables`, {{1}} the
  helpline's number) goes once instead, asking the person to reply; without a template nothing
  goes and a warning is logged. Either way the message stays in the conversation and is
  delivered as soon as they write again (`deliver_held`: their message opens the window). The
  console refuses a worker's reply outside the window when there is no template, saying why.
- Rasa's HTTP API (a worker's reply, the live-chat sweep) sends on the conversation's latest
  input channel, `whatsapp`: `WhatsAppInput` (credentials.yml) gives it this output. It has no
  webhook of its own, only GET /webhooks/whatsapp/ (on or off).
- Off unless TWILIO_WHATSAPP_NUMBER is set with the SMS settings' SID, token and webhook URL;
  a WhatsApp message to a Twilio number then gets no answer (the webhook says 200, logs one line).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Awaitable, Callable, Mapping, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import texts
from bot.channels import limits, sms, turn, whatsapp_window
from bot.channels.twilio_api import TwilioConfig, TwilioOutput
from bot.channels.whatsapp_window import CHANNEL, Window
from bot.settings import Settings

logger = logging.getLogger(__name__)

MAX_CHARS = 1600  # Twilio's limit for one WhatsApp message body
MAX_PARTS = 4  # a worker's 2000 characters at most need two
MAX_HELD = 5  # held messages delivered when the person writes again: the newest five
MEDIA_ONLY = "utter_whatsapp_media_only"
MEDIA_WITH_TEXT = "utter_whatsapp_media_with_text"
TEXTS = (MEDIA_ONLY, MEDIA_WITH_TEXT)


def attachments(form: Mapping[str, str]) -> int:
    """How many things came with a message that are not words (media, or a shared location)."""
    try:
        media = int(form.get("NumMedia") or 0)
    except ValueError:
        media = 0
    return media + (1 if form.get("Latitude") else 0)


class WhatsAppOutput(TwilioOutput):
    """Sends WhatsApp messages through Twilio's REST API, within WhatsApp's 24-hour window.

    `inbound_at`: the person's message being answered (the window is open); else the window is
    read from the tracker store `tracker_store()` gives (Rasa's HTTP API)."""

    def __init__(
        self, config: TwilioConfig, tracker_store: Callable[[], Any] | None = None, inbound_at: float | None = None
    ) -> None:
        super().__init__(config)
        self.tracker_store = tracker_store
        self.inbound_at = inbound_at
        self.held = 0  # messages held back for the window
        self._invited: set[str] = set()  # conversations this output already sent the template

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @property
    def enabled(self) -> bool:
        return self.config.whatsapp_enabled

    @property
    def from_(self) -> str | None:
        return self.config.whatsapp_number

    def address(self, recipient_id: str) -> str:
        return whatsapp_window.address(recipient_id)

    def parts(self, text: str) -> list[str]:
        return sms.split(text, MAX_CHARS, MAX_PARTS)

    async def window(self, recipient_id: str) -> Window | None:
        """Where the conversation stands now; None when that cannot be read."""
        now = time.time()
        if self.inbound_at is not None:
            return Window(self.inbound_at, (), now)
        store = self.tracker_store() if self.tracker_store is not None else None
        if store is None:
            return None
        try:
            tracker = await store.retrieve_full_tracker(recipient_id)
        except Exception as error:  # noqa: BLE001 - no sender in the log
            logger.warning("whatsapp: the conversation could not be read (%s)", type(error).__name__)
            return None
        events = () if tracker is None else (event.as_dict() for event in reversed(tracker.events))
        return whatsapp_window.from_newest(events, now)

    async def send_sms(self, recipient_id: Text, text: Text, payloads: list[str] | None = None) -> int:
        """Send `text` within the window; after it, the template (once) or nothing: returns
        how many messages of ours went (0 when held back)."""
        self.attempted += 1
        if not self.enabled:
            logger.warning("whatsapp: the channel is not configured; a reply was dropped")
            return 0
        window = await self.window(recipient_id)
        if window is None:
            # Better tried than lost: Twilio fails it (63016) if the window has in fact closed.
            logger.warning("whatsapp: the 24-hour window could not be read; sending anyway")
        elif not window.open:
            return await self._hold(recipient_id, window)
        return await self.send_text(recipient_id, text, payloads)

    async def _hold(self, recipient_id: str, window: Window) -> int:
        """Outside the window: the approved template the first time, else nothing. The message
        stays in the conversation, to be delivered when they write again."""
        self.held += 1
        hours = f"{window.hours_since:.0f} h ago" if window.hours_since is not None else "never"
        if window.invited or recipient_id in self._invited:
            logger.info("whatsapp: outside the 24-hour window (last message %s): a message held until they reply", hours)
            return 0
        self._invited.add(recipient_id)
        if not self.config.whatsapp_template_sid:
            logger.warning(
                "whatsapp: outside the 24-hour window (last message %s) and no approved template "
                "(TWILIO_WHATSAPP_TEMPLATE_SID): a message held until they write again", hours,
            )
            return 0
        variables = json.dumps({"1": texts.helpline_phone()})
        if not await self.create(recipient_id, content_sid=self.config.whatsapp_template_sid, content_variables=variables):
            return 0
        logger.info("whatsapp: outside the 24-hour window (last message %s): sent the approved template", hours)
        return 1


async def deliver_held(output: WhatsAppOutput, app: Any, sender: str) -> int:
    """What was held back since the window closed, oldest first (the newest MAX_HELD): called
    when the person writes, which opens the window again. Returns how many."""
    agent = turn.agent_of(app)
    if agent is None:
        return 0
    try:
        tracker = await agent.tracker_store.retrieve_full_tracker(sender)
    except Exception as error:  # noqa: BLE001 - they still get an answer to what they wrote
        logger.warning("whatsapp: held messages could not be read (%s)", type(error).__name__)
        return 0
    if tracker is None:
        return 0
    held = whatsapp_window.from_newest(event.as_dict() for event in reversed(tracker.events)).held[-MAX_HELD:]
    if held:
        logger.info("whatsapp: delivering %d held message(s)", len(held))
    for event in held:
        message: dict[str, Any] = {"text": event.get("text") or ""}
        data = event.get("data") or {}
        for kind in ("buttons", "quick_replies"):
            if data.get(kind):
                message[kind] = data[kind]
        await output.send_response(sender, message)
    return len(held)


async def handle(
    on_new_message: Callable[[UserMessage], Awaitable[Any]], app: Any, output: WhatsAppOutput, sender: str,
    form: Mapping[str, str], message_sid: str, rate: limits.Limits, read: Callable[[str, str], tuple[str, str | None]],
) -> bool:
    """Answer one WhatsApp message (`read` gives ("message", text), a numbered option already
    turned into its payload, or ("ignored", None)). True when the turn is complete: a message
    went out, or silence is right (nothing to read, or a worker has the conversation)."""
    extra = attachments(form)
    what, text = await asyncio.to_thread(read, sender, form.get("Body") or "")
    if refusal := await rate.refusal(CHANNEL, sender, text or ""):
        return await output.send_sms(sender, refusal) > 0
    if what != "message":
        # Rasa is never handed an empty message. Held messages wait for words: only a message
        # Rasa stores moves the window on, so they are delivered once.
        if not extra:
            return True  # nothing to read, nothing to say (as by SMS)
        return await output.send_sms(sender, texts.text(MEDIA_ONLY, CHANNEL)) > 0
    await deliver_held(output, app, sender)
    if extra:
        await output.send_sms(sender, texts.text(MEDIA_WITH_TEXT, CHANNEL))
    message = UserMessage(text, output, sender, input_channel=CHANNEL, message_id=message_sid, metadata=None)
    answered = await turn.answer(on_new_message, message, app, output.config.database_url)
    return output.sent > 0 or (answered and output.attempted == 0)


class WhatsAppInput(InputChannel):
    """Rasa input channel `whatsapp` (credentials.yml: bot.channels.whatsapp.WhatsAppInput): the
    output for Rasa's HTTP API. Messages come in through the Twilio webhook."""

    def __init__(self, config: TwilioConfig) -> None:
        self.config = config
        self.app: Any = None  # the Rasa server's app, for its tracker store
        if config.whatsapp_enabled:
            texts.require(*TEXTS)  # at start-up: no domain, no channel
        else:
            logger.info("whatsapp: off (set TWILIO_WHATSAPP_NUMBER with the Twilio SMS settings to turn it on)")

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> "WhatsAppInput":
        return cls(TwilioConfig.from_settings(Settings.from_env(), credentials))

    def tracker_store(self) -> Any:
        agent = turn.agent_of(self.app)
        return agent.tracker_store if agent is not None else None

    def get_output_channel(self) -> OutputChannel:
        return WhatsAppOutput(self.config, tracker_store=self.tracker_store)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        whatsapp = Blueprint("whatsapp_output", __name__)

        @whatsapp.listener("before_server_start")
        async def remember(app: Any, loop: Any) -> None:
            self.app = app

        @whatsapp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.config.whatsapp_enabled else "off"})

        return whatsapp
