"""Channel commands for the `bot` CLI (wired in bot/cli.py):

    bot telegram set-webhook URL      -> telegram_set_webhook(url)
    bot telegram webhook-info         -> telegram_webhook_info()
    bot telegram delete-webhook       -> telegram_delete_webhook()
    bot channels prune                -> prune_deliveries(days)

Each is a plain function returning something printable; settings come from the environment.
"""
from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot import db
from bot.channels import models
from bot.channels.telegram import ALLOWED_UPDATES, TelegramConfig, bot_commands
from bot.settings import Settings

WEBHOOK_PATH = "/webhooks/telegram/webhook"


class ChannelNotConfigured(RuntimeError):
    """A setting the command needs is missing."""


def _telegram(settings: Settings | None) -> TelegramConfig:
    config = TelegramConfig.from_settings(settings or Settings.from_env())
    if not config.enabled:
        raise ChannelNotConfigured("set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET first")
    return config


def webhook_url(base_or_url: str) -> str:
    """The webhook URL for "https://host" or the full ".../webhooks/telegram/webhook"."""
    url = base_or_url.rstrip("/")
    return url if url.endswith(WEBHOOK_PATH) else url + WEBHOOK_PATH


async def _set_webhook(config: TelegramConfig, url: str, drop_pending_updates: bool) -> dict[str, Any]:
    async with config.make_bot() as bot:
        await bot.set_webhook(
            url, secret_token=config.webhook_secret, allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=drop_pending_updates,
        )
        await bot.set_my_commands(bot_commands())
        info = await bot.get_webhook_info()
        return {"url": info.url, "pending_update_count": info.pending_update_count, "allowed_updates": list(info.allowed_updates or ())}


def telegram_set_webhook(url: str | None = None, drop_pending_updates: bool = False, settings: Settings | None = None) -> dict[str, Any]:
    """Point Telegram at our webhook (with the secret token and the updates we read) and
    list /start and /help in the bot's menu. `url` defaults to TELEGRAM_WEBHOOK_URL; a bare
    https://host gets /webhooks/telegram/webhook appended. Telegram requires https."""
    config = _telegram(settings)
    target = url or config.webhook_url
    if not target:
        raise ChannelNotConfigured("give the public URL, or set TELEGRAM_WEBHOOK_URL")
    return asyncio.run(_set_webhook(config, webhook_url(target), drop_pending_updates))


async def _webhook_info(config: TelegramConfig) -> dict[str, Any]:
    async with config.make_bot() as bot:
        info = await bot.get_webhook_info()
        return {
            "url": info.url,
            "pending_update_count": info.pending_update_count,
            "last_error_message": info.last_error_message,
            "allowed_updates": list(info.allowed_updates or ()),
        }


def telegram_webhook_info(settings: Settings | None = None) -> dict[str, Any]:
    """What Telegram has for our webhook: URL, pending updates, last delivery error."""
    return asyncio.run(_webhook_info(_telegram(settings)))


async def _delete_webhook(config: TelegramConfig) -> bool:
    async with config.make_bot() as bot:
        return await bot.delete_webhook()


def telegram_delete_webhook(settings: Settings | None = None) -> bool:
    """Stop Telegram calling us (updates then wait at Telegram for up to 24 hours)."""
    return asyncio.run(_delete_webhook(_telegram(settings)))


def prune_deliveries(days: int = 7, settings: Settings | None = None) -> int:
    """Forget provider message ids older than `days` days; returns how many went."""
    settings = settings or Settings.from_env()
    with db.session_factory(settings.database_url)() as session, session.begin():
        return models.prune_deliveries(timedelta(days=days), session=session)
