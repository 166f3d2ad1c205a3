"""Fixtures for the production-shape tests; they and the helpers live in prod_support.py (a
module with its own name: `from conftest import ...` is ambiguous across directories)."""
from prod_support import *  # noqa: F401,F403  (fixtures are registered by name)
