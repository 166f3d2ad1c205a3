"""The web chat channel: Rasa's REST protocol, made safe for the public, plus a way for a
helpline worker's replies to reach the page.

    POST /webhooks/webchat/webhook   {"sender": "...", "message": "..."} -> the bot's replies
    GET  /webhooks/webchat/poll?sender=...                               -> a worker's replies

A web page cannot be pushed to, so when a worker replies from the console (through Rasa's
HTTP API with `output_channel=latest`), this channel's output channel queues the reply in
the database and the page collects it by polling. Differences from Rasa's REST channel:
the sender id must be a random-looking id the page made (it is the only key to the
conversation), the input channel cannot be chosen by the client, messages are capped in
length, and Rasa's own commands (/restart, /session_start, /back) are refused, because
/restart would un-pause a conversation a worker has taken (RASA_NOTES).
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

from bot import db
from bot.channels import limits
from bot.referrals import cases
from bot.settings import Settings

logger = logging.getLogger(__name__)

SENDER_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_MESSAGE_CHARS = 2000
# Rasa's built-in intents that change the conversation's state rather than ask anything.
BLOCKED_COMMANDS = re.compile(r"^\s*/(restart|session_start|back|action_\w+)\b", re.IGNORECASE)


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

    def __init__(self, database_url: str | None = None) -> None:
        self.database_url = database_url or Settings.from_env().database_url
        self.limits = limits.Limits.from_env()

    @classmethod
    def name(cls) -> Text:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> "WebChatInput":
        return cls((credentials or {}).get("database_url"))

    def get_output_channel(self) -> OutputChannel:
        return OutboxOutput(self.database_url)

    def _take(self, sender_id: str) -> list[str]:
        with db.session_factory(self.database_url)() as session, session.begin():
            return cases.take_outbox(sender_id, session=session)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webchat = Blueprint("webchat_webhook", __name__)

        @webchat.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webchat.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else {}
            sender = body.get("sender")
            if not isinstance(sender, str) or not SENDER_RE.match(sender):
                return response.json({"error": "sender must be 8-64 letters, digits, - or _"}, status=400)
            text = clean_message(body.get("message"))
            if text is None:
                return response.json({"error": "message must be some text"}, status=400)
            refusal = await self.limits.refusal(self.name(), sender, body.get("message"))
            if refusal:
                return response.json([{"recipient_id": sender, "text": refusal}])
            collector = CollectingOutputChannel()
            message = UserMessage(text, collector, sender, input_channel=self.name(), metadata=None)
            await limits.answer(on_new_message, message, request.app)
            return response.json(collector.messages)

        @webchat.route("/poll", methods=["GET"])
        async def poll(request: Request) -> HTTPResponse:
            sender = request.args.get("sender", "")
            if not SENDER_RE.match(sender):
                return response.json({"error": "sender must be 8-64 letters, digits, - or _"}, status=400)
            texts = await asyncio.to_thread(self._take, sender)
            return response.json([{"recipient_id": sender, "text": text, "from": "worker"} for text in texts])

        return webchat
