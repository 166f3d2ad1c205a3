"""Fixtures for the production-shape tests (tests/support/prod.py)."""
from tests.support.prod import *  # noqa: F401,F403  (fixtures are registered by name)
