"""The service directory (Open Referral UK shaped): models, search, import and export, editing."""
from bot.directory import changes  # noqa: F401  (registers the listeners that keep modified_at and coordinates current)
