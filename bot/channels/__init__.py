"""Rasa input channels of ours: the web chat (here), SMS and Telegram."""
