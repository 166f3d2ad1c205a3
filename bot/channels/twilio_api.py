"""Sending through Twilio's REST API: the settings the Twilio channels share, and the SMS output.

`TwilioConfig` is what SMS and WhatsApp need (bot/settings.py, with credentials.yml's keys on
top); `TwilioOutput` sends SMS in text-message manners (bot/channels/sms.py): numbered
options, plain GSM-7 typography, at most three messages, never to a number that sent STOP.
WhatsApp's output (bot/channels/whatsapp.py) is this one with another sender, address and
message size, and WhatsApp's 24-hour window. The person's messages come in through the one
Twilio webhook (bot/channels/twilio.py). No message text or number is ever logged.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import Any, Text

from rasa.core.channels.channel import OutputChannel
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot import db, senders
from bot.channels import models, sms
from bot.settings import Settings

logger = logging.getLogger("bot.channels.twilio")  # one log for the Twilio channels: "twilio: ..."
# The twilio library logs each request's URL and headers at INFO: keep it to warnings.
_http_logger = logging.getLogger("bot.channels.twilio.http")
_http_logger.setLevel(logging.WARNING)

CHANNEL = "twilio"
OPTED_OUT = 21610  # Twilio's error: the number replied STOP
WHATSAPP_PREFIX = "whatsapp:"  # how Twilio writes a WhatsApp address: whatsapp:+447700900123


@dataclass(frozen=True)
class TwilioConfig:
    """What the Twilio channels need. SMS is `enabled` when the SID, token, number and webhook
    URL are set; WhatsApp (`whatsapp_enabled`) when its sender is set too."""

    account_sid: str | None
    auth_token: str | None
    number: str | None
    webhook_url: str | None
    api_url: str | None
    database_url: str
    whatsapp_number: str | None = None  # "whatsapp:+447..."
    whatsapp_template_sid: str | None = None  # an approved Content template, "HX..."

    @property
    def enabled(self) -> bool:
        return bool(self.account_sid and self.auth_token and self.number and self.webhook_url)

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(self.account_sid and self.auth_token and self.webhook_url
                    and (self.whatsapp_number or "").startswith(WHATSAPP_PREFIX + "+"))

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
            whatsapp_number=settings.twilio_whatsapp_number,
            whatsapp_template_sid=settings.twilio_whatsapp_template_sid,
        )
        given = {k: str(v) for k, v in (overrides or {}).items() if v not in (None, "") and k in cls.__dataclass_fields__}
        return replace(config, **given)


class TwilioOutput(OutputChannel):
    """Sends SMS through Twilio's REST API, in text-message manners."""

    def __init__(self, config: TwilioConfig) -> None:
        self.config = config
        self._client: Client | None = None
        self.sent = 0  # messages that went out through this output channel
        self.attempted = 0  # replies it was asked to send

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    # --- what differs between SMS and WhatsApp ----------------------------------------------
    @property
    def enabled(self) -> bool:
        return self.config.enabled

    @property
    def from_(self) -> str | None:
        return self.config.number

    def address(self, recipient_id: str) -> str:
        """Twilio's `to`: sms:+44… -> +44…"""
        return senders.address_of(recipient_id)

    def parts(self, text: str) -> list[str]:
        """The messages `text` goes out as: plain GSM-7, at most three."""
        return sms.split(sms.normalise(text))

    # --- sending ---------------------------------------------------------------------------
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
        """False if the number opted out; else remembers the options being sent. With the
        database down it says True: Twilio itself never delivers to a number that sent STOP
        (error 21610), and an apology must still get out."""
        with db.session_factory(self.config.database_url)() as session, session.begin():
            if models.is_opted_out(recipient_id, session=session):
                return False
            if payloads:
                models.save_menu(recipient_id, payloads, session=session)
            return True

    def _record_opt_out(self, recipient_id: str) -> None:
        with db.session_factory(self.config.database_url)() as session, session.begin():
            models.opt_out(recipient_id, session=session)

    async def create(self, recipient_id: str, **message: str) -> bool:
        """One message through Twilio (`body=`, or `content_sid=` for a template); whether
        Twilio took it. A refusal because the number sent STOP is recorded as an opt-out."""
        try:
            await self.client().messages.create_async(to=self.address(recipient_id), from_=self.from_, **message)
        except TwilioRestException as error:
            logger.warning("%s: a message was not sent (Twilio error %s, HTTP %s)", self.name(), error.code, error.status)
            if error.code == OPTED_OUT:
                try:
                    await asyncio.to_thread(self._record_opt_out, recipient_id)
                except Exception as db_error:  # noqa: BLE001
                    logger.warning("twilio: an opt-out could not be recorded (%s)", type(db_error).__name__)
            return False
        except Exception as error:  # noqa: BLE001 - network: counted as not sent
            logger.warning("%s: a message was not sent (%s)", self.name(), type(error).__name__)
            return False
        self.sent += 1
        return True

    async def send_text(self, recipient_id: str, text: str, payloads: list[str] | None = None) -> int:
        """`text` in its parts, unless the number opted out (options remembered first)."""
        try:
            allowed = await asyncio.to_thread(self._prepare, recipient_id, payloads)
        except Exception as error:  # noqa: BLE001 - Twilio still honours STOP
            logger.warning("twilio: opt-outs unavailable (%s); Twilio's own block applies", type(error).__name__)
            allowed = True
        if not allowed:
            logger.info("twilio: not sending to a number that opted out")
            return 0
        sent = 0
        for part in self.parts(text):
            if not await self.create(recipient_id, body=part):
                break  # the rest would arrive without its beginning
            sent += 1
        return sent

    async def send_sms(self, recipient_id: Text, text: Text, payloads: list[str] | None = None) -> int:
        """Send `text` to `recipient_id`; returns how many messages went."""
        self.attempted += 1
        if not self.enabled:
            logger.warning("%s: the channel is not configured; a reply was dropped", self.name())
            return 0
        return await self.send_text(recipient_id, text, payloads)

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
        logger.debug("%s: custom JSON is not sent", self.name())
