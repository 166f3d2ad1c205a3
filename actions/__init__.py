"""Rasa SDK actions: thin glue over the bot package."""
