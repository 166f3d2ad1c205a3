"""Telegram through python-telegram-bot: a Rasa input channel that authenticates every update.

    POST /webhooks/telegram/webhook   (a Telegram Update, JSON) -> 200

- Telegram sends the secret given to setWebhook in `X-Telegram-Bot-Api-Secret-Token`;
  a missing or wrong one gets 403 and nothing is read (Rasa's own connector authenticates
  nothing, RASA_NOTES).
- Text messages in private chats and inline-keyboard presses (callback queries, whose data is
  the button's payload) go to Rasa; anything else (edited messages, photos, group chats,
  channel posts...) is acknowledged and ignored.
- `/start` runs the greeting through Rasa (`/greet`), `/help` asks what the bot can do
  (`/ask_capabilities`); any other slash text is read as words, never as a Rasa command
  (a typed /restart would un-pause a conversation a worker has taken).
- Each update_id is taken once (`channel_delivery`, unique): Telegram's retries are ignored.
- Replies use `Bot.send_message`; buttons become an `InlineKeyboardMarkup` (callback_data =
  payload, at most 64 bytes). The sender id is `tg:<chat id>` (bot/senders.py: an id that
  carries its channel cannot be used on the web chat). Workers' replies through Rasa's
  HTTP API (`output_channel=latest`) go out the same way.
- Off (503 to everything, one log line) unless TELEGRAM_BOT_TOKEN and
  TELEGRAM_WEBHOOK_SECRET are set (or given in credentials.yml).
"""
from __future__ import annotations

import asyncio
import hmac
import logging
import re
from dataclasses import dataclass, replace
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.request import HTTPXRequest

from bot import db, senders, texts
from bot.channels import limits, models, sms, turn
from bot.channels.webchat import MAX_MESSAGE_CHARS, clean_message
from bot.settings import Settings

logger = logging.getLogger(__name__)
# httpx logs every request's URL at INFO, and a Bot API URL contains the bot's token.
logging.getLogger("httpx").setLevel(logging.WARNING)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]
CALLBACK_DATA_BYTES = 64
MESSAGE_CHARS = 4096  # Telegram's limit for one message
COMMAND = re.compile(r"^/(\w+)(?:@\w+)?(?:\s|$)")
# Telegram's commands, as the Rasa messages they stand for.
COMMANDS = {"start": "/greet", "help": "/ask_capabilities"}
# The bot's command menu: each command and the response (domain.yml) describing it.
MENU = {"start": "utter_telegram_menu_start", "help": "utter_telegram_menu_help"}


@dataclass(frozen=True)
class TelegramConfig:
    """What the Telegram channel needs; `enabled` only with a token and a webhook secret."""

    bot_token: str | None
    webhook_secret: str | None
    webhook_url: str | None
    api_url: str | None
    database_url: str

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token and self.webhook_secret)

    @classmethod
    def from_settings(cls, settings: Settings, overrides: dict[str, Any] | None = None) -> "TelegramConfig":
        """From the environment (bot.settings), with any credentials.yml values on top."""
        config = cls(
            bot_token=settings.telegram_bot_token,
            webhook_secret=settings.telegram_webhook_secret,
            webhook_url=settings.telegram_webhook_url,
            api_url=settings.telegram_api_url,
            database_url=settings.database_url,
        )
        given = {k: str(v) for k, v in (overrides or {}).items() if v not in (None, "") and k in cls.__dataclass_fields__}
        return replace(config, **given)

    def make_bot(self) -> Bot:
        """A python-telegram-bot Bot for this token (and API URL, when one is set)."""
        request = HTTPXRequest(connection_pool_size=16, pool_timeout=10.0)
        kwargs: dict[str, Any] = {"request": request}
        if self.api_url:
            kwargs["base_url"] = self.api_url
        return Bot(self.bot_token or "", **kwargs)


def bot_commands() -> list[tuple[str, str]]:
    """The command menu Telegram shows: (command, description) pairs."""
    return [(command, texts.text(response, CHANNEL)) for command, response in MENU.items()]


def keyboard(buttons: list[dict[str, Any]]) -> InlineKeyboardMarkup | None:
    """Rasa buttons as an inline keyboard, one button a row (payloads over 64 bytes are dropped)."""
    rows = []
    for button in buttons:
        title = str(button.get("title") or "").strip()
        payload = str(button.get("payload") or title)
        if not title or len(payload.encode("utf-8")) > CALLBACK_DATA_BYTES:
            logger.warning("telegram: dropped a button whose payload is empty or over 64 bytes")
            continue
        rows.append([InlineKeyboardButton(title, callback_data=payload)])
    return InlineKeyboardMarkup(rows) if rows else None


class TelegramOutput(OutputChannel):
    """Sends messages with the Bot API's sendMessage."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    async def _send(self, recipient_id: Text, text: Text, markup: InlineKeyboardMarkup | None = None) -> None:
        parts = sms.split(text, limit=MESSAGE_CHARS, max_parts=50) if len(text) > MESSAGE_CHARS else [text]
        address = senders.address_of(str(recipient_id))  # tg:<chat id> -> <chat id>
        chat_id: int | str = int(address) if re.fullmatch(r"-?\d+", address) else address
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            try:
                await self.bot.send_message(chat_id=chat_id, text=part, reply_markup=markup if last else None)
            except TelegramError as error:
                logger.warning("telegram: a message was not sent (%s)", type(error).__name__)
                return

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._send(recipient_id, text, keyboard(buttons))

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_custom_json(self, recipient_id: Text, json_message: dict[str, Any], **kwargs: Any) -> None:
        logger.debug("telegram: custom JSON is not sent")


def message_for_rasa(update: Update) -> tuple[str, str] | None:
    """(chat id, text for Rasa) for an update we answer, or None for one we ignore."""
    if update.callback_query is not None:
        query = update.callback_query
        chat = query.message.chat if query.message is not None else None
        if chat is not None and chat.type != "private":
            return None
        chat_id = chat.id if chat is not None else query.from_user.id
        # callback_data can be forged by a modified client: never a Rasa command.
        text = clean_message(query.data)
        return (str(chat_id), text) if text else None
    message = update.message
    if message is None or message.chat.type != "private" or not message.text:
        return None
    text = message.text.strip()
    command = COMMAND.match(text)
    if command and command.group(1).lower() in COMMANDS:
        return str(message.chat.id), COMMANDS[command.group(1).lower()]
    # Typed text is read as words: nobody can send Rasa an intent or a command.
    text = clean_message(text[:MAX_MESSAGE_CHARS].lstrip("/"))
    return (str(message.chat.id), text) if text else None


class TelegramInput(InputChannel):
    """Rasa input channel `telegram` (credentials.yml: bot.channels.telegram.TelegramInput)."""

    def __init__(self, config: TelegramConfig) -> None:
        self.config = config
        self._bot: Bot | None = None
        self.limits = limits.Limits.from_env()  # per sender and global (the address is Telegram's)
        texts.require(turn.CANNOT_ANSWER)  # at start-up: no domain, no channel
        if not config.enabled:
            logger.info(
                "telegram: channel off (set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET to turn it on); "
                "its webhook answers 503"
            )

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> "TelegramInput":
        return cls(TelegramConfig.from_settings(Settings.from_env(), credentials))

    @property
    def bot(self) -> Bot:
        if self._bot is None:
            self._bot = self.config.make_bot()
        return self._bot

    def get_output_channel(self) -> OutputChannel:
        return TelegramOutput(self.bot)

    def _claim(self, update_id: int) -> bool:
        with db.session_factory(self.config.database_url)() as session, session.begin():
            return models.claim_delivery(CHANNEL, str(update_id), session=session)

    def _authentic(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        return bool(given) and hmac.compare_digest(given.encode(), (self.config.webhook_secret or "").encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram = Blueprint("telegram_webhook", __name__)

        @telegram.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.config.enabled else "off"})

        @telegram.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.config.enabled:
                return response.text("Telegram channel not configured", status=503)
            if not self._authentic(request):
                logger.warning("telegram: refused an update without the right secret token")
                return response.text("Forbidden", status=403)
            try:
                data = request.json
                update = Update.de_json(data, self.bot) if isinstance(data, dict) else None
            except Exception:  # noqa: BLE001 - any malformed update
                update = None
            if update is None:
                logger.warning("telegram: ignored a request that is not an update")
                return response.json({"ok": False}, status=400)
            if not await asyncio.to_thread(self._claim, update.update_id):
                logger.info("telegram: update %s already taken; ignored", update.update_id)
                return response.json({"ok": True})

            if update.callback_query is not None:
                try:
                    await self.bot.answer_callback_query(update.callback_query.id)  # stop the button's spinner
                except TelegramError as error:
                    logger.warning("telegram: could not answer a button press (%s)", type(error).__name__)
            incoming = message_for_rasa(update)
            if incoming is None:
                return response.json({"ok": True})
            chat_id, text = incoming
            sender = senders.telegram(chat_id)
            typed = update.message.text if update.message is not None else text
            refusal = await self.limits.refusal(CHANNEL, sender, typed or "")
            if refusal:
                await TelegramOutput(self.bot).send_text_message(sender, refusal)
                return response.json({"ok": True})
            try:
                await turn.answer(
                    on_new_message,
                    UserMessage(
                        text, TelegramOutput(self.bot), sender, input_channel=CHANNEL,
                        message_id=str(update.update_id), metadata=None,
                    ),
                    request.app,
                    self.config.database_url,
                )
            except Exception as error:  # noqa: BLE001 - Telegram must get its 200; no text in the log
                logger.error("telegram: update %s could not be handled (%s)", update.update_id, type(error).__name__)
            return response.json({"ok": True})

        return telegram
