"""Fixtures for the console tests; they and the helpers live in console_support.py, a module
with its own name (several directories have a conftest.py, so `from conftest import ...` is ambiguous)."""
from console_support import *  # noqa: F401,F403  (fixtures are registered by name)
