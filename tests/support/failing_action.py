"""Fault injection for tests/prod/test_logs.py, imported by the action server before the
actions (`Servers(actions_imports=...)`): the service directory search raises an error whose
text quotes a person (as a library's error might), so action_search_services fails."""
from bot.directory import search

LEAKY_ERROR = "lookup failed for Bronwen Tregarthen on 07912 345 678"


def _broken(*args, **kwargs):
    raise RuntimeError(LEAKY_ERROR)


search.search_services = _broken
