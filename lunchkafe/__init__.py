"""Lunchkafé's wiring: the app, the command line, the demo data, the OpenAPI document and
running the migrations. Everything else lives in the layers below (README, "Architecture")."""
