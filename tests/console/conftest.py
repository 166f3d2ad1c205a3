"""Fixtures for the console tests (tests/support/console.py, shared with other suites)."""
from tests.support.console import *  # noqa: F401,F403  (fixtures are registered by name)
