"""Organisers: accounts, roles, sign-in sessions, personal access tokens and the audit log."""
