"""Lunchkafé's wiring: the app, the command line, the demo data and running the migrations.
Everything else lives in the layers below (README, "Architecture")."""
