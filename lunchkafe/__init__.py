"""Lunchkafé: wiring for settings, database, the web app, the command line and i18n."""
