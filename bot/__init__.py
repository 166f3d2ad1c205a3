"""Families Connect: the product code behind the Rasa assistant."""
