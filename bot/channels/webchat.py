"""The web chat channel: Rasa's REST protocol, made safe for the public, plus a way for a
helpline worker's replies to reach the page.

    POST /webhooks/webchat/session                          -> {"sender": "wc:…"} (a new id)
    POST /webhooks/webchat/webhook   {"sender": "wc:…", "message": "..."} -> the bot's replies
    POST /webhooks/webchat/poll      {"sender": "wc:…"}                   -> a worker's replies

A web page cannot be pushed to, so when a worker replies from the console (through Rasa's
HTTP API with `output_channel=latest`), this channel's output channel queues the reply in
the database and the page collects it by polling. Differences from Rasa's REST channel:
the sender id is issued by this server and signed (bot/senders.py), and the webhook and the
poll refuse, with 403 and without reading anything, any id it did not issue (a Telegram chat
id, a phone number, a made-up id): the id is the only key to the conversation. The input
channel cannot be chosen by the client, messages are capped in length, Rasa's own commands
(/restart, /session_start, /back) are refused, because /restart would un-pause a
conversation a worker has taken (RASA_NOTES), and issuing, messages and polls are limited
per client address (behind TRUSTED_PROXIES: the address they forward) with 429 or a kind
reply (bot/channels/limits.py). The poll is a POST, so the id is never in a URL or a log.
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import db, senders, texts
from bot.channels import limits, turn
from bot.net import client_address, trusted_networks
from bot.referrals import cases
from bot.settings import Settings

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000
# Rasa's built-in intents that change the conversation's state rather than ask anything, and
# the intents only our own code may trigger through Rasa's API (EXTERNAL_*: the live-chat sweep).
BLOCKED_COMMANDS = re.compile(r"^\s*/(restart|session_start|back|action_\w+|external_\w+)\b", re.IGNORECASE)


def forbidden() -> HTTPResponse:
    return response.json({"error": "unknown conversation: get an id from /webhooks/webchat/session"}, status=403)


def clean_message(text: Any) -> str | None:
    """The message as Rasa should see it, or None if it is not a message at all."""
    if not isinstance(text, str):
        return None
    text = text.strip()[:MAX_MESSAGE_CHARS]
    if BLOCKED_COMMANDS.match(text):
        text = text.lstrip().lstrip("/")  # read as words, never as a command
    return text or None


class OutboxOutput(OutputChannel):
    """Queues messages for the page to collect (used for workers' replies)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    @classmethod
    def name(cls) -> Text:
        return WebChatInput.name()

    def _queue(self, recipient_id: str, text: str) -> None:
        with db.session_factory(self.database_url)() as session, session.begin():
            cases.queue_outbox(recipient_id, text, session=session)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in text.strip().split("\n\n"):
            await asyncio.to_thread(self._queue, recipient_id, part)


class WebChatInput(InputChannel):
    """Rasa input channel `webchat` (credentials.yml: bot.channels.webchat.WebChatInput)."""

    def __init__(self, database_url: str | None = None, secret: str | None = None) -> None:
        settings = Settings.from_env()
        self.database_url = database_url or settings.database_url
        self.secret = secret or settings.secret("webchat")
        self.trusted = trusted_networks(settings.trusted_proxies)
        self.limits = limits.Limits.from_settings(settings)
        texts.require(turn.CANNOT_ANSWER)  # at start-up: no domain, no channel

    @classmethod
    def name(cls) -> Text:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> "WebChatInput":
        credentials = credentials or {}
        return cls(credentials.get("database_url"), credentials.get("secret"))

    def get_output_channel(self) -> OutputChannel:
        return OutboxOutput(self.database_url)

    def _take(self, sender_id: str) -> list[str]:
        with db.session_factory(self.database_url)() as session, session.begin():
            return cases.take_outbox(sender_id, session=session)

    def client(self, request: Request) -> str:
        """The client's address (X-Forwarded-For believed only from TRUSTED_PROXIES)."""
        return client_address(request.ip, request.headers.get("X-Forwarded-For"), self.trusted)

    def issued(self, sender: Any) -> bool:
        return senders.verify(sender, self.secret)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webchat = Blueprint("webchat_webhook", __name__)

        @webchat.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webchat.route("/session", methods=["POST"])
        async def session(request: Request) -> HTTPResponse:
            if not await self.limits.allow_session(self.client(request)):
                return response.json({"error": "too many new conversations; try again in a minute"}, status=429)
            return response.json({"sender": senders.issue(self.secret)})

        @webchat.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else {}
            sender = body.get("sender")
            if not self.issued(sender):
                return forbidden()
            text = clean_message(body.get("message"))
            if text is None:
                return response.json({"error": "message must be some text"}, status=400)
            refusal = await self.limits.refusal(self.name(), sender, body.get("message"), self.client(request))
            if refusal:
                return response.json([{"recipient_id": sender, "text": refusal}])
            collector = CollectingOutputChannel()
            message = UserMessage(text, collector, sender, input_channel=self.name(), metadata=None)
            await turn.answer(on_new_message, message, request.app, self.database_url)
            return response.json(collector.messages)

        @webchat.route("/poll", methods=["POST"])
        async def poll(request: Request) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else {}
            sender = body.get("sender")
            if not self.issued(sender):
                return forbidden()
            if not await self.limits.allow_poll(sender, self.client(request)):
                return response.json({"error": "polling too often"}, status=429)
            replies = await asyncio.to_thread(self._take, sender)
            return response.json([{"recipient_id": sender, "text": text, "from": "worker"} for text in replies])

        return webchat
