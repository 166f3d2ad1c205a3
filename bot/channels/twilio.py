"""SMS through Twilio: a Rasa input channel that, unlike Rasa's own, checks every webhook's
signature.

    POST /webhooks/twilio/webhook   (Twilio's form post for an incoming SMS) -> empty TwiML

- Every request must carry a valid `X-Twilio-Signature` for the public URL Twilio called
  (TWILIO_WEBHOOK_URL: behind a proxy the URL we see is not the one Twilio signed); else 403
  and nothing is read.
- Each MessageSid is taken once (`channel_delivery`, unique): a retry, or two copies at once,
  never gets a second answer. The MessageSid is the UserMessage's message_id, so actions'
  idempotency keys (sender:message_id) stay the same for a retry.
- Replies go out through Twilio's REST API (also a worker's replies: Rasa's HTTP API with
  `output_channel=latest` calls `get_output_channel()`), with text-message manners
  (bot/channels/sms.py): numbered options, plain GSM-7 typography, at most three messages.
- STOP (and Twilio's other opt-out words) stops all messages to the number until START;
  HELP gets a short help text. Typed text is never a Rasa command (no /restart by SMS).
- The sender id is the E.164 number (`From`). No message text or number is ever logged.
- Off (503 to everything, one log line) unless TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN,
  TWILIO_NUMBER and TWILIO_WEBHOOK_URL are set (or given in credentials.yml).
"""
from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Awaitable, Callable, Text
from urllib.parse import parse_qs

import yaml
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot import db
from bot.channels import limits, models, sms
from bot.channels.webchat import clean_message
from bot.settings import ROOT, Settings

logger = logging.getLogger(__name__)
# The twilio library logs each request's URL and headers at INFO: keep it to warnings.
_http_logger = logging.getLogger(__name__ + ".http")
_http_logger.setLevel(logging.WARNING)

CHANNEL = "twilio"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_SMS_CHARS = 1600  # Twilio's own limit for one (concatenated) message
OPTED_OUT = 21610  # Twilio's error: the number replied STOP
DEFAULT_HELPLINE_PHONE = "0808 808 2003"


@lru_cache(maxsize=1)
def helpline_phone() -> str:
    """The helpline number as domain.yml's `helpline_phone` slot gives it."""
    try:
        domain = yaml.safe_load((ROOT / "domain.yml").read_text())
        return str(domain["slots"]["helpline_phone"]["initial_value"])
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        return DEFAULT_HELPLINE_PHONE


@dataclass(frozen=True)
class TwilioConfig:
    """What the SMS channel needs; `enabled` only when all of the required parts are set."""

    account_sid: str | None
    auth_token: str | None
    number: str | None
    webhook_url: str | None
    api_url: str | None
    database_url: str

    @property
    def enabled(self) -> bool:
        return bool(self.account_sid and self.auth_token and self.number and self.webhook_url)

    @classmethod
    def from_settings(cls, settings: Settings, overrides: dict[str, Any] | None = None) -> "TwilioConfig":
        """From the environment (bot.settings), with any credentials.yml values on top."""
        config = cls(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            number=settings.twilio_number,
            webhook_url=settings.twilio_webhook_url,
            api_url=settings.twilio_api_url,
            database_url=settings.database_url,
        )
        given = {k: str(v) for k, v in (overrides or {}).items() if v not in (None, "") and k in cls.__dataclass_fields__}
        return replace(config, **given)


class TwilioOutput(OutputChannel):
    """Sends SMS through Twilio's REST API, in text-message manners."""

    def __init__(self, config: TwilioConfig) -> None:
        self.config = config
        self._client: Client | None = None

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    def client(self) -> Client:
        """The twilio REST client (async HTTP; a fresh connection per request, so it is
        safe on any event loop)."""
        if self._client is None:
            http = AsyncTwilioHttpClient(pool_connections=False, logger=_http_logger, timeout=20)
            self._client = Client(self.config.account_sid, self.config.auth_token, http_client=http)
            if self.config.api_url:
                self._client.api.base_url = self.config.api_url
        return self._client

    def _prepare(self, recipient_id: str, payloads: list[str] | None) -> bool:
        """False if the number opted out; else remembers the options being sent."""
        with db.session_factory(self.config.database_url)() as session, session.begin():
            if models.is_opted_out(recipient_id, session=session):
                return False
            if payloads:
                models.save_menu(recipient_id, payloads, session=session)
            return True

    def _record_opt_out(self, recipient_id: str) -> None:
        with db.session_factory(self.config.database_url)() as session, session.begin():
            models.opt_out(recipient_id, session=session)

    async def send_sms(self, recipient_id: Text, text: Text, payloads: list[str] | None = None) -> int:
        """Send `text` to `recipient_id` in at most three messages; returns how many went."""
        if not self.config.enabled:
            logger.warning("twilio: SMS channel is not configured; a reply was dropped")
            return 0
        if not await asyncio.to_thread(self._prepare, recipient_id, payloads):
            logger.info("twilio: not sending to a number that opted out")
            return 0
        sent = 0
        for part in sms.split(sms.normalise(text)):
            try:
                await self.client().messages.create_async(to=recipient_id, from_=self.config.number, body=part)
            except TwilioRestException as error:
                logger.warning("twilio: a message was not sent (Twilio error %s, HTTP %s)", error.code, error.status)
                if error.code == OPTED_OUT:
                    await asyncio.to_thread(self._record_opt_out, recipient_id)
                return sent
            sent += 1
        return sent

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.send_sms(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_sms(recipient_id, sms.with_options(text, buttons), sms.payloads(buttons))

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_custom_json(self, recipient_id: Text, json_message: dict[str, Any], **kwargs: Any) -> None:
        logger.debug("twilio: custom JSON is not sent by SMS")


class TwilioInput(InputChannel):
    """Rasa input channel `twilio` (credentials.yml: bot.channels.twilio.TwilioInput)."""

    def __init__(self, config: TwilioConfig) -> None:
        self.config = config
        self.limits = limits.Limits.from_env()
        if not config.enabled:
            logger.info(
                "twilio: SMS channel off (set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_NUMBER and "
                "TWILIO_WEBHOOK_URL to turn it on); its webhook answers 503"
            )

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> "TwilioInput":
        return cls(TwilioConfig.from_settings(Settings.from_env(), credentials))

    def get_output_channel(self) -> OutputChannel:
        return TwilioOutput(self.config)

    # --- the database side of an incoming message (run in a thread) ---------------------
    def _claim(self, message_sid: str) -> bool:
        with db.session_factory(self.config.database_url)() as session, session.begin():
            return models.claim_delivery(CHANNEL, message_sid, session=session)

    def _inbound(self, sender: str, body: str, opt_out_type: str) -> tuple[str, str | None]:
        """What to do with a message: ("stopped"|"started"|"ignored"|"help", None) or ("message", text)."""
        word = sms.keyword(body)
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

        @twilio.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.config.enabled:
                return response.text("SMS channel not configured", status=503)
            signature = request.headers.get("X-Twilio-Signature", "")
            url = self.config.webhook_url + (f"?{request.query_string}" if request.query_string else "")
            # Twilio signs every parameter, blank ones too (FromCity=...): Sanic's request.form drops those.
            form = RequestParameters(parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True))
            if not signature or not RequestValidator(self.config.auth_token).validate(url, form, signature):
                logger.warning("twilio: refused a webhook without a valid signature")
                return response.text("Forbidden", status=403)

            message_sid = form.get("MessageSid") or form.get("SmsSid") or ""
            sender = form.get("From") or ""
            if not message_sid or not E164.match(sender):
                logger.warning("twilio: ignored a webhook without a MessageSid or an E.164 sender")
                return twiml()
            if not await asyncio.to_thread(self._claim, message_sid[:64]):
                logger.info("twilio: message %s already taken; not answered again", message_sid)
                return twiml()

            output = TwilioOutput(self.config)
            what, text = await asyncio.to_thread(
                self._inbound, sender, form.get("Body") or "", (form.get("OptOutType") or "").upper()
            )
            if what == "help":
                await output.send_sms(sender, sms.help_text(helpline_phone()))
            elif what == "message" and (refusal := await self.limits.refusal(CHANNEL, sender, text)):
                # (measured after the 1600-character cap: Twilio never delivers more in one message)
                await output.send_sms(sender, refusal)
            elif what == "message":
                try:
                    await limits.answer(
                        on_new_message,
                        UserMessage(text, output, sender, input_channel=CHANNEL, message_id=message_sid, metadata=None),
                        request.app,
                    )
                except Exception as error:  # noqa: BLE001 - Twilio must get its answer; no text in the log
                    logger.error("twilio: message %s could not be handled (%s)", message_sid, type(error).__name__)
            elif what in ("stopped", "started"):
                # Twilio itself confirms STOP and START (and blocks or unblocks the number).
                logger.info("twilio: a number %s", "opted out" if what == "stopped" else "opted back in")
            return twiml()

        return twilio
