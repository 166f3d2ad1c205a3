"""Callback referrals and live-handoff cases for helpline staff."""
