"""SMS and WhatsApp through Twilio: a Rasa input channel that, unlike Rasa's own, checks every
webhook's signature.

    POST /webhooks/twilio/webhook   (Twilio's form post for an incoming message) -> empty TwiML

A `From` of `whatsapp:+44…` is a WhatsApp message, answered by bot/channels/whatsapp.py (its
own conversation id `wa:+44…`, WhatsApp's 24-hour window); what follows is the same for both.

- Every request must carry a valid `X-Twilio-Signature` for the public URL Twilio called
  (TWILIO_WEBHOOK_URL: behind a proxy the URL we see is not the one Twilio signed); else 403
  and nothing is read.
- The webhook acknowledges at once (empty TwiML, 200) and the turn runs in the background
  (a task kept on the app, so it is not garbage-collected), its replies sent through
  Twilio's REST API: Twilio's 15-second webhook timeout never cuts a slow turn, and the
  answer never depends on the webhook's response. A turn that fails (database down, an
  exception), takes over SMS_TURN_TIMEOUT seconds (default 60) or is cancelled (server
  shutting down) ends in the kind apology (turn.cannot_answer) unless an answer already
  went: never in silence.
- Each MessageSid is taken once (`channel_delivery`, unique): a retry, or two copies at once,
  never gets a second answer. The MessageSid is the UserMessage's message_id, so actions'
  idempotency keys (sender:message_id) stay the same for a retry. Because the webhook
  acknowledges at once, Twilio retries only when our 200 did not reach it; and a turn that
  could get no SMS out at all (neither answer nor apology: Twilio's API down) gives its
  MessageSid back (the row is deleted), so a retry of a message never answered is answered.
  If the MessageSid cannot be recorded (database down) the message is still answered (or
  apologised for): a possible second answer to a retry is better than silence.
- Replies go out through Twilio's REST API (bot/channels/twilio_api.py; also a worker's
  replies: Rasa's HTTP API with `output_channel=latest` calls `get_output_channel()`), with
  text-message manners (bot/channels/sms.py): numbered options, plain GSM-7 typography, at
  most three messages.
- STOP (and Twilio's other opt-out words) stops all messages to the number until START;
  HELP gets a short help text (domain.yml's utter_sms_help). Typed text is never a Rasa
  command (no /restart by SMS).
- The sender id is `sms:` + the E.164 number (`From`; bot/senders.py), so it cannot be used
  on another channel; the prefix is stripped for Twilio's `to`. SMS menus and opt-outs are
  keyed by that id. No message text or number is ever logged.
- Off (503 to everything, one log line) unless TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN,
  TWILIO_NUMBER and TWILIO_WEBHOOK_URL are set (or given in credentials.yml), or WhatsApp is
  on (TWILIO_WHATSAPP_NUMBER instead of TWILIO_NUMBER). A message for a channel that is off
  gets 200 and no answer.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any, Awaitable, Callable, Text
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot import db, senders, texts
from bot.channels import limits, models, sms, turn, whatsapp, whatsapp_window
from bot.channels.twilio_api import CHANNEL, WHATSAPP_PREFIX, TwilioConfig, TwilioOutput  # noqa: F401 - also ours
from bot.channels.webchat import clean_message
from bot.settings import Settings

logger = logging.getLogger(__name__)

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_SMS_CHARS = 1600  # Twilio's own limit for one (concatenated) message
SHUTDOWN_GRACE = 10.0  # seconds turns under way get to finish when the server stops


class TwilioInput(InputChannel):
    """Rasa input channel `twilio` (credentials.yml: bot.channels.twilio.TwilioInput)."""

    def __init__(self, config: TwilioConfig, turn_timeout: float | None = None) -> None:
        self.config = config
        settings = Settings.from_env()
        self.limits = limits.Limits.from_settings(settings)  # per sender and global (the address is Twilio's)
        texts.require(turn.CANNOT_ANSWER, *sms.TEXTS, *(whatsapp.TEXTS if config.whatsapp_enabled else ()))
        self.turn_timeout = float(turn_timeout if turn_timeout is not None else settings.sms_turn_timeout)
        self.tasks: set[asyncio.Task] = set()  # turns in the background (also on app.ctx)
        if not config.enabled:
            logger.info(
                "twilio: SMS channel off (set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_NUMBER and "
                "TWILIO_WEBHOOK_URL to turn it on); %s",
                "WhatsApp is on" if config.whatsapp_enabled else "its webhook answers 503",
            )

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> "TwilioInput":
        return cls(TwilioConfig.from_settings(Settings.from_env(), credentials))

    def get_output_channel(self) -> OutputChannel:
        return TwilioOutput(self.config)

    def output_for(self, sender: str) -> TwilioOutput:
        """The output answering a message: by WhatsApp (the window open: they just wrote) or SMS."""
        if whatsapp_window.is_whatsapp(sender):
            return whatsapp.WhatsAppOutput(self.config, inbound_at=time.time())
        return TwilioOutput(self.config)

    # --- the database side of an incoming message (run in a thread) ---------------------
    def _claim(self, message_sid: str) -> bool:
        with db.session_factory(self.config.database_url)() as session, session.begin():
            return models.claim_delivery(CHANNEL, message_sid, session=session)

    def _release(self, message_sid: str) -> None:
        with db.session_factory(self.config.database_url)() as session, session.begin():
            models.release_delivery(CHANNEL, message_sid, session=session)

    async def claim(self, message_sid: str) -> bool:
        """Take the MessageSid; False if already taken. With the database down: True (answer,
        or apologise, rather than risk silence)."""
        try:
            return await asyncio.to_thread(self._claim, message_sid)
        except Exception as error:  # noqa: BLE001
            logger.error("twilio: a MessageSid could not be recorded (%s); answering anyway", type(error).__name__)
            return True

    # --- one turn, in the background -----------------------------------------------------
    async def _handle(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]], app: Any, output: TwilioOutput,
        sender: str, form: dict[str, str], message_sid: str,
    ) -> bool:
        """Answer the message; True when the turn is complete (an SMS went out, or silence is
        right: STOP, START, an opted-out number, a conversation a worker has)."""
        if isinstance(output, whatsapp.WhatsAppOutput):
            return await whatsapp.handle(on_new_message, app, output, sender, form, message_sid, self.limits, self._read)
        what, text = await asyncio.to_thread(self._inbound, sender, form.get("Body") or "", form.get("OptOutType") or "")
        if what == "help":
            return await output.send_sms(sender, sms.help_text(CHANNEL)) > 0
        if what == "message" and (refusal := await self.limits.refusal(CHANNEL, sender, text)):
            # (measured after the 1600-character cap: Twilio never delivers more in one message)
            return await output.send_sms(sender, refusal) > 0
        if what == "message":
            answered = await turn.answer(
                on_new_message,
                UserMessage(text, output, sender, input_channel=CHANNEL, message_id=message_sid, metadata=None),
                app,
                self.config.database_url,
            )
            # Complete if an SMS went out, or Rasa rightly said nothing (a worker has the
            # conversation); not if every reply, the apology included, failed to send.
            return output.sent > 0 or (answered and output.attempted == 0)
        if what in ("stopped", "started"):
            # Twilio itself confirms STOP and START (and blocks or unblocks the number).
            logger.info("twilio: a number %s", "opted out" if what == "stopped" else "opted back in")
        return True

    async def turn(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]], app: Any,
        sender: str, form: dict[str, str], message_sid: str,
    ) -> None:
        """Answer one SMS or WhatsApp message: the answer, or the kind apology when the turn
        failed, timed out or was cancelled and nothing had gone out yet. If not one message
        could be sent, the MessageSid is given back so that Twilio's retry is answered."""
        output = self.output_for(sender)
        failed: str | None = None
        cancelled = complete = False
        try:
            complete = await asyncio.wait_for(self._handle(on_new_message, app, output, sender, form, message_sid), self.turn_timeout)
        except asyncio.TimeoutError:
            failed = "took too long"
        except asyncio.CancelledError:
            failed, cancelled = "was cancelled", True
        except Exception as error:  # noqa: BLE001 - no text in the log
            failed = f"failed ({type(error).__name__})"
        if failed:
            logger.error("twilio: message %s %s", message_sid, failed)
            if not output.sent:
                await output.send_sms(sender, turn.cannot_answer(output.name()))
        if not output.sent and (failed or not complete):
            logger.error("twilio: message %s got no reply out; its MessageSid is given back for a retry", message_sid)
            try:
                await asyncio.to_thread(self._release, message_sid)
            except Exception as error:  # noqa: BLE001
                logger.error("twilio: the MessageSid could not be given back (%s)", type(error).__name__)
        if cancelled:
            raise asyncio.CancelledError

    def _start(self, app: Any, coroutine: Awaitable[None]) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coroutine)
        ctx = getattr(app, "ctx", None)
        pending = getattr(ctx, "sms_turns", None) if ctx is not None else None
        if pending is None and ctx is not None:
            pending = ctx.sms_turns = set()
        for tasks in (self.tasks, pending):
            if tasks is not None:
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        return task

    def _read(self, sender: str, body: str) -> tuple[str, str | None]:
        """A WhatsApp message: ("message", text) or ("ignored", None); no keywords."""
        return self._inbound(sender, body, "", keywords=False)

    def _inbound(self, sender: str, body: str, opt_out_type: str, keywords: bool = True) -> tuple[str, str | None]:
        """What to do with a message: ("stopped"|"started"|"ignored"|"help", None) or ("message", text)."""
        word = sms.keyword(body) if keywords else None
        with db.session_factory(self.config.database_url)() as session, session.begin():
            stopped = models.is_opted_out(sender, session=session)
            if word in sms.OPT_OUT_WORDS or opt_out_type == "STOP":
                models.opt_out(sender, session=session)
                return "stopped", None
            if word in sms.OPT_IN_WORDS or opt_out_type == "START" or (stopped and word in sms.OPT_IN_WHEN_STOPPED):
                models.opt_in(sender, session=session)
                return "started", None
            if stopped:
                return "ignored", None
            if word in sms.HELP_WORDS or opt_out_type == "HELP":
                return "help", None
            payload = sms.pick(body, models.take_menu(sender, session=session))
        if payload is not None:
            return "message", clean_message(payload)
        # Typed text is read as words: by SMS nobody can send Rasa an intent or a command.
        text = clean_message(body[:MAX_SMS_CHARS].lstrip().lstrip("/"))
        return ("message", text) if text else ("ignored", None)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        twilio = Blueprint("twilio_webhook", __name__)
        twiml = lambda: response.text(EMPTY_TWIML, content_type="text/xml")  # noqa: E731

        @twilio.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.config.enabled else "off"})

        @twilio.listener("before_server_stop")
        async def finish_turns(app: Any, loop: Any) -> None:
            """Let turns under way finish (a while), then cancel the rest: each then sends
            the apology, or gives its MessageSid back."""
            if self.tasks:
                _, late = await asyncio.wait(set(self.tasks), timeout=SHUTDOWN_GRACE)
                for task in late:
                    task.cancel()
                if late:
                    await asyncio.wait(late, timeout=SHUTDOWN_GRACE)

        @twilio.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not (self.config.enabled or self.config.whatsapp_enabled):
                return response.text("SMS channel not configured", status=503)
            signature = request.headers.get("X-Twilio-Signature", "")
            url = self.config.webhook_url + (f"?{request.query_string}" if request.query_string else "")
            # Twilio signs every parameter, blank ones too (FromCity=...): Sanic's request.form drops those.
            form = RequestParameters(parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True))
            if not signature or not RequestValidator(self.config.auth_token).validate(url, form, signature):
                logger.warning("twilio: refused a webhook without a valid signature")
                return response.text("Forbidden", status=403)

            message_sid = (form.get("MessageSid") or form.get("SmsSid") or "")[:64]
            sender = form.get("From") or ""
            by_whatsapp = sender.startswith(WHATSAPP_PREFIX)
            number = sender.removeprefix(WHATSAPP_PREFIX)
            if not message_sid or not E164.match(number):
                logger.warning("twilio: ignored a webhook without a MessageSid or an E.164 sender")
                return twiml()
            if not (self.config.whatsapp_enabled if by_whatsapp else self.config.enabled):
                # Twilio's 200 all the same: a retry would not change our settings.
                logger.info("twilio: a %s message was not answered: that channel is off", "WhatsApp" if by_whatsapp else "SMS")
                return twiml()
            if not await self.claim(message_sid):
                logger.info("twilio: message %s already taken; not answered again", message_sid)
                return twiml()
            fields = {key: form.get(key) or "" for key in ("Body", "NumMedia", "Latitude")}
            fields["OptOutType"] = (form.get("OptOutType") or "").upper()
            conversation = whatsapp_window.sender_id(number) if by_whatsapp else senders.sms(number)
            self._start(request.app, self.turn(on_new_message, request.app, conversation, fields, message_sid))
            return twiml()  # at once: the answer goes out through the REST API

        return twilio
