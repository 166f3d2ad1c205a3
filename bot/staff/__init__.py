"""Helpline staff: their accounts, roles and login sessions, and the audit log of what they did."""
